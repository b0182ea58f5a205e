# Shell helpers shared by scripts/setup.sh, scripts/setup-notebooks.sh and the
# other scripts of scripts/ and bench/ (sourced, not run). Set SAY_PREFIX before sourcing.
#
# Everything the set-up installs lives inside the clone (.venv/, .tools/,
# tests/browser/node_modules/, bin/), so that every clean clone, and every CI
# run, takes the whole install path; Debian packages are the one exception.

# Every Go build of the project (bin/hw1, the GoNB kernel's cells, the tests,
# the benchmarks) enables Go's SIMD package: the pure-Go backend's matrix
# products then use AVX2/AVX-512 where the processor has them, which trains
# LeNet5 about 1.6x faster (docs/PERFORMANCE.md). Other architectures ignore
# it. The Makefile sets the same.
export GOEXPERIMENT=${GOEXPERIMENT:-simd}

say() { printf '%s: %s\n' "${SAY_PREFIX:-setup}" "$*" >&2; }

# The clone's own tool folder: goimports and gopls (GOBIN), and the logs of
# the set-up's steps.
HW1_TOOLS=${HW1_TOOLS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools}
mkdir -p "$HW1_TOOLS/bin" "$HW1_TOOLS/logs"

# step [--retry] NAME COMMAND...: runs one step of the set-up with its output
# in .tools/logs/NAME.log. On success it prints nothing more than the step's
# name; on failure it prints the step, the command and the command's output,
# and exits with the command's status. --retry runs a failed command once
# more after a pause: for steps that download from a registry (apt, PyPI,
# the Go proxy, npm), where a dropped connection is worth a second try.
step() {
  local retry=0
  if [ "$1" = --retry ]; then retry=1; shift; fi
  local name=$1; shift
  local log="$HW1_TOOLS/logs/$name.log"
  local try status
  say "$name: $*"
  for try in 1 2; do
    status=0
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -eq 0 ]; then return 0; fi
    if [ "$retry" -eq 0 ] || [ "$try" -eq 2 ]; then break; fi
    say "$name failed (exit $status); retrying once in 5 s"
    sleep 5
  done
  {
    printf '\n%s: step "%s" failed (exit %d)\n' "${SAY_PREFIX:-setup}" "$name" "$status"
    printf '  command: %s\n' "$*"
    printf '  output (also in %s):\n' "$log"
    if [ "$(wc -l <"$log")" -gt 200 ]; then
      printf '  ... (the first %d lines are in the log)\n' "$(($(wc -l <"$log") - 200))"
    fi
    tail -n 200 "$log" | sed 's/^/  | /'
  } >&2
  exit "$status"
}

# apt_install PACKAGE...: installs Debian packages; `apt-get update` runs at
# most once per set-up, across both scripts (HW1_APT_UPDATED is exported).
apt_install() {
  if [ -z "${HW1_APT_UPDATED:-}" ]; then
    step --retry apt-get-update apt-get update
    export HW1_APT_UPDATED=1
  fi
  step --retry "apt-get-install-$1" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# default_data_dirs: for the scripts run outside make (bench/, scripts/),
# $HW1_DATA_DIR defaults to ../shared/data next to the clone when it exists
# (the Makefile's default), and $REGRESSION_DIR, which bench/pytorch reads,
# to its regression folder.
default_data_dirs() {
  local shared
  shared="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/data"
  if [ -z "${HW1_DATA_DIR:-}" ] && [ -d "$shared" ]; then
    export HW1_DATA_DIR="$shared"
  fi
  if [ -z "${REGRESSION_DIR:-}" ] && [ -n "${HW1_DATA_DIR:-}" ]; then
    export REGRESSION_DIR="$HW1_DATA_DIR/regression"
  fi
}

# reference_python MODULE...: the bench's PyTorch side. Sets $py to
# $PYTORCH_PYTHON, else Debian's /usr/bin/python3, whose python3-torch (1.13)
# and python3-optuna (3.1) are installed here when missing, as setup.sh
# installs its Debian packages, so that a fresh machine can run the bench.
# Exits when $py cannot import every MODULE.
reference_python() {
  py=${PYTORCH_PYTHON:-/usr/bin/python3}
  if [ -z "${PYTORCH_PYTHON:-}" ] && ! "$py" -c 'import torch, optuna' 2>/dev/null; then
    apt_install python3-torch python3-optuna
  fi
  local m
  for m in "$@"; do
    if ! "$py" -c "import $m" 2>/dev/null; then
      say "$py cannot import $m: set PYTORCH_PYTHON to a Python with torch 1.13 and optuna 3.1 (bench/README.md)"
      exit 1
    fi
  done
}
