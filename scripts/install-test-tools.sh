#!/usr/bin/env bash
# Debian packages some tests use, installed when missing and when we can (root, apt):
#   chromium   the status page test (test/server/status-page.test.ts)
#   xfsprogs   xfs_io and mkfs.xfs for real power cuts on loop devices (test/power/)
#   tcl        tclsh for Redis's own test suite (test/resp/redis-suite.test.ts; the suite itself
#              comes from Debian's source package through scripts/redis-suite/fetch.sh)
#   redis-server  the reference that suite also runs against
# Tests that need a tool that could not be installed skip and say so.
set -uo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v xfs_io >/dev/null 2>&1 || missing+=(xfsprogs)
command -v tclsh8.6 >/dev/null 2>&1 || missing+=(tcl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-tools: not root or no apt-get; tests needing ${missing[*]} will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null >/tmp/logbook-apt.log 2>&1 ||
  { apt-get update </dev/null >>/tmp/logbook-apt.log 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" </dev/null >>/tmp/logbook-apt.log 2>&1; } ||
  echo "install-test-tools: could not install ${missing[*]} (see /tmp/logbook-apt.log); those tests will skip" >&2
exit 0
