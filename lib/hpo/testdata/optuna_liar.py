"""Golden data for TestConstantLiarMatchesOptuna (lib/hpo/samplers/liar_test.go): seeded studies of
Optuna 5.0's TPESampler(seed=seed, constant_liar=True), univariate and multivariate, run by four
simulated parallel workers in one process. Trials are asked while others are still RUNNING and
told out of order (a seeded schedule, recorded as "events"), so that most TPE trials are sampled
with one to three running trials that the constant liar counts as worst. Each trial records its
parameters (internal representation), state, value and "tie" (see below). The Go test replays
the same asks and tells on samplers.NewOptuna5TPE (multivariate switched off for the
univariate studies) and must get the same trials.

Regenerate (the project venv: Optuna 5.0.0, NumPy 2.4):
    .venv/bin/python lib/hpo/testdata/optuna_liar.py > lib/hpo/testdata/optuna_liar.json

NumPy's argsort (with which Optuna assigns kernel widths) sorts with the CPU's SIMD sort where
there is one (x86-simd-sort on AVX2 and AVX-512), and that sort puts equal values (integer and
stepped parameters repeat) in an order of its own, which differs from one CPU to another. The
script therefore switches NumPy's SIMD dispatch off before importing it, so that argsort is
NumPy's portable introsort, the one lib/hpo's argsortNumPy follows, and checks it on
optuna_streams.json's argsort cases before running anything.

"tie": the trial's first parameter whose best candidate scored within 1e-12 of a candidate with
other values. Optuna then chose by rounding alone, which another implementation cannot be held
to; the Go test compares each study up to its first such trial.

The objectives have twins in samplers_parity_test.go (those of optuna_streams.py); change both
together.
"""

import os

os.environ["NPY_DISABLE_CPU_FEATURES"] = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"

import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import optuna  # noqa: E402
from optuna.samplers._tpe import sampler as _tpe  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)

WORKERS = 4
TRIALS = 60

TIES = {}  # trial number -> first parameter decided by a near tie
_CURRENT = {}

_orig_sample = _tpe.TPESampler._sample
_orig_compare = _tpe.TPESampler._compare.__func__


def _watch_sample(self, study, trial, search_space):
    _CURRENT["trial"], _CURRENT["params"] = trial.number, list(search_space)
    return _orig_sample(self, study, trial, search_space)


def _watch_compare(cls, samples, acq):
    ret = _orig_compare(cls, samples, acq)
    best = int(np.argmax(acq))
    tol = 1e-12 * max(1.0, abs(acq[best]))
    near = np.abs(acq - acq[best]) <= tol
    for name, v in samples.items():
        if (near & (v != v[best])).any():
            TIES.setdefault(_CURRENT.get("trial"), name)
    return ret


_tpe.TPESampler._sample = _watch_sample
_tpe.TPESampler._compare = classmethod(_watch_compare)


def check_argsort():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "optuna_streams.json")) as f:
        cases = json.load(f)["streams"]["argsort"]
    for c in cases:
        v = np.array([math.nan if x is None else x for x in c["v"]], dtype=float)
        if np.argsort(v).tolist() != c["order"]:
            sys.exit("NumPy's argsort does not give the introsort's order for ties: is its SIMD dispatch still on?")


def branin(t):
    x1 = t.suggest_float("x1", -5.0, 10.0)
    x2 = t.suggest_float("x2", 0.0, 15.0)
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    r = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - r) * math.cos(x1) + 10


def kinds(t):
    lr = t.suggest_float("lr", 1e-5, 1.0, log=True)
    layers = t.suggest_int("layers", 1, 6)
    width = t.suggest_int("width", 8, 512, log=True)
    drop = t.suggest_float("drop", 0.0, 0.5, step=0.05)
    batch = t.suggest_int("batch", 16, 128, step=16)
    fixed = t.suggest_int("fixed", 3, 3)
    v = (math.log10(lr) + 2.5) ** 2 + 0.3 * (layers - 3) ** 2 + (math.log2(width) - 6) ** 2 / 4
    v += 3 * (drop - 0.2) ** 2 + ((batch - 64) / 64) ** 2 + fixed * 0.01
    if layers > 2:
        m = t.suggest_float("momentum", 0.0, 0.99)
        v += (m - 0.9) ** 2
    return v


def cat(t):
    opt = t.suggest_categorical("opt", ["sgd", "adam", "rmsprop", "adagrad"])
    v = {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.5, "adagrad": 0.8}[opt]
    if opt in ("sgd", "adam"):
        act = t.suggest_categorical("act", ["relu", "tanh", "gelu"])
        v += {"relu": 0.0, "tanh": 0.4, "gelu": 0.1}[act]
    x = t.suggest_float("x", -2.0, 2.0)
    return v + (x - 0.5) ** 2


def pruned(t):
    x = t.suggest_float("x", 0.0, 1.0)
    y = t.suggest_int("y", -3, 3)
    score = 1.0 - (x - 0.7) ** 2 - 0.05 * abs(y - 1)
    steps = 1 + int(10 * x) % 4
    for step in range(steps):
        t.report(score * (step + 1) / steps, step)
    if x < 0.05:
        return float("nan")
    if (int(x * 1000) + y) % 3 == 0:
        raise optuna.TrialPruned()
    return score


OBJECTIVES = {
    "branin": (branin, "minimize"),
    "kinds": (kinds, "minimize"),
    "cat": (cat, "minimize"),
    "pruned": (pruned, "maximize"),
}


def run_study(name, seed, multivariate):
    f, direction = OBJECTIVES[name]
    TIES.clear()
    sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=multivariate)
    study = optuna.create_study(direction=direction, sampler=sampler, pruner=optuna.pruners.NopPruner())
    schedule = random.Random(1000 + seed)
    pool = {}  # trial number -> (trial, outcome)
    events = []
    asked = 0
    while asked < TRIALS or pool:
        ask = asked < TRIALS and (not pool or (len(pool) < WORKERS and schedule.random() < 0.6))
        if ask:
            # A worker starts a trial: its objective asks for every parameter now, and its
            # value is known only when it is told.
            trial = study.ask()
            try:
                outcome = f(trial)
            except optuna.TrialPruned:
                outcome = None
            pool[trial.number] = (trial, outcome)
            events.append(["ask", trial.number])
            asked += 1
        else:
            number = sorted(pool)[schedule.randrange(len(pool))]
            trial, outcome = pool.pop(number)
            if outcome is None:
                study.tell(trial, state=TrialState.PRUNED)
            else:
                study.tell(trial, outcome)
            events.append(["tell", number])
    trials = []
    for ft in study.get_trials(deepcopy=False):
        params = {n: ft.distributions[n].to_internal_repr(v) for n, v in ft.params.items()}
        trials.append({"state": ft.state.name, "params": params, "value": ft.value, "tie": TIES.get(ft.number)})
    return {"objective": name, "seed": seed, "multivariate": multivariate, "events": events, "trials": trials}


def main():
    check_argsort()
    studies = []
    for multivariate in (False, True):
        for name in OBJECTIVES:
            for seed in (0, 1, 2):
                studies.append(run_study(name, seed, multivariate))
    out = {
        "optuna": optuna.__version__,
        "numpy": np.__version__,
        "workers": WORKERS,
        "studies": studies,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
