"""The quick preset's whole regression task with Optuna + PyTorch, the reference for the test MSE
that `make run` (quick) reports: what the same pipeline scores on the original's stack.

(q) lib/homework's quick regression preset (config.go): a 40-trial study (study.py's objective:
epochs 100..300, the 80/20 holdout) with TPESampler(seed) and MedianPruner(n_startup_trials=5,
n_warmup_steps=20), the seed's best hyperparameters (TABLE II, inside the quick space) enqueued
as trial 0; then 5-fold CV at the best trial's hyperparameters (the project's k-fold split,
gosplit.kfold), fold i seeded seed+i as lib/cv; then each fold's model and the mean of the five
scored on test_data.csv. One JSON line per seed, so the spread over seeds can be read beside the
project's (`hw1 regression --preset quick --seed N`, summary.json's ensemble_test_mse):
  /usr/bin/python3 bench/pytorch/quick_regression.py --seeds 42 0 1 2 3
"""

import argparse

import common  # first: it sets the threading environment before torch loads
import gosplit
import optuna
import study as regression_study
import torch
from torch import nn

TRIALS = 40
EPOCHS = (100, 300)
FOLDS = 5
STARTUP, WARMUP = 5, 20
# TABLE II under lib/homework's parameter names (seedBestParams; inside the quick space, so unclipped).
SEED_BEST = dict(n_layers=len(common.REG_HIDDEN), **{f"n_units_l{i}": u for i, u in enumerate(common.REG_HIDDEN)},
                 batch_size=common.REG_BATCH, n_epochs=common.REG_EPOCHS, lr=common.REG_LR,
                 weight_decay=common.REG_WEIGHT_DECAY, optimizer="RMSprop")


def mse(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


def run(seed, x, y, x_test, y_test, trials):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=STARTUP, n_warmup_steps=WARMUP))
    study.enqueue_trial(SEED_BEST)
    with common.Timer() as t:
        train, val = (torch.tensor(i) for i in gosplit.holdout(len(x), 0.2, seed))
        objective = regression_study.objective_for(x[train], y[train], x[val], y[val], *EPOCHS, seed)
        study.optimize(objective, n_trials=trials)
    fields = regression_study.study_fields(study, t.seconds, t.cpu)
    loss_fn = nn.MSELoss()
    tests, preds = [], []
    for i, (train, _) in enumerate(gosplit.kfold(len(x), FOLDS, seed)):
        train = torch.tensor(train)
        torch.manual_seed(seed + i)
        g = torch.Generator().manual_seed(seed + i)
        model, opt, batch, epochs = regression_study.build_opt_model(study.best_params, EPOCHS)
        for _ in range(epochs):
            common.train_epoch(model, opt, loss_fn, x[train], y[train], batch, g)
        tests.append(round(mse(model, x_test, y_test), 4))
        model.eval()
        with torch.no_grad():
            preds.append(model(x_test))
    ensemble = nn.functional.mse_loss(torch.stack(preds).mean(0), y_test).item()
    common.report("quick_regression", seed=seed, trials=fields["trials"], complete=fields["complete"],
                  pruned=fields["pruned"], best_trial=study.best_trial.number, best_value=fields["best_value"],
                  best_params=fields["best_params"], fold_test_mse=tests,
                  best_model_test_mse=min(tests), ensemble_test_mse=round(ensemble, 4))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[42])
    p.add_argument("--trials", type=int, default=TRIALS)
    args = p.parse_args()
    if args.trials < 1:
        common.fail("--trials must be positive")
    common.setup(args.seeds[0])
    x, y = common.regression_csv("train_data.csv")
    x_test, y_test = common.regression_csv("test_data.csv")
    for seed in args.seeds:
        run(seed, x, y, x_test, y_test, args.trials)


if __name__ == "__main__":
    main()
