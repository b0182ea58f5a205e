"""Golden data for TestNumpyStream, TestArgsortNumPy and TestSamplersMatchOptuna: NumPy's legacy
RandomState draws and argsort order, and whole Optuna studies (every trial's parameters and value)
run by TPESampler and RandomSampler with fixed seeds. The Go samplers draw from the
same stream, so the same seeds must give the same studies.

Regenerate (Debian's python3-optuna 3.1, NumPy 1.24):
    /usr/bin/python3 lib/hpo/testdata/optuna_streams.py > lib/hpo/testdata/optuna_streams.json

The objectives below have twins in samplers_parity_test.go; change both together.

Each TPE trial also records "tie": the first parameter whose best candidate scored within 1e-12
of a candidate with another value. Optuna then chose by rounding alone (for a categorical, by how
its BLAS summed the kernels), which another implementation cannot be held to; the Go test
compares each study up to its first such trial.
"""

import json
import math
import sys

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)

from optuna.samplers._tpe import sampler as _tpe  # noqa: E402

TIES = {}  # trial number -> first parameter decided by a near tie
_CURRENT = {}


def _watch_sample_independent(orig):
    def wrapped(self, study, trial, param_name, dist):
        _CURRENT["trial"], _CURRENT["param"] = trial.number, param_name
        return orig(self, study, trial, param_name, dist)

    return wrapped


def _watch_compare(orig):
    def wrapped(samples, log_l, log_g):
        ret = orig(samples, log_l, log_g)
        score = log_l - log_g
        best = int(np.argmax(score))
        tol = 1e-12 * max(1.0, abs(score[best]))
        for v in samples.values():
            rivals = (np.abs(score - score[best]) <= tol) & (v != v[best])
            if rivals.any():
                TIES.setdefault(_CURRENT.get("trial"), _CURRENT.get("param"))
        return ret

    return wrapped


_tpe.TPESampler.sample_independent = _watch_sample_independent(_tpe.TPESampler.sample_independent)
_tpe.TPESampler._compare = staticmethod(_watch_compare(_tpe.TPESampler._compare))


def streams():
    out = {"uniform": [], "randint": [], "choice": [], "argsort": []}
    for seed in [0, 1, 42, 2**32 - 1]:
        rs = np.random.RandomState(seed)
        first = rs.random_sample(5).tolist()
        rs.random_sample(1000)  # crosses several state regenerations
        out["uniform"].append({"seed": seed, "first": first, "after1005": rs.random_sample(3).tolist()})
    # A seed of 2**32 and over is taken as the array [low word, high word].
    big = 2**40 + 12345
    rs = np.random.RandomState(np.array([big & 0xFFFFFFFF, big >> 32], dtype=np.uint32))
    out["uniform"].append({"seed": big, "first": rs.random_sample(5).tolist(), "after1005": []})
    rs = np.random.RandomState(7)
    for n in [1, 2, 3, 7, 10, 100, 1000, 2**31 + 5]:
        out["randint"].append({"n": n, "draws": [int(rs.randint(0, n)) for _ in range(20)]})
    rs = np.random.RandomState(11)
    for n in [1, 3, 25, 91]:
        p = rs.random_sample(n) + 0.01
        p /= p.sum()
        draw = np.random.RandomState(n).choice(n, 50, p=p)
        out["choice"].append({"seed": n, "p": p.tolist(), "draws": draw.tolist()})
    rs = np.random.RandomState(5)
    for n in list(range(0, 40)) + [50, 64, 100, 101, 150, 200, 500]:
        for levels in [2, 5, 1000]:
            v = rs.randint(0, levels, size=n).astype(float)
            if n > 3 and levels == 5:
                v[n // 2] = math.nan
            out["argsort"].append(
                {"v": [None if math.isnan(x) else x for x in v.tolist()], "order": np.argsort(v).tolist()}
            )
    return out


def branin(t):
    x1 = t.suggest_float("x1", -5.0, 10.0)
    x2 = t.suggest_float("x2", 0.0, 15.0)
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    r = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - r) * math.cos(x1) + 10


def kinds(t):
    # Every kind of numerical distribution, a conditional parameter and one with a single value.
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
    # Categoricals, one conditional on the other. Symmetric counts make Optuna's categorical
    # scores tie, so these studies are compared up to their first tie only.
    opt = t.suggest_categorical("opt", ["sgd", "adam", "rmsprop", "adagrad"])
    v = {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.5, "adagrad": 0.8}[opt]
    if opt in ("sgd", "adam"):
        act = t.suggest_categorical("act", ["relu", "tanh", "gelu"])
        v += {"relu": 0.0, "tanh": 0.4, "gelu": 0.1}[act]
    x = t.suggest_float("x", -2.0, 2.0)
    return v + (x - 0.5) ** 2


def pruned(t):
    # Maximized, with intermediate values; some trials are pruned at various steps, one fails.
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


def record(study):
    trials = []
    for ft in study.get_trials(deepcopy=False):
        params = {n: ft.distributions[n].to_internal_repr(v) for n, v in ft.params.items()}
        value = None if ft.value is None else ft.value
        trials.append({"state": ft.state.name, "params": params, "value": value, "tie": TIES.get(ft.number)})
    return trials


def studies():
    out = []
    for name, (f, direction) in OBJECTIVES.items():
        for seed in [0, 1, 2]:
            TIES.clear()
            sampler = optuna.samplers.TPESampler(seed=seed)
            study = optuna.create_study(direction=direction, sampler=sampler, pruner=optuna.pruners.NopPruner())
            study.optimize(f, n_trials=60)
            out.append({"sampler": "tpe", "objective": name, "seed": seed, "trials": record(study)})
    for seed, name in [(0, "kinds"), (3, "cat")]:
        TIES.clear()
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
        study.optimize(OBJECTIVES[name][0], n_trials=30)
        out.append({"sampler": "random", "objective": name, "seed": seed, "trials": record(study)})
    return out


def main():
    json.dump({"optuna": optuna.__version__, "numpy": np.__version__, "streams": streams(), "studies": studies()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
