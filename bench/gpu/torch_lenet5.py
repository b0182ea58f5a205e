# One LeNet5 training epoch (60k Fashion-MNIST, batch 64, Adam) on the GPU with
# PyTorch, the seed's architecture, for comparison with hw1 on XLA CUDA.
import gzip, json, sys, time
import numpy as np, torch, torch.nn as nn

def idx(path, off):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=off)

x = torch.tensor(idx("bench/gpu/train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
y = torch.tensor(idx("bench/gpu/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
xt = torch.tensor(idx("bench/gpu/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
yt = torch.tensor(idx("bench/gpu/t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
dev = torch.device("cuda")
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Dropout(0.41), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Dropout(0.24),
                    nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)).to(dev)
opt = torch.optim.Adam(net.parameters(), lr=0.00214, weight_decay=5.5e-5)
loss_fn = nn.CrossEntropyLoss()
ds = torch.utils.data.TensorDataset(x, y)
res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
for epoch in range(3):
    dl = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
    torch.cuda.synchronize(); t0 = time.perf_counter()
    net.train()
    for xb, yb in dl:
        xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
        opt.zero_grad(); l = loss_fn(net(xb), yb); l.backward(); opt.step()
    torch.cuda.synchronize(); res[f"epoch{epoch+1}_seconds"] = time.perf_counter() - t0
net.eval()
with torch.no_grad():
    torch.cuda.synchronize(); t0 = time.perf_counter()
    acc = (net(xt.to(dev)).argmax(1).cpu() == yt).float().mean().item()
    torch.cuda.synchronize(); res["eval10k_seconds"] = time.perf_counter() - t0
res["test_accuracy_after_3_epochs"] = acc
print(json.dumps(res))
