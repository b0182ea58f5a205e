#!/usr/bin/env bash
# Runs the project (bench/go, on every backend this machine has: xla, go) and
# the PyTorch reference (bench/pytorch) alternately on the same machine, N
# times each, and prints the table of medians with the ratio project/PyTorch
# of every line. See bench/README.md for the items and docs/PERFORMANCE.md
# for what each line measures.
#
#   bench/run.sh                 full: every benchmark but homework, 3 runs each
#   bench/run.sh --quick         under 5 minutes: LeNet5 epoch (xla; go
#                                extrapolated from 50 steps) and regression CV
#                                (xla), 1 run; ends with the three ratio lines
#   bench/run.sh --runs 5 --only "lenet5_64 regression_cv" --backends xla
#   bench/run.sh --runs 1 --only homework      the seed preset's duration (hours;
#                                each task on its default backend)
#   bench/run.sh --smoke --only "classification_study homework"   tiny sizes
#
# Options: --runs N, --quick, --smoke (every item at tiny sizes, to check
# the plumbing: 2 trials, 1 epoch, 5 LeNet5 steps; its numbers mean
# nothing), --backends "xla go", --only "ITEMS" (lenet5_64 lenet5_256
# regression_epoch regression_cv regression_study classification_study
# homework), --profile (pprof CPU profiles of the project's go runs), --out
# DIR (default bench/out/run-<UTC time>). Environment: PYTORCH_PYTHON
# (default /usr/bin/python3, Debian's, with torch 1.13 and optuna 3.1),
# HW1_DATA_DIR (default ../shared/data when it exists), GO_LENET5_STEPS
# (full mode: time this many steps on the go backend and extrapolate;
# default 0, the whole epoch), XLA_LENET5_STEPS (same for xla; quick mode
# default 300), REGRESSION_STUDY_TRIALS (50), CLASSIFICATION_STUDY_TRIALS
# (20), REGRESSION_STUDY_SEEDS ("0 1 2 3 4 5 6 7") and
# CLASSIFICATION_STUDY_SEEDS ("0 1 2": each study runs once per seed, and
# its lines sum the seeds), HOMEWORK_REGRESSION_TRIALS (50),
# HOMEWORK_CLASSIFICATION_TRIALS (20), HOMEWORK_CLASSIFICATION_MAX_EPOCHS,
# HOMEWORK_CV_TRAIN and HOMEWORK_CV_EPOCHS (a smaller homework, both sides
# alike: the classification's epochs capped, its CV over a subset, the
# folds' epochs; unset: the seed's), HOMEWORK_TIMEOUT (seconds per
# homework run, default 21600), BENCH_SETTLE_S (before each run, wait up
# to this long for the 1-minute load to fall to half the cores; default 90,
# 0 with --smoke; 0: no wait).
#
# A run that starts while the 1-minute load average exceeds half the cores
# is noisy: the table's verdicts over it read "noisy" instead of yes/no.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The builds enable Go's SIMD package, as the Makefile does (scripts/lib.sh says why).
export GOEXPERIMENT=${GOEXPERIMENT:-simd}

runs=""
quick=0
smoke=0
profile=0
backends=""
backends_given=""
only=""
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--smoke) smoke=1 ;;
	--profile) profile=1 ;;
	--runs) runs=$2; shift ;;
	--backends) backends=$2; backends_given=1; shift ;;
	--only) only=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

SAY_PREFIX=bench
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
default_data_dirs
out=${out:-bench/out/run-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

all_items="lenet5_64 lenet5_256 regression_epoch regression_cv regression_study classification_study"
reg_study_trials=${REGRESSION_STUDY_TRIALS:-50}
cls_study_trials=${CLASSIFICATION_STUDY_TRIALS:-20}
# The studies run once per seed, each in its own process on each side: a
# study's trials, hence its epochs and time, depend on the seed (docs/PERFORMANCE.md).
reg_study_seeds=${REGRESSION_STUDY_SEEDS:-0 1 2 3 4 5 6 7}
cls_study_seeds=${CLASSIFICATION_STUDY_SEEDS:-0 1 2}
hw_reg_trials=${HOMEWORK_REGRESSION_TRIALS:-50}
hw_cls_trials=${HOMEWORK_CLASSIFICATION_TRIALS:-20}
hw_timeout=${HOMEWORK_TIMEOUT:-21600}
# Reduced homework runs (both sides alike; the table names every cut).
hw_cuts=""
[ -n "${HOMEWORK_CLASSIFICATION_MAX_EPOCHS:-}" ] && hw_cuts="$hw_cuts --classification-max-epochs $HOMEWORK_CLASSIFICATION_MAX_EPOCHS"
[ -n "${HOMEWORK_CV_TRAIN:-}" ] && hw_cuts="$hw_cuts --cv-train $HOMEWORK_CV_TRAIN"
[ -n "${HOMEWORK_CV_EPOCHS:-}" ] && hw_cuts="$hw_cuts --cv-epochs $HOMEWORK_CV_EPOCHS"
# Smoke sizes: the flags of each side that make an item tiny (empty: the real sizes).
go_study_small=""
py_reg_study_small=""
py_cls_study_small=""
hw_small=""
reg_epochs_small=""
if [ "$quick" = 1 ] && [ "$smoke" = 1 ]; then
	echo "run.sh: --quick and --smoke exclude each other" >&2
	exit 2
fi
if [ "$quick" = 1 ]; then
	runs=${runs:-1}
	only=${only:-"lenet5_64 regression_cv"}
	xla_steps=${XLA_LENET5_STEPS:-300}
	go_steps=${GO_LENET5_STEPS:-50}
	item_timeout=600
elif [ "$smoke" = 1 ]; then
	runs=${runs:-1}
	only=${only:-"$all_items homework"}
	xla_steps=5
	go_steps=5
	item_timeout=900
	hw_timeout=900
	reg_study_trials=2 cls_study_trials=2 hw_reg_trials=2 hw_cls_trials=2
	reg_study_seeds=${REGRESSION_STUDY_SEEDS:-0 1} cls_study_seeds=${CLASSIFICATION_STUDY_SEEDS:-0}
	go_study_small="--max-epochs 1"
	py_reg_study_small="--min-epochs 1 --max-epochs 1"
	py_cls_study_small="--min-epochs 1 --max-epochs 1"
	hw_small="--max-epochs 1 --cv-epochs 1 --cv-train 6000"
	reg_epochs_small="--epochs 5"
else
	runs=${runs:-3}
	only=${only:-"$all_items"}
	xla_steps=${XLA_LENET5_STEPS:-0}
	go_steps=${GO_LENET5_STEPS:-0}
	item_timeout=3600
fi

bin="$out/bench-go"
go build -o "$bin" ./bench/go
if [ -z "$backends" ]; then
	backends=$("$bin" backends 2>"$out/backends.err" | tr '\n' ' ')
fi
reference_python torch

# pytorch_cmd ITEM and project_cmd ITEM BACKEND print the command of a run.
pytorch_cmd() {
	case "$1" in
	lenet5_64) echo "$py bench/pytorch/lenet5.py --batch 64" ;;
	lenet5_256) echo "$py bench/pytorch/lenet5.py --batch 256" ;;
	regression_epoch) echo "$py bench/pytorch/regression.py --bench epoch $reg_epochs_small" ;;
	regression_cv) echo "$py bench/pytorch/regression.py --bench cv $reg_epochs_small" ;;
	regression_study) echo "$py bench/pytorch/study.py --trials $reg_study_trials $py_reg_study_small" ;;
	classification_study) echo "$py bench/pytorch/classification_study.py --trials $cls_study_trials $py_cls_study_small" ;;
	homework) echo "$py bench/pytorch/homework.py --regression-trials $hw_reg_trials --classification-trials $hw_cls_trials $hw_cuts $hw_small" ;;
	esac
}
project_cmd() {
	local steps=0
	[ "$2" = go ] && steps=$go_steps
	[ "$2" = xla ] && steps=$xla_steps
	local extra=""
	[ "$quick" = 1 ] && extra="--no-eval"
	case "$1" in
	lenet5_64) echo "$bin lenet5 --backend $2 --batch 64 --steps $steps $extra" ;;
	lenet5_256) echo "$bin lenet5 --backend $2 --batch 256 --steps $steps $extra" ;;
	regression_epoch) echo "$bin regression --bench epoch --backend $2 $reg_epochs_small" ;;
	regression_cv) echo "$bin regression --bench cv --backend $2 $reg_epochs_small" ;;
	regression_study) echo "$bin study --task regression --trials $reg_study_trials --backend $2 $go_study_small" ;;
	classification_study) echo "$bin study --task classification --trials $cls_study_trials --backend $2 $go_study_small" ;;
	homework) echo "$bin homework --regression-trials $hw_reg_trials --classification-trials $hw_cls_trials --backend $2 $hw_cuts $hw_small" ;;
	esac
}
# project_backends ITEM: the backends an item runs on (quick mode measures
# the CV on xla only, to stay under 5 minutes; the homework runs each task on
# its default backend, as `make run` does, unless --backends names some).
project_backends() {
	if [ "$1" = homework ] && [ -z "$backends_given" ]; then
		echo default
		return
	fi
	if [ "$quick" = 1 ] && [ "$1" = regression_cv ]; then
		case " $backends " in *" xla "*) echo xla ;; *) echo "$backends" ;; esac
		return
	fi
	echo "$backends"
}

# measure NAME CMD...: runs CMD, appends its JSON line to the results and
# keeps its stderr; a failure is reported and the bench goes on.
# settle waits, up to $BENCH_SETTLE_S seconds (default 90; 0: no wait), for the
# 1-minute load to fall to half the cores: the previous run's own threads keep
# it above that for about 40 s after they end, and a run that starts above it
# is noisy (bench/go/table.go). It says when it gave up.
settle() {
	local limit=${BENCH_SETTLE_S:-$([ "$smoke" = 1 ] && echo 0 || echo 90)} waited=0 half
	half=$(($(nproc) / 2))
	while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v h="$half" 'BEGIN{exit !(l > h)}'; do
		if [ "$waited" -ge "$limit" ]; then
			echo "  (load $(cut -d' ' -f1 /proc/loadavg) still above $half after ${limit}s: the next run will be noisy)" >&2
			return
		fi
		sleep 5
		waited=$((waited + 5))
	done
}

measure() {
	local name=$1
	shift
	settle
	local start=$SECONDS
	local line limit=$item_timeout
	case "$name" in homework-*) limit=$hw_timeout ;; esac
	if line=$(timeout "$limit" "$@" 2>>"$out/$name.err" | grep '^{' | tail -1) && [ -n "$line" ]; then
		echo "$line" >>"$results"
		printf '  %-34s %4ds\n' "$name" $((SECONDS - start)) >&2
	else
		printf '  %-34s FAILED after %ds (see %s)\n' "$name" $((SECONDS - start)) "$out/$name.err" >&2
	fi
}

echo "bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), backends: $backends, runs: $runs$([ "$quick" = 1 ] && echo ', quick')$([ "$smoke" = 1 ] && echo ', smoke (tiny sizes: the numbers mean nothing)')" >&2
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# The noisy rule (bench/go/table.go): a run that starts above half the cores
# measures its neighbours as much as the code.
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" -v c="$(nproc)" 'BEGIN { exit !(l > c / 2) }'; then
	echo "warning: the 1-minute load average $load1 exceeds half of the $(nproc) cores: runs that start so are noisy, and the table says so instead of yes/no" >&2
fi
# item_seeds ITEM: the seeds an item runs over ("-": one run with the
# commands' own seed).
item_seeds() {
	case "$1" in
	regression_study) echo "$reg_study_seeds" ;;
	classification_study) echo "$cls_study_seeds" ;;
	*) echo - ;;
	esac
}
for r in $(seq 1 "$runs"); do
	echo "run $r/$runs" >&2
	for item in $only; do
		for seed in $(item_seeds "$item"); do
			tag=$r seed_flag=""
			[ "$seed" != - ] && tag=$r-seed$seed seed_flag="--seed $seed"
			pcmd=$(pytorch_cmd "$item" || true)
			[ -n "$pcmd" ] && pcmd="$pcmd $seed_flag"
			# Alternate which side goes first, so that neither always meets the
			# machine in the same state.
			if [ $((r % 2)) = 1 ] && [ -n "$pcmd" ]; then measure "$item-pytorch-$tag" $pcmd; fi
			for be in $(project_backends "$item"); do
				cmd="$(project_cmd "$item" "$be") $seed_flag"
				# (not xla: Go's profiling signal crashes the plugin, bench/go/main.go)
				[ "$profile" = 1 ] && [ "$be" = go ] && cmd="$cmd --cpuprofile $out/$item-$be-$tag.prof"
				measure "$item-$be-$tag" $cmd
			done
			if [ $((r % 2)) = 0 ] && [ -n "$pcmd" ]; then measure "$item-pytorch-$tag" $pcmd; fi
		done
	done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "results: $results" >&2
[ "$quick" = 1 ] && [ "$go_steps" -gt 0 ] && echo "note: the go backend's LeNet5 epoch is extrapolated from $go_steps steps$([ "$xla_steps" -gt 0 ] && echo ", xla's from $xla_steps"); PyTorch's is a whole epoch" >&2
quick_flag=""
[ "$quick" = 1 ] && quick_flag=--quick
"$bin" table $quick_flag "$results" | tee "$out/table.md"
