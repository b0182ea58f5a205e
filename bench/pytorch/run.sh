#!/bin/sh
# Runs every PyTorch reference benchmark once, one process each (so peak RSS is each run's own),
# and collects their JSON lines in bench/out/pytorch.jsonl (git-ignored). Takes a few minutes on
# an idle 2-core machine; see bench/README.md. Not homework.py, which takes hours.
set -eu
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
OUT=bench/out/pytorch.jsonl
mkdir -p bench/out
: > "$OUT.tmp"
for batch in 64 256; do
	"$PY" bench/pytorch/lenet5.py --batch "$batch" | tee -a "$OUT.tmp"
done
"$PY" bench/pytorch/regression.py --bench epoch | tee -a "$OUT.tmp"
"$PY" bench/pytorch/regression.py --bench cv | tee -a "$OUT.tmp"
"$PY" bench/pytorch/study.py --trials "${STUDY_TRIALS:-50}" | tee -a "$OUT.tmp"
"$PY" bench/pytorch/classification_study.py --trials "${CLASSIFICATION_STUDY_TRIALS:-20}" | tee -a "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT" >&2
