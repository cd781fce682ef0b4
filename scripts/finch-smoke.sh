#!/usr/bin/env bash
# Finch smoke test: a fresh Finch (-c folder) with the plugin in its plugins folder must list
# "MSN (MSNP)" in the New Account dialog's protocol list. Runs Finch inside a detached tmux.
set -euo pipefail
export TERM=${TERM:-xterm}  # CI runs without a terminal; tmux and Finch need a terminal type
plugin=${1:?usage: finch-smoke.sh PATH/TO/libpurple_msnp.so}
cfg=$(mktemp -d)
session="purple-msnp-smoke-$$"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$cfg"; }
trap cleanup EXIT
mkdir -p "$cfg/plugins"
cp "$plugin" "$cfg/plugins/libpurple-msnp.so"

tmux new-session -d -s "$session" -x 160 -y 50 "finch -c '$cfg' 2>'$cfg/stderr'"
# With no accounts Finch opens the New Account dialog, focused on the protocol list.
for _ in $(seq 1 50); do
    tmux capture-pane -t "$session" -p | grep -q 'New Account' && break
    sleep 0.2
done
tmux send-keys -t "$session" Enter   # open the protocol drop-down
for _ in $(seq 1 25); do
    screen=$(tmux capture-pane -t "$session" -p)
    if grep -q 'MSN (MSNP)' <<<"$screen"; then
        echo "finch-smoke: Finch lists MSN (MSNP)"
        exit 0
    fi
    sleep 0.2
done
echo "finch-smoke: MSN (MSNP) not in Finch's protocol list; screen was:"
tmux capture-pane -t "$session" -p
echo "--- finch stderr:"; cat "$cfg/stderr" || true
exit 1
