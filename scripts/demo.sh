#!/usr/bin/env bash
# `make demo`: the project's test server on loopback and Finch (fresh config folder) with two
# accounts, alice@example.com and bob@example.com, signed in to it and on each other's lists,
# so anyone can watch the plugin chat without an MSN account. Quitting Finch stops the server.
#
#   scripts/demo.sh [--protocol N]     N: newest MSNP version to use (default 18)
#   scripts/demo.sh --check            no Finch window: checks the setup in a tmux session
set -euo pipefail
cd "$(dirname "$0")/.."

protocol=18
check=false
while [ $# -gt 0 ]; do
    case "$1" in
        --protocol) protocol=${2:?--protocol needs a version}; shift 2 ;;
        --check) check=true; shift ;;
        *) echo "usage: $0 [--protocol N] [--check]" >&2; exit 2 ;;
    esac
done

command -v finch >/dev/null || { echo "demo: Finch is not installed (apt-get install finch)" >&2; exit 1; }
cargo build --quiet --lib
cargo build --quiet -p msnp-testserver --bin msnp-testserver

cfg=$(mktemp -d "${TMPDIR:-/tmp}/purple-msnp-demo.XXXXXX")
session="purple-msnp-demo-$$"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$cfg"
}
trap cleanup EXIT

# The server runs until its standard input closes; a FIFO held open by this script keeps it up.
mkfifo "$cfg/server.in"
target/debug/msnp-testserver \
    --user alice@example.com:alicepass:Alice \
    --user bob@example.com:bobpass:Bob \
    --contact alice@example.com:bob@example.com \
    --contact bob@example.com:alice@example.com \
    <"$cfg/server.in" >"$cfg/server.json" 2>"$cfg/server.log" &
server_pid=$!
exec 9>"$cfg/server.in"
for _ in $(seq 1 100); do
    [ -s "$cfg/server.json" ] && break
    sleep 0.1
done
info=$(cat "$cfg/server.json")
field() { sed -n "s/.*\"$1\":\\(\"[^\"]*\"\\|[0-9]*\\).*/\\1/p" <<<"$info" | tr -d '"'; }
ns_port=$(field ns_port)
nexus=$(field nexus_url_plain)
sso=$(field sso_url_plain)
[ -n "$ns_port" ] || { echo "demo: the test server did not start:"; cat "$cfg/server.log"; exit 1; }

mkdir -p "$cfg/plugins"
cp target/debug/libpurple_msnp.so "$cfg/plugins/libpurple-msnp.so"

account() { # email password
    cat <<EOF
 <account>
  <protocol>prpl-msnp</protocol>
  <name>$1</name>
  <password>$2</password>
  <settings>
   <setting name='server' type='string'>127.0.0.1</setting>
   <setting name='port' type='int'>$ns_port</setting>
   <setting name='nexus_url' type='string'>$nexus</setting>
   <setting name='sso_url' type='string'>$sso</setting>
   <setting name='max_protocol' type='string'>$protocol</setting>
  </settings>
  <settings ui='gnt-purple'>
   <setting name='auto-login' type='bool'>1</setting>
  </settings>
 </account>
EOF
}
buddy() { # owner buddy alias
    cat <<EOF
   <contact><buddy account='$1' proto='prpl-msnp'><name>$2</name><alias>$3</alias></buddy></contact>
EOF
}
{
    echo "<?xml version='1.0' encoding='UTF-8' ?>"
    echo "<account version='1.0'>"
    account alice@example.com alicepass
    account bob@example.com bobpass
    echo "</account>"
} >"$cfg/accounts.xml"
{
    echo "<?xml version='1.0' encoding='UTF-8' ?>"
    echo "<purple version='1.0'><blist>"
    echo "  <group name='Buddies'>"
    buddy alice@example.com bob@example.com Bob
    buddy bob@example.com alice@example.com Alice
    echo "  </group>"
    echo "</blist></purple>"
} >"$cfg/blist.xml"

if $check; then
    command -v tmux >/dev/null || { echo "demo: --check needs tmux" >&2; exit 1; }
    tmux new-session -d -s "$session" -x 160 -y 50 "finch -c '$cfg' 2>'$cfg/finch.log'"
    # Finch shows the accounts' buddies once both are signed in.
    for _ in $(seq 1 100); do
        screen=$(tmux capture-pane -t "$session" -p)
        if grep -q 'Alice' <<<"$screen" && grep -q 'Bob' <<<"$screen"; then
            sleep 3
            tmux capture-pane -t "$session" -p
            echo "demo: Finch is up with both accounts"
            exit 0
        fi
        sleep 0.2
    done
    echo "demo: Finch did not come up; screen was:"
    tmux capture-pane -t "$session" -p
    exit 1
fi

cat <<EOF
purple-msnp demo: test server on 127.0.0.1:$ns_port (MSNP$protocol), Finch config in $cfg.
Both accounts sign in automatically. In Finch's buddy list, select Bob (under Alice's account)
and press Enter, type a message and press Enter: it arrives in Bob's window. /nudge nudges.
Alt-Q (or /quit) leaves Finch and stops the server.
EOF
sleep 3
finch -c "$cfg"
