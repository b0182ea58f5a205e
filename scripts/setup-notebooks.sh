#!/usr/bin/env bash
# Installs what the notebooks and their checks need, and only what is missing,
# so that a second run takes a second or two:
#
#   - JupyterLab, nbconvert and nbclient in the project venv .venv
#     (pins in scripts/requirements-notebooks.txt);
#   - goimports (GoNB needs it) and, unless HW1_NO_GOPLS=1, gopls (completion
#     and hover in JupyterLab), pinned below, into $(go env GOPATH)/bin;
#   - the GoNB kernel, the version go.mod pins, installed into the venv's
#     Jupyter data folder (.venv/share/jupyter/kernels/gonb) with a copy of its
#     binary there, so the kernel does not depend on Go's build cache;
#   - Debian's chromium (apt) and npm's playwright-core (tests/browser, from
#     its package-lock.json) for the browser check. Set HW1_NO_BROWSER=1 to
#     skip both (the headless check does not need them).
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
  say "creating .venv"
  "${PYTHON:-python3}" -m venv .venv
fi
want=$(sha256sum scripts/requirements-notebooks.txt | cut -d' ' -f1)
if [ "$(cat .venv/.hw1-notebooks-stamp 2>/dev/null)" != "$want" ] || [ ! -x .venv/bin/jupyter-lab ]; then
  say "pip install -r scripts/requirements-notebooks.txt"
  .venv/bin/pip install --disable-pip-version-check -q -r scripts/requirements-notebooks.txt
  echo "$want" > .venv/.hw1-notebooks-stamp
fi

# 2. Go tools GoNB calls. `go version -m` tells which version a binary was built from.
gobin=$(go env GOBIN)
gobin=${gobin:-$(go env GOPATH)/bin}
export PATH="$gobin:$PATH"
go_tool() { # go_tool NAME PACKAGE MODULE VERSION
  local have
  have=$(go version -m "$gobin/$1" 2>/dev/null | awk -v m="$3" '$1 == "mod" && $2 == m {print $3}')
  if [ "$have" != "$4" ]; then
    say "go install $2@$4"
    GOTOOLCHAIN=local go install "$2@$4"
  fi
}
go_tool goimports golang.org/x/tools/cmd/goimports golang.org/x/tools "$GOIMPORTS_VERSION"
if [ "${HW1_NO_GOPLS:-}" != 1 ]; then
  go_tool gopls golang.org/x/tools/gopls golang.org/x/tools/gopls "$GOPLS_VERSION"
fi

# 3. The GoNB kernel, at the version go.mod pins. A stamp in the kernel folder
#    records the version and the path of the venv it was installed for.
kernel_dir=.venv/share/jupyter/kernels/gonb
gonb_version=$(go list -m -f '{{.Version}}' github.com/janpfeifer/gonb)
stamp="$gonb_version $root"
if [ "$(cat "$kernel_dir/.hw1-stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$kernel_dir/gonb" ]; then
  say "installing the GoNB kernel $gonb_version into $kernel_dir"
  # --force_copy puts the binary beside kernel.json, where it stays valid
  # after `go clean -cache`; --force_deps because gopls is optional.
  JUPYTER_DATA_DIR="$root/.venv/share/jupyter" go tool gonb --install --force_copy --force_deps >/dev/null 2>&1 ||
    { say "go tool gonb --install failed; rerun it by hand to see why"; exit 1; }
  rm -f "$kernel_dir/gonb~"
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
    say "npm ci (tests/browser)"
    # playwright-core itself downloads no browser; the variable makes sure.
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$lock_sum" > tests/browser/node_modules/.hw1-stamp
  fi
fi
say "ready"
