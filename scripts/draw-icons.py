#!/usr/bin/env python3
"""Draws purple-msnp's protocol icons (two buddies, green and blue) as PNG at 16, 22 and 48 px
and as SVG. Our own artwork, made from circles; run from the repository root to regenerate."""
import struct
import zlib

# (centre x, centre y, radius) in a 48-unit box, and colour; back buddy first.
SHAPES = [
    ("head", 30, 14, 7.5, (0x2f, 0x8f, 0x3a)),
    ("body", 30, 38, 13, (0x2f, 0x8f, 0x3a)),
    ("head", 19, 17, 8.5, (0x1f, 0x5f, 0xc8)),
    ("body", 19, 43, 15, (0x1f, 0x5f, 0xc8)),
]
BODY_TOP = {38: 28.0, 43: 30.0}  # bodies are circles cut off above this line


def inside(kind, cx, cy, r, x, y):
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return False
    return kind == "head" or y >= BODY_TOP[cy]


def pixel(size, px, py, samples=4):
    acc = [0.0, 0.0, 0.0, 0.0]
    for sy in range(samples):
        for sx in range(samples):
            x = (px + (sx + 0.5) / samples) * 48 / size
            y = (py + (sy + 0.5) / samples) * 48 / size
            colour = None
            for kind, cx, cy, r, rgb in SHAPES:
                if inside(kind, cx, cy, r, x, y):
                    colour = rgb
            if colour:
                for i in range(3):
                    acc[i] += colour[i]
                acc[3] += 255
    n = samples * samples
    a = acc[3] / n
    if a == 0:
        return (0, 0, 0, 0)
    return tuple(int(acc[i] / (acc[3] / 255)) for i in range(3)) + (int(a),)


def png(size):
    rows = b"".join(b"\0" + bytes(c for px in range(size) for c in pixel(size, px, py)) for py in range(size))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def svg():
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">']
    for i, (kind, cx, cy, r, rgb) in enumerate(SHAPES):
        fill = "#%02x%02x%02x" % rgb
        if kind == "head":
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{fill}"/>')
        else:
            parts.append(f'<clipPath id="c{i}"><rect x="0" y="{BODY_TOP[cy]}" width="48" height="48"/></clipPath>')
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{fill}" clip-path="url(#c{i})"/>')
    parts.append("</svg>\n")
    return "\n".join(parts)


for size in (16, 22, 48):
    with open(f"icons/msn-{size}.png", "wb") as f:
        f.write(png(size))
with open("icons/msn.svg", "w") as f:
    f.write(svg())
