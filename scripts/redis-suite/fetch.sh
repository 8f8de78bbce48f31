#!/usr/bin/env bash
# Obtains Redis's own test suite (the Tcl `runtest` and tests/) for the RESP acceptance run, from
# the distribution's source package `redis` (Debian's, BSD-3), never from GitHub:
#   - a private apt configuration in a temporary directory: deb-src entries derived from the
#     machine's own apt sources (same release, same mirrors), or deb.debian.org for the release
#     /etc/os-release names; the system's apt sources, lists and caches are never changed;
#   - `apt-get source --download-only redis=<version>` for the newest source version whose
#     upstream part is 7.0.15 (apt checks the files against the signed Sources index);
#   - the orig tarball unpacked into the suite directory (printed on success).
# Idempotent: a complete suite directory (its marker file present) is left alone.
# Also makes sure a tclsh that runtest accepts (8.5, 8.6 or 8.7) exists, installing Debian's
# `tcl` when running as root with apt-get.
#
# Environment: LOGBOOK_REDIS_SUITE_DIR  the suite directory (default below).
# Exit status: 0 with the suite directory on stdout; 1 with the reason on stderr.
# Reads no standard input (safe in CI).
set -euo pipefail

readonly REDIS_VERSION=7.0.15
readonly SUITE_DIR="${LOGBOOK_REDIS_SUITE_DIR:-/var/tmp/logbook-redis-suite/redis-${REDIS_VERSION}}"
readonly MARKER=".logbook-suite-complete"

fail() {
  echo "redis-suite fetch: $*" >&2
  exit 1
}

have_tclsh() {
  command -v tclsh8.6 >/dev/null 2>&1 || command -v tclsh8.5 >/dev/null 2>&1 || command -v tclsh8.7 >/dev/null 2>&1
}

ensure_tclsh() {
  have_tclsh && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "no tclsh8.5/8.6/8.7 (runtest needs one) and cannot install Debian's tcl: not root or no apt-get"
  fi
  export DEBIAN_FRONTEND=noninteractive
  local log=/tmp/logbook-apt.log
  apt-get install -y --no-install-recommends tcl </dev/null >>"$log" 2>&1 ||
    { apt-get update </dev/null >>"$log" 2>&1 && apt-get install -y --no-install-recommends tcl </dev/null >>"$log" 2>&1; } ||
    fail "could not install Debian's tcl (see $log)"
  have_tclsh || fail "Debian's tcl is installed but no tclsh8.5/8.6/8.7 is on PATH"
}

# One-line sources (sources.list, *.list): every `deb` entry of the release becomes a `deb-src` one.
derive_one_line_sources() {
  local codename=$1 file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$file" ] || continue
    awk -v codename="$codename" '
      $1 != "deb" { next }
      {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        suite = $(i + 1)
        if (suite == codename || index(suite, codename "-") == 1) { sub(/deb/, "deb-src"); print }
      }' "$file"
  done
}

# deb822 sources (*.sources): every enabled stanza with type `deb` and a suite of the release is
# copied with `Types: deb-src` and only the release's suites (other suites may have no sources).
derive_deb822_sources() {
  local codename=$1 file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -r "$file" ] || continue
    awk -v codename="$codename" '
      BEGIN { RS = "" }
      {
        n = split($0, lines, "\n"); types = ""; suites = ""; enabled = "yes"; body = ""
        for (j = 1; j <= n; j++) {
          line = lines[j]
          if (line ~ /^#/) continue
          if (line ~ /^Types:/) { types = line; continue }
          if (line ~ /^Enabled:/) { enabled = tolower(line); sub(/^enabled:[ \t]*/, "", enabled); continue }
          if (line ~ /^Suites:/) { suites = line; continue }
          body = body line "\n"
        }
        if (enabled == "no" || types !~ /[ \t]deb([ \t]|$)/) next
        kept = ""
        m = split(suites, words, /[ \t]+/)
        for (j = 2; j <= m; j++)
          if (words[j] == codename || index(words[j], codename "-") == 1) kept = kept " " words[j]
        if (kept == "") next
        printf "Types: deb-src\nSuites:%s\n%s\n", kept, body
      }' "$file"
  done
}

# Writes the private sources into $1 (sources.list) and $2 (a parts directory).
write_private_sources() {
  local list=$1 parts=$2 codename id
  [ -r /etc/os-release ] || fail "no /etc/os-release: cannot tell which release's source package to fetch"
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  id=$(. /etc/os-release && echo "${ID:-}")
  [ -n "$codename" ] || fail "/etc/os-release names no VERSION_CODENAME: cannot tell which release to fetch from"
  derive_one_line_sources "$codename" >"$list"
  derive_deb822_sources "$codename" >"$parts/derived.sources"
  if [ ! -s "$list" ] && ! grep -q '^Types: deb-src' "$parts/derived.sources"; then
    [ "$id" = debian ] || fail "no apt source of release '$codename' found in /etc/apt to derive deb-src entries from"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    {
      echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $codename $codename-updates main"
      echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian-security $codename-security main"
    } >"$list"
  fi
}

# Prints the newest source version of `redis` whose upstream version is $REDIS_VERSION.
pick_source_version() {
  local best="" version
  while read -r version; do
    if [ -z "$best" ] || dpkg --compare-versions "$version" gt "$best"; then best=$version; fi
  done < <("${APT_CACHE[@]}" showsrc --only-source redis 2>/dev/null | awk '/^Version:/ { print $2 }' |
    grep -E "^([0-9]+:)?${REDIS_VERSION//./\\.}-" || true)
  echo "$best"
}

download_and_unpack() {
  local work=$1 version orig
  mkdir -p "$work/etc/parts" "$work/lists/partial" "$work/cache/archives/partial" "$work/download" "$work/unpack"
  write_private_sources "$work/etc/sources.list" "$work/etc/parts"
  local options=(
    -o "Dir::Etc::SourceList=$work/etc/sources.list" -o "Dir::Etc::SourceParts=$work/etc/parts"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=$(id -un)" -o "Acquire::Retries=2"
  )
  APT_CACHE=(apt-cache "${options[@]}")
  # Some derived entries (an extra mirror without sources) may fail; the version check below decides.
  apt-get "${options[@]}" update </dev/null >>"$work/apt.log" 2>&1 || true
  version=$(pick_source_version)
  if [ -z "$version" ]; then
    tail -n 15 "$work/apt.log" >&2 || true
    fail "no source package redis ${REDIS_VERSION} in the release's deb-src indexes (offline? see the apt output above)"
  fi
  (cd "$work/download" && apt-get "${options[@]}" source --download-only "redis=$version" </dev/null >>"$work/apt.log" 2>&1) || {
    tail -n 15 "$work/apt.log" >&2 || true
    fail "apt-get source --download-only redis=$version failed"
  }
  orig=$(find "$work/download" -maxdepth 1 -name "redis_${REDIS_VERSION}.orig.tar.*" | head -n 1)
  [ -n "$orig" ] || fail "the source package redis=$version has no redis_${REDIS_VERSION}.orig.tar.* tarball"
  tar -xf "$orig" -C "$work/unpack" || fail "could not unpack $orig"
  [ -f "$work/unpack/redis-${REDIS_VERSION}/runtest" ] && [ -f "$work/unpack/redis-${REDIS_VERSION}/tests/test_helper.tcl" ] ||
    fail "$(basename "$orig") holds no redis-${REDIS_VERSION}/runtest and tests/test_helper.tcl"
  printf 'source-package: redis=%s\norig: %s\nsha256: %s\n' "$version" "$(basename "$orig")" \
    "$(sha256sum "$orig" | cut -d' ' -f1)" >"$work/unpack/redis-${REDIS_VERSION}/$MARKER"
}

main() {
  ensure_tclsh
  if [ -f "$SUITE_DIR/$MARKER" ]; then
    echo "$SUITE_DIR"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || fail "no apt-get: the suite comes from the distribution's source package"
  local parent work
  parent=$(dirname "$SUITE_DIR")
  mkdir -p "$parent" || fail "cannot create $parent (set LOGBOOK_REDIS_SUITE_DIR to a writable place)"
  work=$(mktemp -d "$parent/.fetch.XXXXXX") || fail "cannot create a temporary directory in $parent"
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  download_and_unpack "$work"
  # A directory without the marker is an interrupted earlier fetch: replace it. The rename makes a
  # complete suite appear at once; a concurrent fetch that finished first wins and is kept.
  [ -f "$SUITE_DIR/$MARKER" ] || { rm -rf "$SUITE_DIR" && mv "$work/unpack/redis-${REDIS_VERSION}" "$SUITE_DIR"; } ||
    [ -f "$SUITE_DIR/$MARKER" ] || fail "cannot move the unpacked suite to $SUITE_DIR"
  echo "$SUITE_DIR"
}

main "$@"
