#!/bin/sh
# Builds every cargo-fuzz target of fuzz/ and runs each for SECONDS (default 60) over its
# committed seeds (fuzz/seeds/<target>) plus a scratch corpus (fuzz/corpus/<target>, gitignored),
# then prints per target the executions and whether it found anything. Exits non-zero if any
# target found a crash, a failed invariant, a timeout or an out-of-memory input; the input is
# left in fuzz/artifacts/<target>/ and the log in fuzz/artifacts/logs/<target>.log.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]    scripts/fuzz.sh --build-only
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
set -eu

cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1
CARGO=${CARGO:-cargo}

build_only=false
seconds=60
case "${1:-}" in
    --build-only) build_only=true; shift ;;
    ''|*[!0-9]*) ;;
    *) seconds=$1; shift ;;
esac

if ! "$CARGO" fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    "$CARGO" install cargo-fuzz --locked
fi

started=$(date +%s)
"$CARGO" fuzz build
echo "fuzz: built all targets in $(( $(date +%s) - started )) s"
$build_only && exit 0

targets=${*:-$("$CARGO" fuzz list)}
bin=target/x86_64-unknown-linux-gnu/release

# Dictionary and longest input per target: SOAP and HTTP answers need room.
options() {
    case "$1" in
        framer|ns_command|sb_command) echo "-dict=dicts/msnp.dict -max_len=4096" ;;
        msg_payload|mime|chunks) echo "-dict=dicts/mime.dict -max_len=4096" ;;
        html_format) echo "-dict=dicts/html.dict -max_len=8192" ;;
        http_response|passport) echo "-dict=dicts/http.dict -max_len=32768" ;;
        soap_*|rst|listxml|ubx_places) echo "-dict=dicts/xml.dict -max_len=32768" ;;
        p2p_slp|p2p_transport|msnobj|emoticon_list) echo "-dict=dicts/p2p.dict -max_len=4096" ;;
        p2p_session) echo "-dict=dicts/p2p.dict -max_len=8192" ;;
        *) echo "-max_len=1024" ;;
    esac
}

mkdir -p artifacts/logs
status=0
printf '%-16s %14s  %s\n' target executions result
for target in $targets; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log="artifacts/logs/$target.log"
    # shellcheck disable=SC2046 # the options are words on purpose
    if "$bin/$target" "corpus/$target" "seeds/$target" $(options "$target") \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$log" 2>&1; then
        result=ok
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        result="FOUND ${artifact:-something} (see fuzz/$log)"
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    printf '%-16s %14s  %s\n' "$target" "${runs:-?}" "$result"
done
echo "fuzz: finished in $(( $(date +%s) - started )) s"
exit $status
