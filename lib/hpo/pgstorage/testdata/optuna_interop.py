"""Optuna's side of pgstorage's interop tests (optuna_test.go runs it with the project's venv,
Optuna 5.0.0, SQLAlchemy and psycopg2).

    optuna_interop.py schema URL                   Optuna opens the storage (creating its schema in
                                                   an empty database); prints the alembic versions
    optuna_interop.py dump URL STUDY               the study as optuna.load_study sees it, as JSON
    optuna_interop.py begin URL STUDY N SEED       Optuna creates the study, runs N trials of the
                                                   objective below (TPESampler(seed=SEED)), then
                                                   enqueues one trial; prints the dump
    optuna_interop.py continue URL STUDY N SEED    Optuna loads the study and runs N more trials
    optuna_interop.py work URL STUDY TARGET        an Optuna worker: runs trials until TARGET trials
                                                   are complete, pruned or running; prints "ready"
                                                   after its first trial, then the numbers it ran

URL is the postgresql:// URL the Go side uses; SQLAlchemy 2.1 reads that scheme as psycopg 3, so it
is turned into postgresql+psycopg2:// here.
"""

import json
import math
import sys
import time
from datetime import timezone

import optuna
from optuna.distributions import distribution_to_json
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)


def sqlalchemy_url(url):
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def num(v):
    """A float as JSON without NaN and infinities (Go's decoder refuses them)."""
    if v is None:
        return None
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return repr(v)  # "nan", "inf", "-inf"
    return v


def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    return num(v)


def iso(dt):
    # FrozenTrial's datetimes are naive local time; astimezone reads them so.
    return None if dt is None else dt.astimezone(timezone.utc).isoformat()


def dump(study):
    trials = []
    for t in study.get_trials(deepcopy=False):
        trials.append({
            "number": t.number,
            "state": t.state.name,
            "params": clean(t.params),
            "distributions": {k: distribution_to_json(d) for k, d in t.distributions.items()},
            "value": num(t.value) if t.values is not None else None,
            "intermediate": {str(k): num(v) for k, v in t.intermediate_values.items()},
            "system_attrs": clean(t.system_attrs),
            "start": iso(t.datetime_start),
            "complete": iso(t.datetime_complete),
        })
    return {"direction": study.direction.name, "trials": trials}


def objective(trial):
    """The same objective as studyObjective in study_test.go."""
    x = trial.suggest_float("x", -3, 3)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    n = trial.suggest_int("n", 1, 9, step=2)
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    bs = trial.suggest_categorical("bs", [16, 32, 64])
    if act == "gelu" and n >= 7:
        raise ValueError(f"unstable: x = {x}")
    v = x * x + math.log10(lr) * 0.1 + n * 0.01 + bs * 0.001
    for step in range(5):
        trial.report(v + (5 - step), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return v


def sleepy_objective(trial):
    """The same objective as sleepyObjective in workers_test.go (30 ms)."""
    x = trial.suggest_float("x", -2, 2)
    n = trial.suggest_int("n", 1, 4)
    for step in range(3):
        time.sleep(0.01)
        trial.report(x * x + step, step)
    return x * x + n


def main(argv):
    cmd, url = argv[1], sqlalchemy_url(argv[2])
    if cmd == "schema":
        storage = optuna.storages.RDBStorage(url)
        print(json.dumps({"current": storage.get_current_version(), "head": storage.get_head_version()}))
    elif cmd == "dump":
        study = optuna.load_study(study_name=argv[3], storage=url)
        print(json.dumps(dump(study)))
    elif cmd in ("begin", "continue"):
        name, n, seed = argv[3], int(argv[4]), int(argv[5])
        sampler = optuna.samplers.TPESampler(seed=seed)
        if cmd == "begin":
            study = optuna.create_study(study_name=name, storage=url, sampler=sampler)
        else:
            study = optuna.load_study(study_name=name, storage=url, sampler=sampler)
        study.optimize(objective, n_trials=n, catch=(ValueError,))
        if cmd == "begin":
            study.enqueue_trial({"x": 1.0, "lr": 0.01, "n": 3, "act": "relu"})
        print(json.dumps(dump(study)))
    elif cmd == "work":
        name, target = argv[3], int(argv[4])
        study = optuna.create_study(study_name=name, storage=url, load_if_exists=True)
        ran = []
        counted = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)

        def callback(study, trial):
            ran.append(trial.number)
            if len(ran) == 1:
                print("ready", flush=True)
            if len(study.get_trials(deepcopy=False, states=counted)) >= target:
                study.stop()

        study.optimize(sleepy_objective, n_trials=10 * target, callbacks=[callback])
        print(json.dumps(ran), flush=True)
    else:
        sys.exit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    main(sys.argv)
