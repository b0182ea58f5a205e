"""A classification study with Optuna, the PyTorch reference for the project's (lib/hpo +
lib/homework's classification study, `bench/go study --task classification`).

(g) --trials trials (default 20) of TPESampler(seed) + MedianPruner() (Optuna's defaults otherwise)
over the seed's Listing 2 space, except epochs in [--min-epochs, --max-epochs] (default 1..3, the
quick preset's): dropout_l0 and dropout_l1 0.1..0.5, batch_size 64..256, n_epochs, lr 1e-4..1e-2
(log), weight_decay 1e-4..1e-2 (log), optimizer Adam/SGD/RMSprop, momentum 0..0.9 for SGD only,
asked in that order with lib/homework's names (space.go). The seed's LeNet5 as bench/pytorch/
lenet5.py builds it (common.LeNet5), cross-entropy loss. Each trial trains on a stratified subset
of 10,000 of Fashion-MNIST's 60,000 training images and reports the accuracy on 5,000 others every
epoch; the objective is the last one, maximized.

The subset is the project's: lib/data's StratifiedSubset with the same seed (gosplit.py reproduces
it index for index: 1,000 training and 500 validation images per class), so both sides train and
validate on the same images. Prints one JSON line:
  /usr/bin/python3 bench/pytorch/classification_study.py --trials 20
"""

import argparse

import common  # first: it sets the threading environment before torch loads
import gosplit
import lenet5
import optuna
import study as regression_study
import torch
from torch import nn

# lib/homework's classification space (config.go, seedClassificationSpace).
DROPOUT = (0.1, 0.5)
BATCH = (64, 256)
LR = (1e-4, 1e-2)
WEIGHT_DECAY = (1e-4, 1e-2)
MOMENTUM = (0.0, 0.9)
OPTIMIZERS = ["Adam", "SGD", "RMSprop"]
STUDY_TRAIN, STUDY_VAL = 10000, 5000
EVAL_BATCH = 1000


def suggest(trial, min_epochs, max_epochs):
    """One point of the space, asked in lib/homework's order (suggestModel)."""
    p = {
        "dropout_l0": trial.suggest_float("dropout_l0", *DROPOUT),
        "dropout_l1": trial.suggest_float("dropout_l1", *DROPOUT),
        "batch_size": trial.suggest_int("batch_size", *BATCH),
        "n_epochs": regression_study.suggest_int(trial, "n_epochs", min_epochs, max_epochs),
        "lr": trial.suggest_float("lr", *LR, log=True),
        "weight_decay": trial.suggest_float("weight_decay", *WEIGHT_DECAY, log=True),
        "optimizer": trial.suggest_categorical("optimizer", OPTIMIZERS),
    }
    if p["optimizer"] == "SGD":
        p["momentum"] = trial.suggest_float("momentum", *MOMENTUM)
    return p


def build_opt_model(params, epochs_range):
    """(model, optimizer, batch size, epochs) of a trial's parameters (n_epochs is absent from a
    study's best parameters when the range has one value)."""
    model = common.LeNet5((params["dropout_l0"], params["dropout_l1"]))
    opt = regression_study.make_optimizer(params["optimizer"], model.parameters(), params["lr"],
                                          params["weight_decay"], params.get("momentum", 0.0))
    return model, opt, params["batch_size"], params.get("n_epochs", epochs_range[0])


def objective_for(x_train, y_train, x_val, y_val, min_epochs, max_epochs, seed):
    loss_fn = nn.CrossEntropyLoss()

    def objective(trial):
        params = suggest(trial, min_epochs, max_epochs)
        torch.manual_seed(seed + trial.number)
        g = torch.Generator().manual_seed(seed + trial.number)
        model, opt, batch, epochs = build_opt_model(params, (min_epochs, max_epochs))
        acc = float("nan")
        for epoch in range(epochs):
            common.train_epoch(model, opt, loss_fn, x_train, y_train, batch, g)
            _, acc = lenet5.evaluate(model, x_val, y_val, EVAL_BATCH)
            trial.report(acc, epoch)
            if trial.should_prune():
                trial.set_user_attr("epochs_run", epoch + 1)
                raise optuna.TrialPruned()
        trial.set_user_attr("epochs_run", epochs)
        return acc

    return objective


def run_study(x, y, trials, min_epochs, max_epochs, seed):
    """Runs the timed study on the training images (x, y): the subset and the trials, as the
    project's RunStudy; returns (study, JSON fields)."""
    study = regression_study.create_study("maximize", seed)
    with common.Timer() as t:
        train, val = gosplit.stratified_subset(y.tolist(), STUDY_TRAIN, STUDY_VAL, seed)
        train, val = torch.tensor(train), torch.tensor(val)
        objective = objective_for(x[train], y[train], x[val], y[val], min_epochs, max_epochs, seed)
        study.optimize(objective, n_trials=trials)
    return study, regression_study.study_fields(study, t.seconds, t.cpu)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--min-epochs", type=int, default=1)
    p.add_argument("--max-epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.trials < 1 or not 1 <= args.min_epochs <= args.max_epochs:
        common.fail("--trials must be positive and 1 <= --min-epochs <= --max-epochs")

    common.setup(args.seed)
    x, y = common.fashion_mnist("train")
    _, fields = run_study(x, y, args.trials, args.min_epochs, args.max_epochs, args.seed)
    common.report("classification_study", epochs_range=[args.min_epochs, args.max_epochs], seed=args.seed,
                  study_train=STUDY_TRAIN, study_val=STUDY_VAL, **fields)


if __name__ == "__main__":
    main()
