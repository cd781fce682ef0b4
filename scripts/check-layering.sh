#!/usr/bin/env bash
# The core (src/msnp) stays sans-IO and safe: no unsafe, libpurple, glib, libc, sockets or clocks
# in its non-test code (test modules may start a simulated clock with Instant::now).
set -u
cd "$(dirname "$0")/.."
bad=""
for f in $(find src/msnp -name '*.rs' | sort); do
    case "$(basename "$f")" in tests.rs | tests_*.rs | testutil.rs | testlog.rs | transcript.rs) continue ;; esac
    hits=$(awk '/^#\[cfg\(test\)\]/ { exit } { print FILENAME ":" FNR ": " $0 }' "$f" |
        grep -E '\bunsafe\b|purple_[a-z_]+\(|ffi::|glib_sys|libc::|std::net|Instant::now|SystemTime::now' || true)
    [ -n "$hits" ] && bad="$bad$hits"$'\n'
done
if [ -n "$bad" ]; then
    echo "layering violation in src/msnp:"
    printf '%s' "$bad"
    exit 1
fi
# Nothing in the build or the tests reads ../shared.
shared=$(grep -rln '\.\./shared\|/work/shared' Makefile build.rs src tests purple-stub scripts 2>/dev/null |
    grep -v -e '^tests/transcripts/' -e '^scripts/check-layering.sh' || true)
if [ -n "$shared" ]; then
    echo "these files read ../shared: $shared"
    exit 1
fi
echo "layering: ok"
