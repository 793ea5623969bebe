#!/usr/bin/env bash
# Idempotent set-up for proctor. `npm run quickstart` calls it plain (npm packages only);
# `npm run test:all` calls it with --test, which also installs the system packages the tests use
# (Debian: chromium for browser students, influxdb for the storage tests) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    *) echo "setup.sh: unknown flag '$arg' (known: --test)" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }

# 1. npm dependencies (also applies patches/ through the postinstall hook).
if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] \
   || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund
else
  say "npm dependencies up to date"
fi

# 2. System packages for the tests.
if [ "$want_test" = 1 ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  if [ ${#missing[@]} -eq 0 ]; then
    say "system packages present (chromium, influxdb, iproute2)"
  elif [ "$(id -u)" != 0 ]; then
    say "missing system packages: ${missing[*]}"
    say "not root, so not installing them; run: sudo apt-get install -y ${missing[*]}"
    say "tests that need them will be skipped with a printed reason"
  elif ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages: ${missing[*]} (no apt-get here; install them by hand)"
  else
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || say "apt-get update failed; trying the install anyway"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || say "apt-get install failed for: ${missing[*]} (dependent tests will be skipped)"
    # Debian's influxdb package may start a system service with default ports; tests run their own.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop influxdb >/dev/null 2>&1 || true; fi
  fi
fi
say "done"
