#!/usr/bin/env python3
"""A greeter bot for MSN revival networks, driving purple-stub (see purple-stub/README.md).

It signs in, accepts every add and authorization request, greets a contact the moment they
open a conversation window with it (their invitation arrives before they type: the plugin's
`open_on_invite` option turns it into a conversation, and the bot answers it with the greeting),
answers every message, and signs in again (with backoff) when the connection drops.

    greeter_bot.py --stub target/purple-stub/purple-stub --plugins DIR \\
        --account bot@example.com [--password secret] [--set key=value]... [--accept-cert HOST]

`--set` passes account options (`server`, `port`, `sso_url`, ...; see the README's networks
table). Events are logged to stderr. Runs until killed (purple-stub then sees its input end
and signs off) or a sign-in error a retry cannot fix.
"""

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PROTOCOL = 1  # the purple-stub line protocol this bot speaks
GREETING = "Hi! I am a greeter bot. Say something and I will answer."
# Sign-in errors a new attempt cannot fix.
FATAL = {"AUTHENTICATION_FAILED", "NAME_IN_USE", "INVALID_USERNAME", "INVALID_SETTINGS"}
MAX_BACKOFF = 300


def arg(text):
    """One command word, percent-encoded as purple-stub expects."""
    return urllib.parse.quote(text, safe="@.-_~:/")


def plain(message):
    """The text of a libpurple HTML message."""
    return html.unescape(re.sub(r"<[^>]*>", "", message))


class Bot:
    def __init__(self, opts):
        self.opts = opts
        self.account = opts.account.lower()
        self.user_dir = tempfile.mkdtemp(prefix="greeter-bot-")
        self.stub = subprocess.Popen(
            [opts.stub, "--plugins", opts.plugins, "--user-dir", self.user_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.backoff = 1
        self.lock = threading.Lock()

    def send(self, *words):
        with self.lock:
            self.stub.stdin.write(" ".join(words) + "\n")
            self.stub.stdin.flush()

    def log(self, text):
        print(f"greeter: {text}", file=sys.stderr, flush=True)

    def sign_in(self):
        options = [arg(f"{key}={value}") for key, value in self.opts.set]
        for host in self.opts.accept_cert:
            self.send("accept-cert", arg(host))
        self.send(
            "add-account",
            "prpl-msnp",
            arg(self.account),
            arg(f"password={self.opts.password}"),
            "open_on_invite=true",
            *options,
        )
        self.send("enable", arg(self.account))

    def reconnect_later(self):
        delay, self.backoff = self.backoff, min(self.backoff * 2, MAX_BACKOFF)
        self.log(f"connection lost; signing in again in {delay} s")

        def again():
            time.sleep(delay)
            self.send("disable", arg(self.account))
            self.send("enable", arg(self.account))

        threading.Thread(target=again, daemon=True).start()

    def greet(self, who):
        self.send("send-im", arg(self.account), arg(who), arg(html.escape(GREETING)))

    def handle(self, e):
        kind = e.get("event")
        if e.get("account") not in (None, self.account):
            return True
        if kind == "ready":
            if e.get("protocol") != PROTOCOL:
                self.log(f"purple-stub speaks protocol {e.get('protocol')}, not {PROTOCOL}")
                return False
            self.sign_in()
        elif kind == "signed-on":
            self.backoff = 1
            self.log("signed on")
        elif kind == "connection-error":
            if e.get("reason_name") in FATAL:
                self.log(f"cannot sign in: {e.get('text')}")
                return False
            self.reconnect_later()
        elif kind == "auth-request":
            self.send("auth", str(e["id"]), "accept")
        elif kind in ("added-by", "request-add-buddy") and e.get("who"):
            self.send("add-buddy", arg(self.account), arg(e["who"]))
        elif kind == "conversation-created" and e.get("type") == "im":
            self.greet(e["conversation"])
        elif kind == "im":
            text = plain(e.get("message") or "")
            self.send("send-im", arg(self.account), arg(e["from"]), arg(html.escape(f"You said: {text}")))
        elif kind == "error":
            self.log(f"purple-stub: {e.get('message')}")
        return True

    def run(self):
        for line in self.stub.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not self.handle(event):
                break
        self.send("quit")
        status = self.stub.wait()
        shutil.rmtree(self.user_dir, ignore_errors=True)
        return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stub", default="target/purple-stub/purple-stub")
    parser.add_argument("--plugins", required=True, help="folder holding libpurple-msnp.so")
    parser.add_argument("--account", required=True)
    parser.add_argument("--password", default=os.environ.get("BOT_PASSWORD"),
                        help="the account's password (default: $BOT_PASSWORD)")
    parser.add_argument("--set", action="append", default=[], type=lambda s: s.split("=", 1),
                        metavar="KEY=VALUE", help="an account option")
    parser.add_argument("--accept-cert", action="append", default=[], metavar="HOST",
                        help="accept this host's certificate (self-signed test servers)")
    opts = parser.parse_args()
    if not opts.password:
        parser.error("no password: --password or $BOT_PASSWORD")
    sys.exit(Bot(opts).run())


if __name__ == "__main__":
    main()
