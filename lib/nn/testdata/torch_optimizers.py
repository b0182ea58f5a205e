"""Reference trajectories of torch.optim for lib/nn's optimizer parity test.

Builds a 3->4->2 MLP with tanh (fixed initial weights), trains it for 20
full-batch steps on fixed data with each optimizer, with and without momentum
and weight decay, in float64, and writes every parameter after every step to
optimizer_parity.json. Weights are written in the Go layout: Linear weights
transposed to [in, out], flattened row-major.

Regenerate (Debian's python3 has torch; the pyenv one does not):
    /usr/bin/python3 lib/nn/testdata/torch_optimizers.py
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
STEPS = 20

x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 0.1], [2.2, -1.3, 0.4],
                  [-1.1, -0.4, 1.6], [0.0, 1.9, -2.1], [0.9, 0.9, 0.9], [-1.7, 0.2, -0.3]])
y = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.7, 0.4], [0.1, 0.9],
                  [0.6, -1.2], [-0.4, 0.0], [1.3, 0.5], [-0.9, -0.1]])
labels = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])

initial = {
    "hidden_0/weights": [[0.31, -0.42, 0.17, 0.05], [-0.23, 0.11, 0.38, -0.29], [0.07, 0.26, -0.15, 0.44]],  # [in=3, out=4]
    "hidden_0/biases": [0.02, -0.13, 0.09, 0.21],
    "output/weights": [[0.35, -0.18], [-0.27, 0.41], [0.12, 0.08], [-0.33, -0.22]],  # [in=4, out=2]
    "output/biases": [-0.05, 0.14],
}


def build():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(initial["hidden_0/weights"]).T)
        net[0].bias.copy_(torch.tensor(initial["hidden_0/biases"]))
        net[2].weight.copy_(torch.tensor(initial["output/weights"]).T)
        net[2].bias.copy_(torch.tensor(initial["output/biases"]))
    return net


def params(net):
    return {
        "hidden_0/weights": net[0].weight.detach().T.reshape(-1).tolist(),
        "hidden_0/biases": net[0].bias.detach().tolist(),
        "output/weights": net[2].weight.detach().T.reshape(-1).tolist(),
        "output/biases": net[2].bias.detach().tolist(),
    }


CASES = [
    ("sgd", "SGD", 0.1, 0.0, 0.0, "mse"),
    ("sgd_momentum", "SGD", 0.1, 0.9, 0.0, "mse"),
    ("sgd_momentum_wd", "SGD", 0.1, 0.9, 0.05, "mse"),
    ("sgd_wd", "SGD", 0.1, 0.0, 0.05, "mse"),
    ("adam", "Adam", 0.01, 0.0, 0.0, "mse"),
    ("adam_wd", "Adam", 0.01, 0.0, 0.05, "mse"),
    ("rmsprop", "RMSprop", 0.01, 0.0, 0.0, "mse"),
    ("rmsprop_momentum", "RMSprop", 0.01, 0.9, 0.0, "mse"),
    ("rmsprop_momentum_wd", "RMSprop", 0.01, 0.9, 0.05, "mse"),
    ("adam_cross_entropy", "Adam", 0.02, 0.0, 0.01, "cross_entropy"),
    ("sgd_cross_entropy", "SGD", 0.5, 0.5, 0.0, "cross_entropy"),
]

cases = []
for name, opt_name, lr, momentum, wd, loss_name in CASES:
    net = build()
    if opt_name == "SGD":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    elif opt_name == "Adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd)
    else:
        opt = torch.optim.RMSprop(net.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    trajectory, losses = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        out = net(x)
        if loss_name == "mse":
            loss = torch.nn.functional.mse_loss(out, y)
        else:
            loss = torch.nn.functional.cross_entropy(out, labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        trajectory.append(params(net))
    cases.append({"name": name, "optimizer": opt_name, "learning_rate": lr, "momentum": momentum,
                  "weight_decay": wd, "loss": loss_name, "losses": losses, "trajectory": trajectory})

out = {
    "generator": "lib/nn/testdata/torch_optimizers.py",
    "torch": torch.__version__,
    "x": x.tolist(), "y": y.tolist(), "labels": labels.tolist(),
    "initial": {k: torch.tensor(v).reshape(-1).tolist() for k, v in initial.items()},
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer_parity.json")
with open(path + ".tmp", "w") as f:
    json.dump(out, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", path)
