"""A GIF's colour tables read from its blocks (Pillow hides them): the export's one-palette claim."""

from __future__ import annotations


def gif_tables(path) -> tuple[bool, int, int]:
    """(has a global colour table, image descriptors, descriptors with a local table)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] in (b"GIF87a", b"GIF89a")
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    images = local = 0
    while pos < len(data):
        kind = data[pos]
        if kind == 0x3B:  # trailer
            break
        if kind == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif kind == 0x2C:  # image descriptor
            images += 1
            packed = data[pos + 9]
            pos += 10
            if packed & 0x80:
                local += 1
                pos += 3 * 2 ** ((packed & 7) + 1)
            pos += 1  # LZW minimum code size
        else:
            raise AssertionError(f"unexpected GIF block {kind:#x} at {pos}")
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    return bool(flags & 0x80), images, local
