#!/usr/bin/env bash
# bench-hpo: lib/hpo's TPE against Optuna's (Debian python3-optuna 3.1) on Branin, Hartmann-6, a
# 10-D log-space function and a mixed categorical + conditional function: median regret over
# SEEDS studies of TRIALS trials, and sampler CPU time per trial at trial 100 and TIMING_TRIALS.
# Prints the table; the last line is worst_regret_ratio=X. Outputs land in $OUT (git-ignored).
#
# Environment: PYTHON (default /usr/bin/python3), SEEDS (20), TRIALS (100), TIMING_TRIALS (1000),
# JOBS (parallel Python studies, default nproc), OUT (bench/out/hpo), HPO_BENCH_BIN (a prebuilt
# bench/hpo binary; default: go build).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
SEEDS=${SEEDS:-20}
TRIALS=${TRIALS:-100}
TIMING=${TIMING_TRIALS:-1000}
JOBS=${JOBS:-$(nproc)}
OUT=${OUT:-bench/out/hpo}
BIN=${HPO_BENCH_BIN:-}
mkdir -p "$OUT"
rm -f "$OUT"/optuna.*.jsonl
if [ -z "$BIN" ]; then
  go build -o "$OUT/hpo-bench" ./bench/hpo
  BIN=$OUT/hpo-bench
fi
# Optuna's NumPy must not spread over threads: the Go side is single-threaded too.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
FUNCS="branin hartmann6 logsphere10 mixed"

optuna_task() { # func seed-start seeds timing-trials
  "$PY" bench/hpo/optuna_bench.py --funcs "$1" --seed-start "$2" --seeds "$3" --timing-trials "$4" \
    --trials "$TRIALS" > "$OUT/optuna.$1.$2.$3.$4.jsonl"
}
export -f optuna_task
export PY OUT TRIALS

echo "bench-hpo: $SEEDS seeds x $TRIALS trials per function, timing at $TIMING trials, $JOBS jobs" >&2
# Phase 1: Optuna's studies, one process per (function, seed).
for f in $FUNCS; do
  for ((s = 0; s < SEEDS; s++)); do echo "$f $s 1 0"; done
done | xargs -P "$JOBS" -L 1 bash -c 'optuna_task "$@"' _
# Phase 2: Optuna's timing studies (CPU time of each process, so running them side by side is fair).
for f in $FUNCS; do echo "$f 0 0 $TIMING"; done | xargs -P "$JOBS" -L 1 bash -c 'optuna_task "$@"' _
# Phase 3: the Go side, then the table.
cat "$OUT"/optuna.*.jsonl > "$OUT/optuna.jsonl"
rm -f "$OUT"/optuna.*.jsonl
"$BIN" -seeds "$SEEDS" -trials "$TRIALS" -timing-trials "$TIMING" -optuna "$OUT/optuna.jsonl" | tee "$OUT/table.txt"
