#!/usr/bin/env bash
# Runs the README's test command as a new machine would, as closely as this
# machine allows: a clean clone of the committed HEAD in a temp folder, with
# HOME, GOPATH and GOBIN empty temp folders, so nothing that earlier work left
# in ~/go/bin, ~/.cache, ~/.npm or ~/.local can stand in for a missing install
# step. Only the Go module and build caches are reused (they save download
# and compile time, and hold nothing a clean machine would lack: the same
# modules come from the proxy), as are the Debian packages, which the set-up
# installs when missing.
#
# Uncommitted changes are not tested: commit first.
#
# Usage: scripts/fresh-clone-test.sh [--keep]   (--keep leaves the temp folder)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

keep=0
[ "${1:-}" = --keep ] && keep=1

modcache=$(go env GOMODCACHE)
buildcache=$(go env GOCACHE)
base=$(mktemp -d /tmp/hw1-fresh.XXXXXX)
cleanup() {
  if [ "$keep" = 1 ]; then
    echo "fresh-clone-test: left $base" >&2
  else
    chmod -R u+w "$base" 2>/dev/null || true # the module cache's files are read-only
    rm -rf "$base"
  fi
}
trap cleanup EXIT

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "fresh-clone-test: uncommitted changes are not part of the test (it clones HEAD $(git rev-parse --short HEAD))" >&2
fi

# The clone sits beside a copy of shared/ as CI's does (../shared/data).
git clone -q --no-hardlinks "$src" "$base/main"
if [ -d "$src/../shared" ]; then
  ln -s "$(cd "$src/../shared" && pwd)" "$base/shared"
fi
mkdir -p "$base/home" "$base/gopath" "$base/gobin"

start=$(date +%s)
status=0
(
  cd "$base/main"
  # The machine's environment (its certificate and proxy settings reach the
  # registries), less what points at earlier state: the project's own
  # variables, a venv, Jupyter's and XDG's folders.
  unset $(env | sed -n 's/^\(HW1_[A-Z0-9_]*\|GOMLX_[A-Z0-9_]*\|PJRT_[A-Z0-9_]*\|JUPYTER[A-Z0-9_]*\|XDG_[A-Z0-9_]*\|VIRTUAL_ENV\|GOFLAGS\|GOENV\|GOEXPERIMENT\)=.*/\1/p')
  export HOME="$base/home" GOPATH="$base/gopath" GOBIN="$base/gobin" \
    GOMODCACHE="$modcache" GOCACHE="$buildcache" CI=true
  bash .ci/run
) || status=$?
echo "fresh-clone-test: $( [ $status = 0 ] && echo passed || echo "FAILED (exit $status)" ) in $(( $(date +%s) - start )) s (clone of $(git rev-parse --short HEAD) in $base/main)"
exit $status
