#!/usr/bin/env bash
# The quick preset's whole regression task (`make run`'s: a 40-trial study, 5-fold CV at its
# best trial, the mean of the five models on test_data.csv) once per seed, on the project
# (`hw1 regression --preset quick --seed S`, pure Go, its default) and on Optuna + PyTorch
# (bench/pytorch/quick_regression.py), then a table of each seed's mean-ensemble test MSE and
# best model's test MSE, with their median and mean over the seeds. `make run` reports one of
# these numbers, seed 42's; this shows where it falls among other seeds' and against the same
# pipeline on the original's stack. A comparison of results, not of times: load does not matter.
#
#   bench/quick_regression.sh                      seeds 42 0 1 2 3 4 5 6 7 (about 15 minutes)
#   bench/quick_regression.sh --seeds "42 1" --out DIR
#
# Environment: PYTORCH_PYTHON (default /usr/bin/python3, Debian's torch 1.13 and Optuna 3.1,
# installed when missing), HW1_DATA_DIR (default ../shared/data when it exists). Output in DIR
# (default bench/out/quick_regression-<UTC time>): project/s<S>/ (each seed's results folder),
# project/s<S>.log, project.jsonl, pytorch.jsonl, table.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seeds="42 0 1 2 3 4 5 6 7"
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--seeds) seeds=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "quick_regression.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "${seeds// /}" ]; then
	echo "quick_regression.sh: --seeds is empty (want one or more seeds)" >&2
	exit 2
fi
for s in $seeds; do
	case "$s" in
	'' | *[!0-9]*) echo "quick_regression.sh: --seeds: \"$s\" is not a seed (want non-negative integers)" >&2; exit 2 ;;
	esac
done

SAY_PREFIX=quick_regression
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
default_data_dirs
reference_python torch optuna
out=${out:-bench/out/quick_regression-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/project"

go build -o "$out/hw1" ./cmd/hw1
: >"$out/project.jsonl"
for s in $seeds; do
	dir="$out/project/s$s"
	echo "project, seed $s" >&2
	if ! "$out/hw1" regression --preset quick --seed "$s" --quiet --out "$dir" >"$dir.log" 2>&1; then
		echo "quick_regression.sh: hw1 regression --seed $s failed; its log: $dir.log" >&2
		tail -5 "$dir.log" >&2
		exit 1
	fi
	"$py" - "$dir/regression_results/summary.json" "$s" >>"$out/project.jsonl" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
st = s["study_stats"]
print(json.dumps(dict(bench="quick_regression", side="project", seed=int(sys.argv[2]),
                      best_trial=st["best_trial"], best_value=round(st["best_value"], 4),
                      best_params=st["best_params"],
                      best_model_test_mse=round(s["metrics"]["best_model_test_mse"], 4),
                      ensemble_test_mse=round(s["metrics"]["ensemble_test_mse"], 4))))
EOF
done
echo "Optuna + PyTorch, seeds $seeds" >&2
# shellcheck disable=SC2086 # the seeds are separate arguments
(cd bench/pytorch && "$py" quick_regression.py --seeds $seeds) >"$out/pytorch.jsonl"

"$py" - "$out/project.jsonl" "$out/pytorch.jsonl" <<'EOF' | tee "$out/table.md"
import json, statistics, sys
sides = [{d["seed"]: d for d in map(json.loads, open(p))} for p in sys.argv[1:]]
seeds = [s for s in sides[0] if s in sides[1]]
print("| seed | project: best trial (validation MSE) | ensemble test MSE | best model | "
      "Optuna + PyTorch: best trial (validation MSE) | ensemble test MSE | best model |")
print("|---:|---|---:|---:|---|---:|---:|")
for s in seeds:
    cells = []
    for side in sides:
        d = side[s]
        cells += [f"{d['best_trial']} ({d['best_value']:.3f})", f"{d['ensemble_test_mse']:.4f}", f"{d['best_model_test_mse']:.4f}"]
    print(f"| {s} | " + " | ".join(cells) + " |")
for name, f in (("median", statistics.median), ("mean", statistics.mean), ("max", max)):
    cells = []
    for side in sides:
        cells += ["", f"{f(side[s]['ensemble_test_mse'] for s in seeds):.4f}", f"{f(side[s]['best_model_test_mse'] for s in seeds):.4f}"]
    print(f"| {name} | " + " | ".join(cells) + " |")
EOF
echo "wrote $out" >&2
