#!/usr/bin/env python3
"""Real Pidgin under Xvfb, signed in to the project's test server, photographed.

    scripts/pidgin-screens.py PLUGIN [OUT_DIR]      (default OUT_DIR: target/screens)

A fresh Pidgin (`-c` folder holding accounts.xml for alice@example.com, the plugin in its
plugins folder) signs in to the test server; Bob, a purple-stub account, sends Alice a formatted
message. Checked through window titles (xdotool), not pixels: the buddy list appears, a
conversation window titled with Bob's name opens on the message, the account editor opens. The
screenshots (buddy-list, buddy-tooltip, conversation, accounts, account-advanced) are written to OUT_DIR for a person
to look at. Exits non-zero when a window does not appear.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT = 30
# Where Pidgin looks for the protocol icon list_icon names ("msn"); Debian's Pidgin has none.
ICON = "/usr/share/pixmaps/pidgin/protocols/16/msn.png"


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def wait_window(name, env):
    """The id of a window whose title matches the regex `name`, waiting up to WAIT seconds."""
    deadline = time.time() + WAIT
    while time.time() < deadline:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                               capture_output=True, text=True, env=env).stdout.split()
        if found:
            return found[0]
        time.sleep(0.2)
    sys.exit(f"pidgin-screens: no window named {name!r} appeared")


def shot(window, path, env):
    time.sleep(1)  # let GTK finish drawing; what is checked is the title, not the pixels
    run("import", "-window", window, path, env=env)
    print(f"pidgin-screens: {path}")


def account_xml(email, password, info):
    settings = {
        "server": "127.0.0.1",
        "nexus_url": info["nexus_url_plain"],
        "sso_url": info["sso_url_plain"],
    }
    rows = "".join(f"<setting name='{k}' type='string'>{v}</setting>" for k, v in settings.items())
    return f"""<?xml version='1.0' encoding='UTF-8' ?>
<account version='1.0'><account>
 <protocol>prpl-msnp</protocol><name>{email}</name><password>{password}</password>
 <settings>{rows}<setting name='port' type='int'>{info['ns_port']}</setting></settings>
 <settings ui='gtk-gaim'><setting name='auto-login' type='bool'>1</setting></settings>
</account></account>
"""


PREFS = """<?xml version='1.0' encoding='UTF-8' ?>
<pref version='1' name='/'><pref name='pidgin'>
 <pref name='blist'><pref name='show_protocol_icons' type='bool' value='1'/>
  <pref name='show_empty_groups' type='bool' value='0'/></pref>
 <pref name='sound'><pref name='method' type='string' value='none'/></pref>
</pref></pref>
"""


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    plugin = os.path.abspath(sys.argv[1])
    out = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "screens"))
    os.makedirs(out, exist_ok=True)
    subprocess.run(["cargo", "build", "--quiet", "-p", "msnp-testserver", "--bin", "msnp-testserver"],
                   cwd=ROOT, check=True)
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "purple-stub"),
                    f"OUT={os.path.join(ROOT, 'target', 'purple-stub')}"], check=True)
    work = tempfile.mkdtemp(prefix="pidgin-screens-")
    procs = []
    try:
        server = subprocess.Popen(
            [os.path.join(ROOT, "target", "debug", "msnp-testserver"),
             "--user", "alice@example.com:alicepass:Alice", "--user", "bob@example.com:bobpass:Bob",
             "--contact", "alice@example.com:bob@example.com",
             "--contact", "bob@example.com:alice@example.com"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(server)
        info = json.loads(server.stdout.readline())

        cfg = os.path.join(work, "pidgin")
        os.makedirs(os.path.join(cfg, "plugins"))
        shutil.copy(plugin, os.path.join(cfg, "plugins", "libpurple-msnp.so"))
        with open(os.path.join(cfg, "accounts.xml"), "w") as f:
            f.write(account_xml("alice@example.com", "alicepass", info))
        with open(os.path.join(cfg, "prefs.xml"), "w") as f:
            f.write(PREFS)

        # Xvfb picks a free display and prints its number.
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24",
                                 "-nolisten", "tcp"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        procs.append(xvfb)
        display = ":" + xvfb.stdout.readline().strip()
        env = dict(os.environ, DISPLAY=display, HOME=work, NO_AT_BRIDGE="1")
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        pidgin = subprocess.Popen(["pidgin", "-c", cfg], env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(out, "pidgin-stderr.txt"), "w"))
        procs.append(pidgin)

        # Bob, in purple-stub, waits until Alice is online, then writes to her.
        stub = subprocess.Popen(
            [os.path.join(ROOT, "target", "purple-stub", "purple-stub"), "--plugins",
             os.path.join(cfg, "plugins"), "--user-dir", os.path.join(work, "bob")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(stub)
        q = lambda s: urllib.parse.quote(s, safe="")
        stub.stdin.write(
            f"add-account prpl-msnp bob@example.com password=bobpass server=127.0.0.1 "
            f"port={info['ns_port']} nexus_url={q(info['nexus_url_plain'])} "
            f"sso_url={q(info['sso_url_plain'])}\nenable bob@example.com\n")
        stub.stdin.flush()
        for line in stub.stdout:
            e = json.loads(line)
            if e.get("event") == "connection-error":
                sys.exit(f"pidgin-screens: Bob could not sign in: {e}")
            if (e.get("event") == "buddy-status" and e.get("who") == "alice@example.com"
                    and e.get("online")):
                break

        blist = wait_window("^Buddy List$", env)
        shot(blist, os.path.join(out, "buddy-list.png"), env)
        # Bob's tooltip: the pointer rests on his row (the first below the group).
        run("xdotool", "mousemove", "--window", blist, "60", "65", env=env)
        time.sleep(2)
        shot("root", os.path.join(out, "buddy-tooltip.png"), env)
        run("xdotool", "mousemove", "1000", "700", env=env)

        message = '<b>Hello</b> <i>Alice</i>, <font color="#c00000">grüße</font> ☃'
        stub.stdin.write(f"send-im bob@example.com alice@example.com {q(message)}\n")
        stub.stdin.flush()
        conv = wait_window("^Bob$", env)
        shot(conv, os.path.join(out, "conversation.png"), env)

        # The account editor: Accounts window (Ctrl+A in the buddy list), the account's row
        # activated, then the Advanced tab.
        run("xdotool", "windowfocus", "--sync", blist, "key", "ctrl+a", env=env)
        accounts = wait_window("^Accounts$", env)
        run("xdotool", "windowfocus", "--sync", accounts, "key", "Down", env=env)
        shot(accounts, os.path.join(out, "accounts.png"), env)
        run("xdotool", "key", "alt+m", env=env)
        editor = wait_window("^Modify Account$", env)
        run("xdotool", "windowfocus", "--sync", editor, "key", "ctrl+Next", env=env)
        shot(editor, os.path.join(out, "account-advanced.png"), env)
        print("pidgin-screens: buddy list, tooltip, conversation and account editor seen")
        if not os.path.exists(ICON):
            print(f"pidgin-screens: note: {ICON} is not installed (make install-system), so "
                  "Pidgin shows no protocol icon")
    finally:
        for p in reversed(procs):
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
