#!/usr/bin/env python3
"""Cuts the seed corpora of the fuzz targets from the recorded sessions and vectors.

Reads only the project's copies (tests/transcripts, tests/vectors) and writes
fuzz/seeds/<target>/<name> for every target but `framer` and `ns_command` (whose seeds were cut
by hand). Deterministic: running it again rewrites the same files. Usage: fuzz/make_seeds.py
"""

import ast
import base64
import json
import re
import shutil
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "tests" / "transcripts"
VECTORS = ROOT / "tests" / "vectors"
SEEDS = ROOT / "fuzz" / "seeds"

# Verbs that carry a payload, per direction (as the framer has them).
PAYLOAD_VERBS = {
    "S>C": {b"MSG", b"NOT", b"GCF", b"UBX", b"UBN", b"UBM", b"IPG", b"ADL", b"RML", b"FQY",
            b"NFY", b"SDG", b"PUT", b"DEL"},
    "C>S": {b"MSG", b"UUX", b"QRY", b"NOT", b"ADL", b"FQY", b"RML", b"UUN", b"UUM", b"PUT",
            b"DEL", b"SDG", b"VAS", b"SDC"},
}


def version_of(session_dir):
    """The protocol version a transcript directory speaks (multiparty ran MSNP12)."""
    match = re.match(r"msnp(\d+)", session_dir)
    return int(match.group(1)) if match else 12


def streams(raw_file):
    """The bytes each direction sent in one `.raw.txt` session."""
    out = {"C>S": b"", "S>C": b""}
    for line in raw_file.read_text().splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] in out:
            out[parts[1]] += ast.literal_eval(parts[2])
    return out


def frames(data, direction):
    """(line, payload or None) for each whole frame of `data`."""
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return
        line = data[pos:end]
        pos = end + 2
        tokens = line.split()
        payload = None
        if tokens and tokens[0] in PAYLOAD_VERBS[direction] and tokens[-1].isdigit():
            size = int(tokens[-1])
            payload, pos = data[pos:pos + size], pos + size
        yield line, payload


def http_exchanges(log_file):
    """(label, status, headers, body) of each response recorded in an http.log."""
    data = log_file.read_bytes()
    exchanges, pos = [], 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line, pos = data[pos:end].decode("utf-8", "replace"), end + 1
        if " ==== " in line:
            label = line.rsplit(" (", 1)[-1].rstrip(")")
            exchanges.append({"label": label, "status": 0, "headers": [], "body": b""})
            continue
        if not exchanges:
            continue
        ex = exchanges[-1]
        size = re.match(r"(?:>>> request|<<< response) body \((\d+) bytes\)", line)
        if size:
            body, pos = data[pos:pos + int(size.group(1))], pos + int(size.group(1))
            if line.startswith("<<<"):
                ex["body"] = body
        elif line.startswith("<<< status "):
            ex["status"] = int(line.split()[2])
        elif line.startswith("<<< ") and ": " in line:
            ex["headers"].append(line[4:].split(": ", 1))
    return exchanges


def raw_response(ex):
    """A recorded response as raw HTTP/1.1 bytes."""
    head = f"HTTP/1.1 {ex['status']} OK\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in ex["headers"])
    return head.encode() + b"\r\n" + ex["body"]


class Seeds:
    """Collects unique seed files per target."""

    def __init__(self):
        self.files = {}
        self.shapes = set()

    def add(self, target, name, data, shape=None):
        """Adds `data` unless the target has a seed of the same shape: by default the same bytes
        once hex digits (ids, timestamps, tickets) are left out."""
        shape = shape if shape is not None else re.sub(rb"[0-9a-fA-F]", b"", data)
        if data and (target, shape) not in self.shapes:
            self.shapes.add((target, shape))
            self.files.setdefault(target, {})[re.sub(r"[^A-Za-z0-9_.-]", "_", name)] = data

    def write(self):
        for target, files in self.files.items():
            folder = SEEDS / target
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for name, data in sorted(files.items()):
                (folder / name).write_bytes(data)


def from_sessions(seeds):
    for raw_file in sorted(TRANSCRIPTS.glob("*/*.raw.txt")):
        session = raw_file.parent.name
        name = f"{session}-{raw_file.name.removesuffix('.raw.txt')}"
        version = version_of(session)
        for direction, data in streams(raw_file).items():
            side = "server" if direction == "S>C" else "client"
            if raw_file.name.endswith("-sb.raw.txt"):
                seeds.add("sb_command", f"{name}-{side}", bytes([version]) + data[:2000])
            for line, payload in frames(data, direction):
                verb = line[:3]
                if payload is None:
                    continue
                if verb == b"MSG":
                    count = len(seeds.files.get("msg_payload", {}))
                    seeds.add("msg_payload", f"{name}-{side}-{count}", payload)
                    seeds.add("mime", f"{name}-{side}-{count}", payload)
                    if b"Mail-Data:" in payload:
                        seeds.add("soap_oim", f"{name}-mail-data", payload)
                elif verb in (b"ADL", b"RML", b"FQY"):
                    seeds.add("listxml", f"{name}-{verb.decode().lower()}-{side}", payload)
            for line, _ in frames(data, direction):
                if line.startswith(b"CHL "):
                    seeds.add("challenge", f"{name}-chl", bytes([version]) + line.split()[-1])


def from_http(seeds):
    targets = {
        "ABFindAll": "soap_abook", "ABFindContactsPaged": "soap_abook", "ABContactAdd": "soap_abook",
        "FindMembership": "soap_membership",
        "RSI GetMetadata": "soap_oim", "RSI GetMessage": "soap_oim", "OIM Store2": "soap_oim",
        "RSI DeleteMessages": "soap_oim",
    }
    for log_file in sorted(TRANSCRIPTS.glob("*/http.log")):
        session = log_file.parent.name
        for ex in http_exchanges(log_file):
            label, name = ex["label"], f"{session}-{ex['label']}"
            if label in targets:
                seeds.add(targets[label], name, ex["body"])
            if "RST" in label:
                # The success answers differ in their tickets only: one per label.
                seeds.add("rst", name, bytes([0 if ex["status"] == 200 else 1]) + ex["body"], label)
            if label in ("nexus", "DALogin", "wrong password", "bob token"):
                seeds.add("passport", name, raw_response(ex))
            # Every small response, and one big RST answer.
            if len(ex["body"]) < 6000 or (label == "SSO RST" and session == "msnp15"):
                seeds.add("http_response", name, raw_response(ex))


def from_vectors(seeds):
    for vector in json.loads((VECTORS / "msg_payloads.json").read_text())["vectors"]:
        wire = base64.b64decode(vector["wire_b64"])
        payload = wire.split(b"\r\n", 1)[1] if b"\r\n" in wire else b""
        if vector["command_line"].startswith("MSG"):
            seeds.add("msg_payload", f"vector-{vector['name']}", payload)
            seeds.add("mime", f"vector-{vector['name']}", payload)
            seeds.add("sb_command", f"vector-{vector['name']}", bytes([15]) + wire)
        if vector["command_line"].startswith("ADL"):
            seeds.add("listxml", f"vector-{vector['name']}", payload)
        header = re.search(rb"X-MMS-IM-Format: ([^\r]*)", payload)
        if header:
            seeds.add("html_format", f"vector-format-{vector['name']}", header.group(1))
    versions = {"md5": 8, "msnp11": 15}
    for i, vector in enumerate(json.loads((VECTORS / "chl_qry.json").read_text())["vectors"]):
        version = versions.get(vector["algorithm"], 11)
        seeds.add("challenge", f"vector-{i}", bytes([version]) + vector["challenge"].encode())


# Pidgin HTML as `purple_conv_im_send` hands it over: the formatting converter's input.
HTML = {
    "plain": b"Hello world",
    "bold-font": b'<FONT FACE="Comic Sans MS" COLOR="#FF0000"><B><I>h\xc3\xa9llo \xe2\x98\xba</I></B></FONT>',
    "span-style": b'<span style="font-family: Arial; color: #0080ff; font-weight: bold">x</span><br>y',
    "link-entities": b'<a href="mailto:bob@example.com">bob</a> &amp; &lt;b&gt; &#233;&#x263a;&nbsp;',
    "rtl-img": b'<span dir="rtl"><u><s>\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d</s></u></span><img alt=":)" src="x">',
    "broken": b"<b>unclosed <i attr='a>b'>x<!-- comment --> 3 < 4 && 5 > 2 <font",
}

# Chunk reassembler programs: limits, then operations (see fuzz_targets/chunks.rs).
CHUNK_PROGRAMS = {
    "three-parts": bytes([15, 64, 3, 0b000, 3, 0, 4]) + b"abcdefghijklmnop"
    + bytes([0b010, 1, 0, 2]) + b"qrstuvwx" + bytes([0b010, 2, 0, 1]) + b"yz01",
    "two-senders-expire": bytes([3, 8, 1, 0b000, 2, 1, 1]) + b"AAAA" + bytes([0b001, 2, 1, 1]) + b"BBBB"
    + bytes([0b110, 40, 0b010, 1, 1, 1]) + b"CCCC",
    "bad-count-out-of-order": bytes([1, 255, 0, 0b000, 0, 0, 0, 0b000, 9, 0, 0, 0b000, 2, 0, 0, 0b010, 5, 0, 0]),
    "raw-payload": bytes([7, 7, 7, 0b100, 12]) + b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nMessage-ID: {x}\r\n"
    + b"Chunks: 2\r\n\r\nhi\r\n" + bytes([0] * 20),
}


def handmade(seeds):
    for name, html in HTML.items():
        seeds.add("html_format", f"html-{name}", html)
    for name, program in CHUNK_PROGRAMS.items():
        seeds.add("chunks", name, program)
    seeds.add("mime", "no-blank-line", b"Content-Type\r\nX-Empty:\nTypingUser: bob@example.com")
    seeds.add("mime", "lf-only", b"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\nhi\n")
    seeds.add("http_response", "chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    seeds.add("http_response", "urls", b"https://[::1]:8443/RST.srf?x=1#f\nhttp://Example.COM\nhttps://a:1?q")


# SOAP faults as the services send them (none was recorded).
FAULT = (b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
         b'<soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Full sync required.</faultstring>'
         b'<detail><errorcode xmlns="http://www.msn.com/webservices/AddressBook">FullSyncRequired</errorcode>'
         b'<LockKeyChallenge xmlns="http://messenger.msn.com/ws/2004/09/oim/">%s</LockKeyChallenge>'
         b'</detail></soap:Fault></soap:Body></soap:Envelope>')


def faults(seeds):
    for target in ("soap_abook", "soap_membership"):
        seeds.add(target, "fault", FAULT % b"")
    seeds.add("soap_oim", "fault-lock-key", FAULT % b"31744216663023315951")
    seeds.add("rst", "fault", b"\x00" + FAULT % b"")


def slp_text(start, to, frm, cseq, content_type, body):
    """An MSNSLP message as the official clients write it (body ends with a counted NUL)."""
    body = body.encode() + b"\0"
    head = (f"{start}\r\nTo: <msnmsgr:{to}>\r\nFrom: <msnmsgr:{frm}>\r\n"
            "Via: MSNSLP/1.0/TLP ;branch={A0D624A6-6C0C-4283-A9E0-BC97B4B46D32}\r\n"
            f"CSeq: {cseq} \r\nCall-ID: {{F87327A8-741F-4FEF-AB63-45D06F51A0C2}}\r\nMax-Forwards: 0\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def p2p(seeds):
    """P2P packets, MSNSLP messages, MSNObjects and programs for the P2P targets."""
    v1 = json.loads((VECTORS / "p2p_v1.json").read_text())
    objects = json.loads((VECTORS / "msnobj.json").read_text())["vectors"]
    context = base64.b64encode(objects[0]["msnobj"].encode() + b"\0").decode()
    req = "application/x-msnmsgr-sessionreqbody"
    slp = {
        "invite": slp_text("INVITE MSNMSGR:bob@example.com MSNSLP/1.0", "bob@example.com", "alice@example.com", 0, req,
                           "EUF-GUID: {A4268EEC-FEC5-49E5-95C3-F126696BDBF6}\r\nSessionID: 180646677\r\nAppID: 1\r\n"
                           f"Context: {context}\r\n\r\n"),
        "ok": slp_text("MSNSLP/1.0 200 OK", "alice@example.com", "bob@example.com", 1, req, "SessionID: 180646677\r\n\r\n"),
        "bye": slp_text("BYE MSNMSGR:bob@example.com MSNSLP/1.0", "bob@example.com;{00000000-0000-0000-0000-000000000001}",
                        "alice@example.com", 0, "application/x-msnmsgr-sessionclosebody", "\r\n"),
    }
    for name, text in slp.items():
        seeds.add("p2p_slp", name, text, name)
    invite_header = bytes.fromhex(v1["slp_invite_header_hex"])
    seeds.add("p2p_packet", "invite", invite_header + slp["invite"][:377].ljust(377, b"\0") + bytes(4), "invite")
    seeds.add("p2p_packet", "ack", bytes.fromhex(v1["ack_header_hex"]) + bytes(4), "ack")
    seeds.add("p2p_packet", "data-prep", struct.pack("<IIQQIIIIQ", 7, 9, 0, 4, 4, 0, 5, 0, 0)
              + bytes.fromhex(v1["data_preparation_payload_hex"]) + bytes.fromhex(v1["footer_display_picture_hex"]), "prep")
    for i, vector in enumerate(objects):
        seeds.add("msnobj", f"vector-{i}", vector["msnobj"].encode(), f"vector-{i}")
    # Emoticon declarations: the body as official clients write it (mode byte 0), and a program
    # (mode 1, see fuzz_targets/emoticon_list.rs) writing a shortcut, then an emoticon object.
    tux = objects[0]["msnobj"].replace('Type="3"', 'Type="2"')
    seeds.add("emoticon_list", "declaration", b"\0(tux)\t" + tux.encode() + b"\t(cat)\t" + tux.encode() + b"\t", "decl")
    seeds.add("emoticon_list", "program", bytes([1, 2, 5]) + b"(tux)" + bytes([3, 1, 10]) + b"TFR2C2.tmp"
              + bytes([3]) + b"tux" + bytes([4]) + b"data", "program")
    # Reassembly: limits, then (op, offset/4, total/8, length, payload...) or (0xC0, seconds).
    seeds.add("p2p_reassembly", "two-chunks", bytes([7, 3, 40, 0, 0, 4, 16]) + b"a" * 16 + bytes([0, 4, 4, 16]) + b"b" * 16, "two")
    seeds.add("p2p_reassembly", "peers-expire", bytes([1, 1, 9, 1, 0, 2, 3]) + b"xyz" + bytes([2, 0, 2, 3]) + b"xyz"
              + bytes([0xC0, 60, 1, 1, 2, 3]) + b"xyz", "expire")
    # Session programs (see fuzz_targets/p2p_session.rs): our picture requested, acked, sent.
    seeds.add("p2p_session", "invite-and-acks", bytes([2, 0, 5, 0, 0, 0, 1, 0, 0, 0]) + bytes([3, 0, 1, 0, 0, 0]) * 6
              + bytes([5, 61]), "serve")
    seeds.add("p2p_session", "request-and-data", bytes([4, 3, 1, 1, 0, 0, 5, 4, 0, 0, 0, 1]) + bytes(range(40)) + bytes([6]), "fetch")
    # A file offered to us (op 7/0: valid context of 96 bytes, session 5), accepted (7/2), and
    # its data in one chunk (op 1, a live session); each op followed by a "room" byte.
    offer = bytes([7, 0, 0, 0]) + struct.pack("<I", 96) + b"file.txt" + struct.pack("<II", 5, 1) + bytes([1])
    seeds.add("p2p_session", "file-received", offer + bytes([7, 0, 2, 1])
              + bytes([1, 1, 0, 12]) + bytes(range(96)) + bytes([9, 0, 0, 0, 1]), "file-in")
    # File contexts (docs/protocol.md): version 2 as Pidgin writes it, version 3 with a preview,
    # a name with path components, a cut one.
    for name, data in [("v2", file_context("report.pdf", 12345)),
                       ("v3-preview", file_context("photo.png", 99, 638, 3, 0, bytes(64) + b"\x89PNG\r\n")),
                       ("path-name", file_context("..\\..\\windows\\evil.dll", 1)),
                       ("short", file_context("x", 1)[:300])]:
        seeds.add("file_context", name, data, name)
    # Transport upgrades (docs/protocol.md §8.2): our request, an answer listening on two
    # addresses, one written reversed; and what a direct connection's peer sends (foo, the
    # handshake with the target's nonce, a data packet).
    nonce = "{5A5A5A5A-5A5A-5A5A-5A5A-5A5A5A5A5A5A}"
    upgrades = {
        "request": slp_text("INVITE MSNMSGR:bob@example.com MSNSLP/1.0", "bob@example.com", "alice@example.com", 0,
                            "application/x-msnmsgr-transreqbody",
                            f"Bridges: TCPv1\r\nNetID: 0\r\nConn-Type: Direct-Connect\r\nNonce: {nonce}\r\n"
                            "SessionID: 5\r\n\r\n"),
        "answer": slp_text("MSNSLP/1.0 200 OK", "alice@example.com", "bob@example.com", 1,
                           "application/x-msnmsgr-transrespbody",
                           f"Bridge: TCPv1\r\nListening: true\r\nNonce: {nonce}\r\n"
                           "IPv4Internal-Addrs: 10.0.0.2 127.0.0.1\r\nIPv4Internal-Port: 4000\r\n"
                           "IPv4External-Addrs: 192.0.2.7\r\nIPv4External-Port: 4001\r\n\r\n"),
        "reversed": slp_text("MSNSLP/1.0 200 OK", "alice@example.com", "bob@example.com", 1,
                             "application/x-msnmsgr-transrespbody",
                             "Bridge: TCPv1\r\nListening: true\r\nsrddA-lanretxE4vPI: 4.3.2.1\r\n"
                             "troP-lanretxE4vPI: 0008\r\n\r\n"),
    }
    for name, text in upgrades.items():
        seeds.add("p2p_transport", name, text, name)
    handshake = struct.pack("<IIQQIIIIQ", 0, 1, 0, 0, 0, 0x100, 0, 0, 0)[:32] + bytes([0x5A]) * 16
    data = struct.pack("<IIQQIIIIQ", 5, 2, 0, 10, 10, 0x1000030, 0, 0, 0) + bytes(range(10))
    seeds.add("p2p_transport", "direct", struct.pack("<I", 4) + b"foo\0" + struct.pack("<I", 48) + handshake
              + struct.pack("<I", len(data)) + data, "direct")


def file_context(name, size, length=574, version=2, preview=1, extra=b""):
    """A file-transfer context: header length, version, size, preview flag, UTF-16LE name."""
    data = bytearray(574)
    struct.pack_into("<IIQI", data, 0, length, version, size, preview)
    encoded = name.encode("utf-16-le")[:518]
    data[20:20 + len(encoded)] = encoded
    data[570:574] = b"\xff" * 4
    return bytes(data) + extra


def main():
    seeds = Seeds()
    from_sessions(seeds)
    from_http(seeds)
    from_vectors(seeds)
    handmade(seeds)
    faults(seeds)
    p2p(seeds)
    seeds.write()
    for target, files in sorted(seeds.files.items()):
        print(f"{target}: {len(files)} seeds, {sum(map(len, files.values()))} bytes")


if __name__ == "__main__":
    main()
