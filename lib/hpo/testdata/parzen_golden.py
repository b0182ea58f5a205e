"""Golden data for TestParzenMatchesOptuna: Optuna's univariate and multivariate Parzen
estimators (TPESampler defaults) fitted to fixed observations, with their kernel centres, widths,
weights and log densities at fixed points.

Regenerate (Debian's python3-optuna 3.1):
    /usr/bin/python3 lib/hpo/testdata/parzen_golden.py > lib/hpo/testdata/parzen_golden.json
"""

import json
import sys

import numpy as np
import optuna
from optuna import distributions as D
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights


def dist_json(d):
    if isinstance(d, D.CategoricalDistribution):
        return {"kind": "categorical", "choices": [str(c) for c in d.choices]}
    kind = "int" if isinstance(d, D.IntDistribution) else "float"
    out = {"kind": kind, "low": d.low, "high": d.high, "log": d.log}
    step = d.step if d.step is not None else 0
    out["step"] = step
    return out


def case(name, space, n, multivariate, rng):
    obs = {}
    for pname, d in space.items():
        if isinstance(d, D.CategoricalDistribution):
            obs[pname] = rng.randint(len(d.choices), size=n).astype(float)
        elif d.log:
            v = np.exp(rng.uniform(np.log(d.low), np.log(d.high), size=n))
            obs[pname] = np.round(v) if isinstance(d, D.IntDistribution) else v
        elif d.step is not None:
            k = rng.randint(int(round((d.high - d.low) / d.step)) + 1, size=n)
            obs[pname] = d.low + k * d.step
        else:
            obs[pname] = rng.uniform(d.low, d.high, size=n)
    params = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, multivariate)
    pe = _ParzenEstimator(obs, space, params)
    points = pe.sample(np.random.RandomState(0), 12)
    logpdf = pe.log_pdf(points)
    out = {
        "name": name,
        "multivariate": multivariate,
        "names": list(space),
        "dists": [dist_json(d) for d in space.values()],
        "obs": [obs[p].tolist() for p in space],
        "weights": pe._weights.tolist(),
        "mus": [None if pe._mus[p] is None else pe._mus[p].tolist() for p in space],
        "sigmas": [None if pe._sigmas[p] is None else pe._sigmas[p].tolist() for p in space],
        "points": [np.asarray(points[p], dtype=float).tolist() for p in space],
        "logpdf": logpdf.tolist(),
    }
    return out


def main():
    rng = np.random.RandomState(1)
    spaces = {
        "float": {"x": D.FloatDistribution(-5, 10)},
        "logfloat": {"x": D.FloatDistribution(1e-4, 1e2, log=True)},
        "int": {"x": D.IntDistribution(0, 20)},
        "intstep": {"x": D.IntDistribution(2, 30, step=4)},
        "floatstep": {"x": D.FloatDistribution(0, 1, step=0.1)},
        "logint": {"x": D.IntDistribution(1, 512, log=True)},
        "categorical": {"x": D.CategoricalDistribution(["a", "b", "c", "d"])},
        "mixed": {
            "x": D.FloatDistribution(0, 1),
            "y": D.FloatDistribution(1e-3, 10, log=True),
            "z": D.CategoricalDistribution(["a", "b", "c"]),
            "k": D.IntDistribution(1, 8),
        },
    }
    cases = []
    for name, space in spaces.items():
        for n in (0, 1, 3, 30):
            cases.append(case(f"{name}_n{n}", space, n, False, rng))
        if len(space) > 1:
            for n in (0, 5, 40):
                cases.append(case(f"{name}_n{n}_multivariate", space, n, True, rng))
    json.dump({"optuna_version": optuna.__version__, "cases": cases}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
