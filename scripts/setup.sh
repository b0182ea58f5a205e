#!/usr/bin/env bash
# Sets up everything the project needs on a Debian 12 machine, installing only
# what is missing: it is what `make run` and `make test` call first, and it is
# quick when everything is already there.
#
#   - Debian's dataset-fashion-mnist (the images, read from /usr/share/datasets)
#     and PostgreSQL's server binaries (the storage tests start their own server)
#   - the Python venv .venv with the pinned XLA CPU PJRT plugin, Optuna and
#     optuna-dashboard (and, through
#     scripts/setup-notebooks.sh, JupyterLab, nbconvert, goimports, the GoNB
#     kernel, Chromium and playwright-core for the notebook checks)
#   - bin/hw1, the command line
#
# Everything lands inside the clone (.venv/, .tools/, bin/); a failed step
# prints its command and output (scripts/lib.sh, step) and exits non-zero.
#
# Usage: scripts/setup.sh [--no-notebooks]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SAY_PREFIX=setup
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# 1. Fashion-MNIST from Debian (lib/data verifies the decompressed payload).
if [ ! -s /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
  apt_install dataset-fashion-mnist
fi

# 2. The project venv with the XLA CPU plugin, Optuna and optuna-dashboard. A stamp holding the hash of the
#    requirement files makes a second run a no-op.
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  apt_install python3 python3-venv # a bare image (docker/Dockerfile) has no Python
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  if ! "$python" -m venv .venv >/dev/null 2>&1; then
    apt_install python3-venv # Debian's python3 lacks ensurepip without it
    rm -rf .venv
    step create-venv "$python" -m venv .venv
  fi
fi
reqs=(scripts/requirements-xla.txt scripts/requirements-optuna.txt)
want=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.hw1-xla-stamp 2>/dev/null)" != "$want" ]; then
  # shellcheck disable=SC2046 # one -r per file
  step --retry pip-install .venv/bin/pip install --disable-pip-version-check $(printf -- '-r %s ' "${reqs[@]}")
  echo "$want" > .venv/.hw1-xla-stamp
fi

# 3. Debian's PostgreSQL server binaries: the storage tests start their own
#    server (initdb in a temp folder, loopback); nothing runs as a service.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql
fi

# 4. Go modules (the GoNB kernel is one of them, a Go tool of go.mod).
step --retry go-mod-download go mod download

# 5. The notebook tools (JupyterLab, nbconvert, goimports, GoNB, Chromium, Playwright).
if [ "${1:-}" != "--no-notebooks" ] && [ -x scripts/setup-notebooks.sh ]; then
  scripts/setup-notebooks.sh
fi

# 6. The command line.
step go-build-hw1 go build -o bin/hw1 ./cmd/hw1
say "ready (bin/hw1; venv $root/.venv)"
