"""Golden data for TestMedianPrunerParity: a real Optuna study with MedianPruner records every
intermediate value it reports and the pruner's decision after each report.

Regenerate (Debian's python3-optuna 3.1):
    /usr/bin/python3 lib/hpo/testdata/median_parity.py > lib/hpo/testdata/median_parity.json

Each case is one study: noisy decreasing (or, when maximizing, increasing) learning curves whose
plateau depends on the parameter x, so that some trials are pruned and others complete.
"""

import json
import math
import sys

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

CASES = [
    # name, direction, pruner kwargs, trials, steps
    ("defaults_minimize", "minimize", {}, 40, 20),
    ("defaults_maximize", "maximize", {}, 40, 20),
    ("warmup3_interval2_min3", "minimize", {"n_warmup_steps": 3, "interval_steps": 2, "n_min_trials": 3}, 40, 20),
    ("startup10", "minimize", {"n_startup_trials": 10}, 30, 15),
]


def run_case(name, direction, kwargs, n_trials, n_steps, seed):
    rng = np.random.RandomState(seed)
    records = []

    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        plateau = 0.2 + (x - 0.3) ** 2
        rate = 0.15 + 0.3 * x
        rec = {"number": trial.number, "values": [], "steps": [], "decisions": []}
        records.append(rec)
        value = math.nan
        for step in range(n_steps):
            # Some trials skip steps so that interval_steps has gaps to handle.
            if trial.number % 7 == 3 and step % 3 == 1:
                continue
            value = plateau + 1.5 * math.exp(-rate * step) + 0.05 * rng.randn()
            if direction == "maximize":
                value = -value
            trial.report(value, step)
            prune = trial.should_prune()
            rec["values"].append(value)
            rec["steps"].append(step)
            rec["decisions"].append(bool(prune))
            if prune:
                rec["state"] = "PRUNED"
                raise optuna.TrialPruned()
        rec["state"] = "COMPLETE"
        return value

    study = optuna.create_study(
        direction=direction,
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(**kwargs),
    )
    study.optimize(objective, n_trials=n_trials)
    pruner = {"n_startup_trials": 5, "n_warmup_steps": 0, "interval_steps": 1, "n_min_trials": 1}
    pruner.update(kwargs)
    return {"name": name, "direction": direction.upper(), "pruner": pruner, "trials": records}


def main():
    cases = [run_case(*c, seed=i) for i, c in enumerate(CASES)]
    json.dump({"optuna_version": optuna.__version__, "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
