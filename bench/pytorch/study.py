"""A regression study with Optuna, the PyTorch reference for the Go study (lib/hpo + lib/homework).

(e) --trials trials (default 50) of TPESampler(seed) + MedianPruner() (Optuna's defaults otherwise)
over the seed's Listing 1 space, except epochs in [--min-epochs, --max-epochs] (default 100..300):
n_layers 1..3, n_units_l<i> 128..256, batch_size 4..50, lr 1e-4..1e-2 (log), weight_decay
1e-7..0.1 (log), optimizer Adam/SGD/RMSprop, momentum 0..0.9 for SGD only; MSE loss, ReLU. Each
trial trains on 80% of train_data.csv (the project's 80/20 holdout, gosplit.holdout, the same 80
points) and reports the validation MSE every epoch; the objective is the last one. Parameter names
and the order in which they are asked match lib/homework's (space.go). Prints one JSON line:
  /usr/bin/python3 bench/pytorch/study.py --trials 50
"""

import argparse
import math

import common  # first: it sets the threading environment before torch loads
import gosplit
import optuna
import torch
from torch import nn


def make_optimizer(name, params, lr, weight_decay, momentum):
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)


def suggest_int(trial, name, low, high):
    """trial.suggest_int, except that a range of one value is not asked (lib/homework asks only
    ranges with more than one value, so both samplers see the same parameters)."""
    return low if low == high else trial.suggest_int(name, low, high)


def objective_for(x_train, y_train, x_val, y_val, min_epochs, max_epochs, seed):
    loss_fn = nn.MSELoss()

    def objective(trial):
        n_layers = trial.suggest_int("n_layers", 1, 3)
        hidden = [trial.suggest_int(f"n_units_l{i}", 128, 256) for i in range(n_layers)]
        batch = trial.suggest_int("batch_size", 4, 50)
        epochs = suggest_int(trial, "n_epochs", min_epochs, max_epochs)
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


def build_opt_model(params, epochs_range):
    """The seed's build_opt_model: (model, optimizer, batch size, epochs) of a trial's parameters
    (n_epochs is absent when the range has one value)."""
    model = common.mlp([params[f"n_units_l{i}"] for i in range(params["n_layers"])])
    opt = make_optimizer(params["optimizer"], model.parameters(), params["lr"], params["weight_decay"],
                         params.get("momentum", 0.0))
    return model, opt, params["batch_size"], params.get("n_epochs", epochs_range[0])


def create_study(direction, seed):
    """Optuna's TPESampler(seed) and MedianPruner() with their defaults, as the reference."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed),
                               pruner=optuna.pruners.MedianPruner())


def study_fields(study, seconds, cpu):
    """The JSON fields of a timed study, named as bench/go's."""
    states = [tr.state for tr in study.trials]
    complete = sum(s == optuna.trial.TrialState.COMPLETE for s in states)
    pruned = sum(s == optuna.trial.TrialState.PRUNED for s in states)
    failed = sum(s == optuna.trial.TrialState.FAIL for s in states)
    epochs_run = sum(tr.user_attrs.get("epochs_run", 0) for tr in study.trials)
    best = study.best_trial if complete else None
    return dict(trials=len(study.trials), seconds=round(seconds, 3), cpu_s=round(cpu, 3),
                complete=complete, pruned=pruned, failed=failed, epochs_run=epochs_run,
                ms_per_epoch_run=round(1000 * seconds / max(epochs_run, 1), 3),
                cpu_ms_per_epoch_run=round(1000 * cpu / max(epochs_run, 1), 3),
                best_value=round(best.value, 4) if best else None,
                best_params=best.params if best else None)


def run_study(x, y, trials, min_epochs, max_epochs, seed):
    """Runs the timed study on train_data.csv's (x, y); returns (study, JSON fields)."""
    study = create_study("minimize", seed)
    with common.Timer() as t:
        train, val = gosplit.holdout(len(x), 0.2, seed)
        train, val = torch.tensor(train), torch.tensor(val)
        objective = objective_for(x[train], y[train], x[val], y[val], min_epochs, max_epochs, seed)
        study.optimize(objective, n_trials=trials)
    return study, study_fields(study, t.seconds, t.cpu)


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
    x, y = common.regression_csv("train_data.csv")
    _, fields = run_study(x, y, args.trials, args.min_epochs, args.max_epochs, args.seed)
    common.report("regression_study", epochs_range=[args.min_epochs, args.max_epochs], seed=args.seed, **fields)


if __name__ == "__main__":
    main()
