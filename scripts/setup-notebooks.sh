#!/usr/bin/env bash
# Installs what the notebooks and their checks need, and only what is missing,
# so that a second run takes a second or two. Everything lands in the clone:
#
#   - JupyterLab, nbconvert and nbclient in the project venv .venv
#     (pins in scripts/requirements-notebooks.txt);
#   - goimports (GoNB needs it) and, unless HW1_NO_GOPLS=1, gopls (completion
#     and hover in JupyterLab), pinned below, into .tools/bin (GOBIN);
#   - the GoNB kernel, the version go.mod pins, installed into the venv's
#     Jupyter data folder (.venv/share/jupyter/kernels/gonb) with a copy of its
#     binary there, so the kernel does not depend on Go's build cache; its
#     kernel.json puts .tools/bin first on the kernel's PATH, so JupyterLab,
#     nbconvert and the checks find goimports with no PATH of their own;
#   - Debian's chromium (apt) and npm's playwright-core (tests/browser, from
#     its package-lock.json) for the browser check. Set HW1_NO_BROWSER=1 to
#     skip both (the headless check does not need them).
#
# A failed step prints its command and output and exits non-zero
# (scripts/lib.sh, step).
#
# Usage: scripts/setup-notebooks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Pinned tool versions (served by the Go module proxy; built with the local Go).
GOIMPORTS_VERSION=v0.52.0
GOPLS_VERSION=v0.23.0 # v0.24.0 needs a newer Go than go.mod's

SAY_PREFIX=setup-notebooks
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# 1. Python side: the venv (scripts/setup.sh normally made it) and the pinned packages.
if [ ! -x .venv/bin/python ]; then
  step create-venv "${PYTHON:-python3}" -m venv .venv
fi
want=$(sha256sum scripts/requirements-notebooks.txt | cut -d' ' -f1)
if [ "$(cat .venv/.hw1-notebooks-stamp 2>/dev/null)" != "$want" ] || [ ! -x .venv/bin/jupyter-lab ]; then
  step --retry pip-install-notebooks .venv/bin/pip install --disable-pip-version-check -r scripts/requirements-notebooks.txt
  echo "$want" > .venv/.hw1-notebooks-stamp
fi

# 2. Go tools GoNB calls, in the clone's .tools/bin. `go version -m` tells
#    which module version a binary was built from; a missing binary has none.
gobin=$HW1_TOOLS/bin
go_tool() { # go_tool NAME PACKAGE MODULE VERSION
  local have=""
  if [ -x "$gobin/$1" ]; then
    have=$(go version -m "$gobin/$1" | awk -v m="$3" '$1 == "mod" && $2 == m {print $3}') || have=""
  fi
  if [ "$have" != "$4" ]; then
    step --retry "go-install-$1" env GOBIN="$gobin" GOTOOLCHAIN=local go install "$2@$4"
  fi
}
go_tool goimports golang.org/x/tools/cmd/goimports golang.org/x/tools "$GOIMPORTS_VERSION"
if [ "${HW1_NO_GOPLS:-}" != 1 ]; then
  go_tool gopls golang.org/x/tools/gopls golang.org/x/tools/gopls "$GOPLS_VERSION"
fi

# 3. The GoNB kernel, at the version go.mod pins. A stamp in the kernel folder
#    records the version and the clone it was installed for.
kernel_dir=.venv/share/jupyter/kernels/gonb
gonb_version=$(go list -m -f '{{.Version}}' github.com/janpfeifer/gonb)
stamp="$gonb_version $root 3 $GOEXPERIMENT"
if [ "$(cat "$kernel_dir/.hw1-stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$kernel_dir/gonb" ]; then
  # --force_copy puts the binary beside kernel.json, where it stays valid
  # after `go clean -cache`; --force_deps because the tools are not on the
  # PATH of this script (the kernel gets them through kernel.json below).
  step install-gonb-kernel env JUPYTER_DATA_DIR="$root/.venv/share/jupyter" \
    go tool gonb --install --force_copy --force_deps
  rm -f "$kernel_dir/gonb~"
  # Jupyter expands ${PATH} in a kernel spec's env from the environment of
  # whoever starts the kernel (JupyterLab, nbclient).
  # GOEXPERIMENT (scripts/lib.sh) goes to the kernel too: GoNB builds each
  # cell with the kernel's environment, and the cells train on pure Go.
  step kernel-env "$root/.venv/bin/python" - "$kernel_dir/kernel.json" "$gobin" "$GOEXPERIMENT" <<'PY'
import json, sys
path, gobin, experiment = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.load(open(path))
spec.setdefault("env", {})["PATH"] = gobin + ":${PATH}"
spec["env"]["GOEXPERIMENT"] = experiment
with open(path + ".tmp", "w") as f:
    json.dump(spec, f, indent=2)
import os
os.replace(path + ".tmp", path)
PY
  echo "$stamp" > "$kernel_dir/.hw1-stamp"
fi

# 4. The browser check: Debian's Chromium, never a browser download.
if [ "${HW1_NO_BROWSER:-}" != 1 ]; then
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium fonts-liberation
  fi
  if ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  lock_sum=$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)
  if [ "$(cat tests/browser/node_modules/.hw1-stamp 2>/dev/null)" != "$lock_sum" ]; then
    # playwright-core itself downloads no browser; the variable makes sure.
    step --retry npm-ci env -C tests/browser PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
      npm ci --no-audit --no-fund
    echo "$lock_sum" > tests/browser/node_modules/.hw1-stamp
  fi
fi
say "ready"
