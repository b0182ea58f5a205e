"""A regression study with Optuna, the PyTorch reference for the Go study (lib/hpo + lib/homework).

(e) --trials trials (default 50) of TPESampler(seed) + MedianPruner() (Optuna's defaults otherwise)
over the seed's Listing 1 space, except epochs in [--min-epochs, --max-epochs] (default 100..300):
n_layers 1..3, n_units_l<i> 128..256, batch_size 4..50, lr 1e-4..1e-2 (log), weight_decay
1e-7..0.1 (log), optimizer Adam/SGD/RMSprop, momentum 0..0.9 for SGD only; MSE loss, ReLU. Each
trial trains on 80% of train_data.csv and reports the validation MSE every epoch; the objective is
the last one. Parameter names match lib/homework's. Prints one JSON line:
  /usr/bin/python3 bench/pytorch/study.py --trials 50
"""

import argparse
import math

import common  # first: it sets the threading environment before torch loads
import optuna
import torch
from torch import nn


def make_optimizer(name, params, lr, weight_decay, momentum):
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)


def objective_for(x_train, y_train, x_val, y_val, min_epochs, max_epochs, seed):
    loss_fn = nn.MSELoss()

    def objective(trial):
        n_layers = trial.suggest_int("n_layers", 1, 3)
        hidden = [trial.suggest_int(f"n_units_l{i}", 128, 256) for i in range(n_layers)]
        batch = trial.suggest_int("batch_size", 4, 50)
        epochs = trial.suggest_int("n_epochs", min_epochs, max_epochs)
        lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
        weight_decay = trial.suggest_float("weight_decay", 1e-7, 0.1, log=True)
        opt_name = trial.suggest_categorical("optimizer", ["Adam", "SGD", "RMSprop"])
        momentum = trial.suggest_float("momentum", 0.0, 0.9) if opt_name == "SGD" else 0.0

        torch.manual_seed(seed + trial.number)
        g = torch.Generator().manual_seed(seed + trial.number)
        model = common.mlp(hidden)
        opt = make_optimizer(opt_name, model.parameters(), lr, weight_decay, momentum)
        val = math.nan
        for epoch in range(epochs):
            common.train_epoch(model, opt, loss_fn, x_train, y_train, batch, g)
            model.eval()
            with torch.no_grad():
                val = loss_fn(model(x_val), y_val).item()
            if not math.isfinite(val):
                raise optuna.TrialPruned()  # diverged: counted with the pruned trials
            trial.report(val, epoch)
            if trial.should_prune():
                trial.set_user_attr("epochs_run", epoch + 1)
                raise optuna.TrialPruned()
        trial.set_user_attr("epochs_run", epochs)
        return val

    return objective


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--min-epochs", type=int, default=100)
    p.add_argument("--max-epochs", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.trials < 1 or not 1 <= args.min_epochs <= args.max_epochs:
        common.fail("--trials must be positive and 1 <= --min-epochs <= --max-epochs")

    common.setup(args.seed)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    x, y = common.regression_csv("train_data.csv")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))
    n_val = round(0.2 * len(x))
    val, train = order[:n_val], order[n_val:]

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed),
                                pruner=optuna.pruners.MedianPruner())
    objective = objective_for(x[train], y[train], x[val], y[val], args.min_epochs, args.max_epochs, args.seed)
    with common.Timer() as t:
        study.optimize(objective, n_trials=args.trials)

    states = [tr.state for tr in study.trials]
    complete = sum(s == optuna.trial.TrialState.COMPLETE for s in states)
    pruned = sum(s == optuna.trial.TrialState.PRUNED for s in states)
    epochs_run = sum(tr.user_attrs.get("epochs_run", 0) for tr in study.trials)
    best = study.best_trial if complete else None
    common.report("regression_study", trials=args.trials, epochs_range=[args.min_epochs, args.max_epochs],
                  seed=args.seed, seconds=round(t.seconds, 3), cpu_s=round(t.cpu, 3),
                  complete=complete, pruned=pruned, epochs_run=epochs_run,
                  ms_per_epoch_run=round(1000 * t.seconds / max(epochs_run, 1), 3),
                  best_value=round(best.value, 4) if best else None,
                  best_params=best.params if best else None)


if __name__ == "__main__":
    main()
