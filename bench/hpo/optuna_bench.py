"""Reference side of bench/hpo: Optuna's TPESampler (defaults) on the same test functions as
main.go. Prints one JSON object per line:
  {"side": "optuna", "func": ..., "seed": ..., "best": ...}            one per study
  {"side": "optuna", "func": ..., "timing": N, "ms_per_trial": ...}   sampler time per trial
Run with Debian's python3-optuna 3.1:  /usr/bin/python3 bench/hpo/optuna_bench.py --seeds 20
(bench/hpo/run.sh runs it split over processes and feeds the lines to main.go).
"""

import argparse
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin(t):
    x1 = t.suggest_float("x1", -5.0, 10.0)
    x2 = t.suggest_float("x2", 0.0, 15.0)
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    r = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - r) * math.cos(x1) + 10


HART_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HART_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]
HART_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(6)]
    s = 0.0
    for i in range(4):
        e = sum(HART_A[i][j] * (x[j] - HART_P[i][j]) ** 2 for j in range(6))
        s += HART_ALPHA[i] * math.exp(-e)
    return -s


def logsphere10(t):
    # optimum 0 at x_i = 10^(i/3 - 2), inside [1e-4, 1e2] on a log scale
    s = 0.0
    for i in range(10):
        x = t.suggest_float(f"x{i}", 1e-4, 1e2, log=True)
        s += (math.log10(x) - (i / 3 - 2)) ** 2
    return s


def mixed(t):
    # three branches with their own parameters; optimum 0 in "quad" at b=7, c=0.1
    model = t.suggest_categorical("model", ["linear", "quad", "rbf"])
    if model == "linear":
        a = t.suggest_float("a", -5.0, 5.0)
        return (a - 1) ** 2 + 0.5
    if model == "quad":
        b = t.suggest_int("b", 0, 20)
        c = t.suggest_float("c", 1e-3, 10.0, log=True)
        return ((b - 7) / 5) ** 2 + (math.log10(c) + 1) ** 2
    d = t.suggest_categorical("d", ["x", "y", "z"])
    e = t.suggest_float("e", 0.0, 1.0)
    return 0.2 + (0.0 if d == "y" else 1.0) + (e - 0.3) ** 2


FUNCS = {"branin": branin, "hartmann6": hartmann6, "logsphere10": logsphere10, "mixed": mixed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20, help="number of studies per function")
    ap.add_argument("--seed-start", type=int, default=0, help="first seed (run.sh splits seeds over processes)")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--timing-trials", type=int, default=1000)
    ap.add_argument("--funcs", default=",".join(FUNCS))
    args = ap.parse_args()
    for name in args.funcs.split(","):
        f = FUNCS[name]
        for seed in range(args.seed_start, args.seed_start + args.seeds):
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
            study.optimize(f, n_trials=args.trials)
            print(json.dumps({"side": "optuna", "func": name, "seed": seed, "best": study.best_value}), flush=True)
        if args.timing_trials <= 0:
            continue
        # CPU time of this process between consecutive objective returns (the machine may be
        # loaded, so wall time would measure the neighbours) is the sampler + storage overhead:
        # the functions themselves take microseconds.
        stamps = []

        def timed(t):
            v = f(t)
            stamps.append(time.process_time())
            return v

        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
        study.optimize(timed, n_trials=args.timing_trials)
        for n in (100, args.timing_trials):
            if n > len(stamps):
                continue
            ms = (stamps[n - 1] - stamps[n - 11]) / 10 * 1000
            print(json.dumps({"side": "optuna", "func": name, "timing": n, "ms_per_trial": ms}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
