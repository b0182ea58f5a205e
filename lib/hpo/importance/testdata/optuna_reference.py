#!/usr/bin/env python3
"""Golden importances from Optuna for lib/hpo/importance's tests.

Runs real Optuna studies (TPE, fixed sampler seeds) on three synthetic
objectives, exports each study's trials in Optuna's internal representation
with their distributions, and Optuna's fANOVA and mean-decrease-impurity
importances for several forest seeds, to optuna_reference.json.

Regenerate (Debian bookworm: apt-get install python3-optuna python3-sklearn,
i.e. Optuna 3.1.0, scikit-learn 1.2.1, NumPy 1.24.2):

    /usr/bin/python3 lib/hpo/importance/testdata/optuna_reference.py

The output is deterministic for those versions.
"""

import json
import math
import os
import sys
import time

import numpy
import optuna
import sklearn
from optuna.distributions import CategoricalDistribution
from optuna.importance import FanovaImportanceEvaluator
from optuna.importance import MeanDecreaseImpurityImportanceEvaluator
from optuna.importance import get_param_importances

FOREST_SEEDS = list(range(10))
STUDY_SEEDS = [1, 2]


def dominant(trial):
    """One parameter (x) explains nearly everything; two others a little."""
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_float("y", -10, 10)
    z = trial.suggest_int("z", 0, 10)
    w = trial.suggest_float("w", 0, 1)
    return x * x + 0.5 * abs(y) + 0.2 * z + 0.0 * w


def log_categorical(trial):
    """A log-scaled learning rate and a categorical choice both matter."""
    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    act = trial.suggest_categorical("activation", ["relu", "tanh", "sigmoid"])
    u = trial.suggest_float("u", 0, 1)
    k = trial.suggest_int("k", 1, 8)
    penalty = {"relu": 0.0, "tanh": 1.5, "sigmoid": 3.0}[act]
    return (math.log10(lr) + 2.5) ** 2 + penalty + 0.5 * u + 0.05 * k


def homework(trial):
    """A made-up validation loss over the seed homework's regression space
    (Listing 1): smooth in each parameter, with an optimizer x momentum
    interaction, so it looks like a real study without training anything."""
    n_layers = trial.suggest_int("n_layers", 1, 3)
    n_units = trial.suggest_int("n_units", 128, 256)
    batch_size = trial.suggest_int("batch_size", 4, 50)
    n_epochs = trial.suggest_int("n_epochs", 100, 1000)
    lr = trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
    wd = trial.suggest_float("weight_decay", 1e-7, 0.1, log=True)
    optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD", "RMSprop"])
    momentum = trial.suggest_categorical("momentum", [0.0, 0.9])
    loss = 0.15
    loss += 0.06 * (math.log10(lr) + 2.8) ** 2
    loss += 0.04 * max(0.0, math.log10(wd) + 3.0) ** 2
    loss += {"Adam": 0.0, "SGD": 0.10, "RMSprop": 0.03}[optimizer]
    if optimizer == "SGD" and momentum == 0.9:
        loss -= 0.06
    loss += 0.02 * abs(n_layers - 2)
    loss += 0.03 * math.exp(-n_epochs / 300.0)
    loss += 0.01 * batch_size / 50.0
    loss += 0.002 * (n_units - 200) ** 2 / 72.0**2
    return loss


OBJECTIVES = [("dominant", dominant, 120), ("log_categorical", log_categorical, 150), ("homework", homework, 200)]


def export_study(study):
    # Optuna's evaluators order parameters by name (intersection_search_space
    # with ordered_dict=True); the export keeps that order.
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    names = sorted(trials[0].distributions)
    params = []
    for name in names:
        d = trials[0].distributions[name]
        if isinstance(d, CategoricalDistribution):
            params.append({"name": name, "categories": len(d.choices), "choices": [str(c) for c in d.choices]})
        else:
            params.append({"name": name, "low": float(d.low), "high": float(d.high), "log": bool(d.log),
                           "int": isinstance(d, optuna.distributions.IntDistribution)})
    X = [[float(t.distributions[n].to_internal_repr(t.params[n])) for n in names] for t in trials]
    y = [float(t.value) for t in trials]
    return names, params, X, y


def importances(study, names, evaluator_cls):
    rows, seconds = [], []
    for seed in FOREST_SEEDS:
        start = time.perf_counter()
        imp = get_param_importances(study, evaluator=evaluator_cls(seed=seed))
        seconds.append(time.perf_counter() - start)
        rows.append([float(imp[n]) for n in names])
    return {"seeds": FOREST_SEEDS, "importances": rows, "seconds": seconds}


def main():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {
        "generator": "lib/hpo/importance/testdata/optuna_reference.py",
        "optuna": optuna.__version__,
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
        "studies": [],
    }
    for name, objective, n_trials in OBJECTIVES:
        for study_seed in STUDY_SEEDS:
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=study_seed))
            study.optimize(objective, n_trials=n_trials)
            names, params, X, y = export_study(study)
            entry = {
                "name": f"{name}/seed{study_seed}",
                "params": params,
                "X": X,
                "y": y,
                "fanova": importances(study, names, FanovaImportanceEvaluator),
                "mdi": importances(study, names, MeanDecreaseImpurityImportanceEvaluator),
            }
            out["studies"].append(entry)
            top = entry["fanova"]["importances"][0]
            print(name, study_seed, {n: round(v, 3) for n, v in zip(names, top)}, file=sys.stderr)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optuna_reference.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
