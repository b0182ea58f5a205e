"""Optuna's side of the journal interop tests (lib/hpo/journal/optuna_test.go).

Run by the tests with the project venv's Python (Optuna pinned in scripts/requirements-optuna.txt):

    python optuna_journal.py dump PATH STUDY       print the study as Optuna loads it, as JSON
    python optuna_journal.py begin PATH STUDY      begin a seeded study: an enqueued trial, five
                                                   trials (one pruned), a WAITING trial for Go
    python optuna_journal.py worker PATH STUDY N   run N trials of a slow objective on the study

Every command opens the journal as Optuna's documentation does, with the default lock
(JournalFileSymlinkLock): JournalStorage(JournalFileBackend(PATH)).
"""

import json
import math
import sys
import time
from datetime import timezone

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def storage(path):
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))


def number(v):
    """JSON has no NaN: NaN and infinities are written as strings."""
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return str(v)
    return v


def utc(dt):
    # Optuna's replay gives naive local datetimes.
    return None if dt is None else dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def dump(path, name):
    study = optuna.load_study(study_name=name, storage=storage(path))
    out = {"direction": study.direction.name, "trials": []}
    for t in study.get_trials(deepcopy=False):
        out["trials"].append({
            "number": t.number,
            "state": t.state.name,
            "values": None if t.values is None else [number(v) for v in t.values],
            "params": t.params,
            "param_types": {k: type(v).__name__ for k, v in t.params.items()},
            "distributions": {k: optuna.distributions.distribution_to_json(d) for k, d in t.distributions.items()},
            "intermediate": {str(k): number(v) for k, v in t.intermediate_values.items()},
            "system_attrs": {k: v for k, v in t.system_attrs.items()},
            "user_attrs": t.user_attrs,
            "datetime_start": utc(t.datetime_start),
            "datetime_complete": utc(t.datetime_complete),
        })
    json.dump(out, sys.stdout)


def objective(trial):
    x = trial.suggest_float("x", -2.0, 2.0)
    units = trial.suggest_int("units", 4, 64, step=4)
    opt = trial.suggest_categorical("opt", ["adam", "sgd"])
    width = trial.suggest_categorical("width", [16, 32, 64])
    v = x * x + abs(units - 32) / 32 + (0.5 if opt == "sgd" else 0) + width / 64
    for step in range(3):
        trial.report(v + 1 / (step + 1), step)
        if trial.number == 2 and step == 1:
            raise optuna.TrialPruned()
    return v


def begin(path, name):
    study = optuna.create_study(study_name=name, storage=storage(path),
                                sampler=optuna.samplers.TPESampler(seed=7), direction="minimize")
    study.enqueue_trial({"x": 0.5, "units": 32, "opt": "adam", "width": 32})
    study.optimize(objective, n_trials=5)
    study.enqueue_trial({"x": -1.0, "units": 8, "opt": "sgd", "width": 64})


def worker(path, name, n):
    study = optuna.load_study(study_name=name, storage=storage(path),
                              sampler=optuna.samplers.RandomSampler(seed=3))

    def slow(trial):
        x = trial.suggest_float("x", -3.0, 3.0)
        trial.set_user_attr("writer", "optuna")
        time.sleep(0.02)
        return x * x

    study.optimize(slow, n_trials=n)


if __name__ == "__main__":
    cmd, path, name = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "dump":
        dump(path, name)
    elif cmd == "begin":
        begin(path, name)
    elif cmd == "worker":
        worker(path, name, int(sys.argv[4]))
    else:
        sys.exit(f"unknown command {cmd}")
