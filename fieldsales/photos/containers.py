"""Completeness of a HEIF/HEIC container, read from its box structure (pure: a file in, a yes/no
out; no decoding).

Why not decode: libheif fills the missing tiles of a cut grid image (an iPhone HEIC is a grid
of 512 px tiles) and reports success, so a decoded HEIC proves nothing about its tail. The
container says where every byte of every item lives: the top-level boxes must all fit in the
file, and every extent the `iloc` box gives (the coded tiles, EXIF, thumbnails, depth maps)
must lie inside the file (or inside `idat`). A file cut anywhere, even on a box boundary, fails
one of the two. Only box headers and the `meta` box are read, so memory does not grow with the
file (the `meta` box is bounded; real ones are a few KB).
"""
import io
import struct

MAX_META_BYTES = 4 * 1024 * 1024
MAX_BOXES = 1024  # real files have a handful per level; thousands of tiny ones is an attack


class _Short(Exception):
    """A box or field runs past the data it is read from."""


def heif_is_complete(fp, size: int) -> bool:
    """Every top-level box fits in the `size`-byte file and every item extent lies inside it."""
    try:
        top = _boxes(fp, 0, size)
        meta = next((box for box in top if box[0] == b"meta"), None)
        if meta is None or meta[2] - meta[1] > MAX_META_BYTES:
            return False
        fp.seek(meta[1])
        payload = fp.read(meta[2] - meta[1])
        # meta is a full box: its children start after the version and flags
        children = {kind: (start, end) for kind, start, end in
                    _boxes(io.BytesIO(payload), 4, len(payload))}
        if b"iloc" not in children:
            return False
        idat = children.get(b"idat")
        idat_size = idat[1] - idat[0] if idat else 0
        start, end = children[b"iloc"]
        for method, reference, extents in _iloc(payload[start:end]):
            if reference != 0 or method == 2:  # another file, or another item's data
                continue
            limit = size if method == 0 else idat_size
            for offset, length in extents:
                if offset > limit or (length and offset + length > limit):
                    return False
        return True
    except (_Short, struct.error):
        return False
    finally:
        fp.seek(0)


def _boxes(fp, offset, end):
    """(type, payload start, payload end) of the boxes from `offset` to `end` of `fp`; raises
    _Short on a cut one."""
    out = []
    while offset < end:
        if len(out) == MAX_BOXES:
            raise _Short
        fp.seek(offset)
        kind, header, length = _header(fp.read(16), end - offset)
        out.append((kind, offset + header, offset + length))
        offset += length
    return out


def _header(head, room):
    """(type, header length, box length) of the box starting `head`, with `room` bytes left."""
    if len(head) < 8:
        raise _Short
    length, kind = struct.unpack(">I4s", head[:8])
    header = 8
    if length == 1:
        if len(head) < 16:
            raise _Short
        length, header = struct.unpack(">Q", head[8:16])[0], 16
    elif length == 0:  # "to the end of the file"
        length = room
    if length < header or length > room:
        raise _Short
    return kind, header, length


def _iloc(data):
    """(construction method, data reference index, [(offset, length)]) of each item."""
    reader = _Reader(data)
    version = reader.uint(1)
    reader.uint(3)  # flags
    sizes = reader.uint(1)
    offset_size, length_size = sizes >> 4, sizes & 0xF
    sizes = reader.uint(1)
    base_size, index_size = sizes >> 4, (sizes & 0xF if version in (1, 2) else 0)
    count = reader.uint(2 if version < 2 else 4)
    for _ in range(count):
        reader.uint(2 if version < 2 else 4)  # item id
        method = reader.uint(2) & 0xF if version in (1, 2) else 0
        reference = reader.uint(2)
        base = reader.uint(base_size)
        extents = []
        for _ in range(reader.uint(2)):
            reader.uint(index_size)
            extents.append((base + reader.uint(offset_size), reader.uint(length_size)))
        yield method, reference, extents


class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def uint(self, size):
        if size == 0:
            return 0
        if size not in (1, 2, 3, 4, 8) or self.pos + size > len(self.data):
            raise _Short
        value = int.from_bytes(self.data[self.pos:self.pos + size], "big")
        self.pos += size
        return value
