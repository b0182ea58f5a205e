"""Regression at the seed's best hyperparameters (MLP 1->216->154->1, ReLU, MSE, RMSprop lr 0.00137,
weight decay 7.5e-5, batch 10), the PyTorch reference for the Go regression side.

  --bench epoch  (c) time of one training epoch over 80 samples (a 5-fold training split),
                 averaged over --epochs epochs after one warm-up epoch.
  --bench cv     (d) 5-fold cross-validation, 180 epochs per fold, on train_data.csv; each fold's
                 validation MSE and test MSE, and the test MSE of the mean of the 5 models.
Prints one JSON line:
  /usr/bin/python3 bench/pytorch/regression.py --bench epoch
  /usr/bin/python3 bench/pytorch/regression.py --bench cv
"""

import argparse

import common  # first: it sets the threading environment before torch loads
import torch
from torch import nn


def kfold(n, k, generator):
    """k (train, validation) index pairs over a shuffled 0..n-1, the first n%k folds one larger,
    like sklearn's KFold(shuffle=True)."""
    order = torch.randperm(n, generator=generator)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    folds, start = [], 0
    for size in sizes:
        val = order[start : start + size]
        train = torch.cat([order[:start], order[start + size :]])
        folds.append((train, val))
        start += size
    return folds


def new_model_and_opt():
    model = common.mlp()
    opt = torch.optim.RMSprop(model.parameters(), lr=common.REG_LR, weight_decay=common.REG_WEIGHT_DECAY)
    return model, opt


def mse(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


def bench_epoch(epochs, seed):
    x, y = common.regression_csv("train_data.csv")
    g = torch.Generator().manual_seed(seed)
    train, _ = kfold(len(x), 5, g)[0]
    x, y = x[train], y[train]
    model, opt = new_model_and_opt()
    loss_fn = nn.MSELoss()
    common.train_epoch(model, opt, loss_fn, x, y, common.REG_BATCH, g)  # warm-up
    with common.Timer() as t:
        for _ in range(epochs):
            common.train_epoch(model, opt, loss_fn, x, y, common.REG_BATCH, g)
    common.report("regression_epoch", samples=len(x), batch=common.REG_BATCH, epochs=epochs,
                  epoch_ms=round(1000 * t.seconds / epochs, 3), epoch_cpu_ms=round(1000 * t.cpu / epochs, 3))


def bench_cv(epochs, k, seed):
    x, y = common.regression_csv("train_data.csv")
    x_test, y_test = common.regression_csv("test_data.csv")
    g = torch.Generator().manual_seed(seed)
    loss_fn = nn.MSELoss()
    val_mse, test_mse, preds = [], [], []
    with common.Timer() as t:
        for train, val in kfold(len(x), k, g):
            model, opt = new_model_and_opt()
            for _ in range(epochs):
                common.train_epoch(model, opt, loss_fn, x[train], y[train], common.REG_BATCH, g)
            val_mse.append(mse(model, x[val], y[val]))
            test_mse.append(mse(model, x_test, y_test))
            model.eval()
            with torch.no_grad():
                preds.append(model(x_test))
    ensemble = nn.functional.mse_loss(torch.stack(preds).mean(0), y_test).item()
    common.report("regression_cv", folds=k, epochs=epochs, batch=common.REG_BATCH, seed=seed,
                  seconds=round(t.seconds, 3), cpu_s=round(t.cpu, 3),
                  val_mse=[round(v, 4) for v in val_mse], test_mse=[round(v, 4) for v in test_mse],
                  mean_ensemble_test_mse=round(ensemble, 4))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", choices=["epoch", "cv"], required=True)
    p.add_argument("--epochs", type=int, default=None, help="epoch: epochs to average (default 180); cv: epochs per fold (default 180)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    epochs = args.epochs if args.epochs is not None else common.REG_EPOCHS
    if epochs < 1 or args.folds < 2:
        common.fail("--epochs must be positive and --folds at least 2")
    common.setup(args.seed)
    if args.bench == "epoch":
        bench_epoch(epochs, args.seed)
    else:
        bench_cv(epochs, args.folds, args.seed)


if __name__ == "__main__":
    main()
