#!/usr/bin/env bash
# The core (src/msnp) stays sans-IO and safe: no unsafe, libpurple, glib, libc, sockets or clocks.
set -u
cd "$(dirname "$0")/.."
bad=$(grep -rnE '\bunsafe\b|purple_|glib_sys|libc::|std::net|Instant::now|SystemTime::now' src/msnp || true)
if [ -n "$bad" ]; then
    echo "layering violation in src/msnp:"
    echo "$bad"
    exit 1
fi
# Nothing in the build or the tests reads ../shared.
shared=$(grep -rln '\.\./shared\|/work/shared' Makefile build.rs src tests purple-stub scripts 2>/dev/null | grep -v -e '^tests/transcripts/' -e '^scripts/check-layering.sh' || true)
if [ -n "$shared" ]; then
    echo "these files read ../shared: $shared"
    exit 1
fi
echo "layering: ok"
