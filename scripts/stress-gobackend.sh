#!/usr/bin/env bash
# Stress test of the pure-Go backend's parallel op executor, whose worker pool
# deadlocks with its default limit (docs/upstream-simplego-deadlock.md). Not
# part of CI: it takes minutes of both cores. Run it after moving to another
# GoMLX or compute version, or before changing lib/backend's DefaultGoOptions.
#
#   scripts/stress-gobackend.sh              20 runs of the reproduction, then
#                                            1,000 LeNet5 train steps, with
#                                            lib/backend's default options
#   scripts/stress-gobackend.sh --runs 50 --steps 2000 --options ops_parallel
#
# Options: --runs N (runs of internal/repro/simplegodeadlock, default 20),
# --steps N (LeNet5 train steps at batch 64, default 1000; 0 skips them),
# --options OPTS (pure-Go backend options for both; default lib/backend's
# DefaultGoOptions, read from lib/backend/backend.go; "ops_parallel" is
# GoMLX's own parallel executor with the pool's default limit, which hangs),
# --timeout S (limit of the LeNet5 run, default 1800 s). A reproduction run
# without progress for 60 s, or a LeNet5 run past the limit, fails the script;
# the LeNet5 run is then sent SIGQUIT, so that its goroutine dump shows where
# it waits. Fashion-MNIST must be where lib/data finds it ($HW1_DATA_DIR,
# ../shared/data, /usr/share/datasets).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The builds enable Go's SIMD package, as the Makefile does (scripts/lib.sh says why).
export GOEXPERIMENT=${GOEXPERIMENT:-simd}

runs=20
steps=1000
options=$(sed -n 's/^const DefaultGoOptions = "\(.*\)"$/\1/p' lib/backend/backend.go)
limit=1800
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift ;;
	--steps) steps=$2; shift ;;
	--options) options=$2; shift ;;
	--timeout) limit=$2; shift ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "stress-gobackend.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
SAY_PREFIX=stress-gobackend
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
default_data_dirs
# The options given here, not ones left in the environment.
unset HW1_GO_OPTIONS GOMLX_BACKEND

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/repro" ./internal/repro/simplegodeadlock
go build -o "$tmp/bench" ./bench/go

echo "stress: load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, go backend options \"$options\""
hung=0
for i in $(seq 1 "$runs"); do
	start=$(date +%s%N)
	# tail: compute prints "Go backend: parallelism set to N" first.
	if out=$("$tmp/repro" "$options" 2>&1 | tail -1); then
		status=ok
	else
		status=FAILED
		hung=$((hung + 1))
	fi
	ms=$((($(date +%s%N) - start) / 1000000))
	printf 'repro %d/%d: %s (%d ms): %s\n' "$i" "$runs" "$status" "$ms" "$out"
done
echo "stress: reproduction: $((runs - hung)) of $runs runs finished, $hung hung or failed"

lenet=0
if [ "$steps" -gt 0 ]; then
	backend="go:${options:-ops_parallel}"
	# Two timed epochs of steps/2 batches of 64 images: steps train steps after
	# the warm-up step.
	half=$(((steps + 1) / 2))
	echo "stress: LeNet5, $((2 * half)) train steps at batch 64 on --backend $backend (limit ${limit} s)"
	if timeout -s QUIT -k 30 "$limit" "$tmp/bench" lenet5 --backend "$backend" --batch 64 --epochs 2 --steps "$half" --no-eval; then
		echo "stress: LeNet5 finished"
	else
		echo "stress: LeNet5 FAILED or hung (exit $?)"
		lenet=1
	fi
fi

if [ "$hung" -gt 0 ] || [ "$lenet" -ne 0 ]; then
	echo "stress: FAILED"
	exit 1
fi
echo "stress: ok"
