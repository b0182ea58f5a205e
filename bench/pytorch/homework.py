"""How long the whole homework takes with Optuna + PyTorch, the reference for `bench/go homework`.

(h) The seed preset of lib/homework (Preset(task, "seed")): a 500-trial regression study (epochs
100..1000, the 80/20 holdout) then 5-fold CV at its best hyperparameters, and a 300-trial
classification study (epochs 10..100, the stratified 10k/5k subset) then 10-fold CV over the 60k
training images. Runs the first --regression-trials (50) and --classification-trials (20) trials of
each study (study.py's and classification_study.py's objectives, TPESampler(seed=42) +
MedianPruner(), the preset's seed) and one fold of each CV: fold 1 of the project's k-fold split
(gosplit.kfold, the same examples), trained at the best trial's hyperparameters for its epochs with
the fold's held-out part scored after every epoch, as lib/cv does, then scored on the test set.
Then extrapolates the full run: trial time x 500/50 (300/20) + fold time x 5 (10), in hours.

The extrapolation is linear in the trials (later trials are pruned more often, TPE's own cost
grows): an estimate of the order of magnitude. Smoke runs: --regression-trials 2
--classification-trials 2 --max-epochs 1 --cv-epochs 1 --cv-train 6000. Prints one JSON line:
  /usr/bin/python3 bench/pytorch/homework.py
"""

import argparse

import common  # first: it sets the threading environment before torch loads
import classification_study
import gosplit
import lenet5
import study as regression_study
import torch
from torch import nn

# lib/homework's seed preset (config.go).
SEED = 42
REGRESSION = dict(trials=500, epochs=(100, 1000), folds=5)
CLASSIFICATION = dict(trials=300, epochs=(10, 100), folds=10)


def capped(epochs, cap):
    return (min(epochs[0], cap), min(epochs[1], cap)) if cap > 0 else epochs


def fold_regression(params, epochs_range, x, y, x_test, y_test, folds, seed, cv_epochs):
    """Fold 1 of the regression CV: returns the JSON fields of the fold."""
    loss_fn = nn.MSELoss()
    with common.Timer() as t:
        train, val = (torch.tensor(i) for i in gosplit.kfold(len(x), folds, seed)[0])
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        model, opt, batch, epochs = regression_study.build_opt_model(params, epochs_range)
        epochs = cv_epochs or epochs
        for _ in range(epochs):
            common.train_epoch(model, opt, loss_fn, x[train], y[train], batch, g)
            val_loss = mse(model, x[val], y[val])
        test_loss = mse(model, x_test, y_test)
    return dict(fold_s=round(t.seconds, 3), fold_cpu_s=round(t.cpu, 3), fold_epochs=epochs, fold_train=len(train),
                fold_val_loss=round(val_loss, 4), fold_test_loss=round(test_loss, 4))


def mse(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


def fold_classification(params, epochs_range, x, y, x_test, y_test, folds, seed, cv_epochs, cv_train):
    """Fold 1 of the classification CV (over a stratified subset of cv_train images when > 0, as
    the project's cv_train): returns the JSON fields of the fold."""
    loss_fn = nn.CrossEntropyLoss()
    with common.Timer() as t:
        if 0 < cv_train < len(x):
            subset, _ = gosplit.stratified_subset(y.tolist(), cv_train, 0, seed)
            subset = torch.tensor(subset)
            x, y = x[subset], y[subset]
        train, val = (torch.tensor(i) for i in gosplit.kfold(len(x), folds, seed)[0])
        x_train, y_train, x_val, y_val = x[train], y[train], x[val], y[val]
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        model, opt, batch, epochs = classification_study.build_opt_model(params, epochs_range)
        epochs = cv_epochs or epochs
        for _ in range(epochs):
            common.train_epoch(model, opt, loss_fn, x_train, y_train, batch, g)
            val_loss, val_acc = lenet5.evaluate(model, x_val, y_val, classification_study.EVAL_BATCH)
        test_loss, test_acc = lenet5.evaluate(model, x_test, y_test, classification_study.EVAL_BATCH)
    return dict(fold_s=round(t.seconds, 3), fold_cpu_s=round(t.cpu, 3), fold_epochs=epochs, fold_train=len(train),
                fold_val_loss=round(val_loss, 4), fold_val_accuracy=round(val_acc, 4),
                fold_test_loss=round(test_loss, 4), fold_test_accuracy=round(test_acc, 4))


def extrapolate(task, preset, st, fold):
    """The task's fields: what was measured and the seed run extrapolated."""
    scale = preset["trials"] / st["trials"]
    seed_s = st["seconds"] * scale + fold["fold_s"] * preset["folds"]
    seed_cpu = st["cpu_s"] * scale + fold["fold_cpu_s"] * preset["folds"]
    out = dict(trials=st["trials"], seed_trials=preset["trials"], folds=preset["folds"],
               complete=st["complete"], pruned=st["pruned"], failed=st["failed"], epochs_run=st["epochs_run"],
               study_s=st["seconds"], study_cpu_s=st["cpu_s"], best_value=st["best_value"], best_params=st["best_params"],
               seed_s=round(seed_s, 3), seed_cpu_s=round(seed_cpu, 3), seed_h=round(seed_s / 3600, 3))
    out.update(fold)
    return {f"{task}_{k}": v for k, v in out.items()}, seed_s, seed_cpu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--regression-trials", type=int, default=50)
    p.add_argument("--classification-trials", type=int, default=20)
    p.add_argument("--max-epochs", type=int, default=0, help="cap both ends of the epochs ranges (0: the preset's)")
    p.add_argument("--classification-max-epochs", type=int, default=0,
                   help="cap both ends of the classification's epochs range only (0: --max-epochs)")
    p.add_argument("--cv-epochs", type=int, default=0, help="epochs of the CV folds (0: the best trial's)")
    p.add_argument("--cv-train", type=int, default=0, help="classification CV over this many images (0: all 60k)")
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args()
    if args.regression_trials < 1 or args.classification_trials < 1 or min(args.max_epochs, args.classification_max_epochs, args.cv_epochs, args.cv_train) < 0:
        common.fail("the trial counts must be positive, the other options not negative")

    common.setup(args.seed)
    fields = dict(preset="seed", seed=args.seed, max_epochs=args.max_epochs,
                  classification_max_epochs=args.classification_max_epochs, cv_epochs=args.cv_epochs, cv_train=args.cv_train)

    epochs = capped(REGRESSION["epochs"], args.max_epochs)
    x, y = common.regression_csv("train_data.csv")
    x_test, y_test = common.regression_csv("test_data.csv")
    study, st = regression_study.run_study(x, y, args.regression_trials, *epochs, args.seed)
    fold = fold_regression(study.best_params, epochs, x, y, x_test, y_test, REGRESSION["folds"], args.seed, args.cv_epochs)
    f, total, total_cpu = extrapolate("regression", REGRESSION, st, fold)
    fields.update(f, regression_epochs_range=list(epochs))

    epochs = capped(capped(CLASSIFICATION["epochs"], args.max_epochs), args.classification_max_epochs)
    x, y = common.fashion_mnist("train")
    x_test, y_test = common.fashion_mnist("t10k")
    study, st = classification_study.run_study(x, y, args.classification_trials, *epochs, args.seed)
    fold = fold_classification(study.best_params, epochs, x, y, x_test, y_test, CLASSIFICATION["folds"], args.seed,
                               args.cv_epochs, args.cv_train)
    f, s, cpu = extrapolate("classification", CLASSIFICATION, st, fold)
    fields.update(f, classification_epochs_range=list(epochs))

    total, total_cpu = total + s, total_cpu + cpu
    fields.update(seed_total_s=round(total, 3), seed_total_cpu_s=round(total_cpu, 3),
                  seed_total_h=round(total / 3600, 3), seed_total_cpu_h=round(total_cpu / 3600, 3))
    common.report("homework", **fields)


if __name__ == "__main__":
    main()
