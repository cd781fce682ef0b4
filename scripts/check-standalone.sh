#!/usr/bin/env bash
# Nothing in the build or the tests reads ../shared (the project stands alone). The core's own
# layering is checked by the compiler: `#![forbid(unsafe_code)]` at src/msnp/lib.rs, clippy's
# disallowed clocks and sockets (src/msnp/clippy.toml) and src/msnp/tests/dependencies.rs.
set -u
cd "$(dirname "$0")/.."
shared=$(grep -rln '\.\./shared\|/work/shared' Makefile build.rs src tests purple-stub scripts fuzz 2>/dev/null |
    grep -v -e '^tests/transcripts/' -e '^scripts/check-standalone.sh' || true)
if [ -n "$shared" ]; then
    echo "these files read ../shared: $shared"
    exit 1
fi
echo "standalone: ok"
