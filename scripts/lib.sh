# Shell helpers shared by scripts/setup.sh and scripts/setup-notebooks.sh
# (sourced, not run). Set SAY_PREFIX before sourcing.

say() { printf '%s: %s\n' "${SAY_PREFIX:-setup}" "$*" >&2; }

# apt_install PACKAGE...: installs Debian packages; `apt-get update` runs at
# most once per set-up, across both scripts (HW1_APT_UPDATED is exported).
apt_install() {
  if [ -z "${HW1_APT_UPDATED:-}" ]; then
    say "apt-get update"
    apt-get update -qq
    export HW1_APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
