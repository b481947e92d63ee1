"""Rewriting an .xlsx package with a few parts replaced, the others copied as they are.

A unit's workbook is a zip of a dozen parts; a flag write changes a few of them. Inflating
and deflating every part again cost more than the patch itself (about a third of a flag
write); an unchanged part is copied here as its stored, compressed bytes, with its CRC and
sizes, and only the replaced parts are deflated, at a cheap level (they are rewritten at
every flag write, so their size matters less than the time to make them).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Mapping

REWRITE_LEVEL = 1
"""zlib level of the replaced parts: level 1 deflates XML several times faster than the
default 6, for a part about a fifth larger."""

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_MAGIC = b"PK\x03\x04"
_DATA_DESCRIPTOR = 0x08
_ENCRYPTED = 0x01


def replace_parts(data: bytes, src: zipfile.ZipFile, parts: Mapping[str, bytes]) -> bytes:
    """The package `data` (opened as `src`) with `parts` (member name -> new content)
    replaced; every other member copied byte for byte, in the same order."""
    view = memoryview(data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = parts.get(info.filename)
            if new is not None:
                # The level given here: writestr of a ZipInfo ignores the ZipFile's own.
                dst.writestr(_fresh(info, info.compress_type), new,
                             compresslevel=REWRITE_LEVEL)
            else:
                _copy_raw(view, info, dst)
    return buf.getvalue()


def _fresh(info: zipfile.ZipInfo, compress_type: int) -> zipfile.ZipInfo:
    """A ZipInfo of the same name, time and attributes, without the source's extra fields,
    flags and offsets."""
    out = zipfile.ZipInfo(info.filename, info.date_time)
    out.compress_type = compress_type
    out.external_attr = info.external_attr
    out.internal_attr = info.internal_attr
    out.create_system = info.create_system
    return out


def _copy_raw(view: memoryview, info: zipfile.ZipInfo, dst: zipfile.ZipFile) -> None:
    """Append the member as its compressed bytes: zipfile has no call for it, so the local
    header is written here and the member registered for the central directory as
    ZipFile.writestr registers its own."""
    if info.flag_bits & _ENCRYPTED:
        raise zipfile.BadZipFile(f"{info.filename}: encrypted member")
    start = info.header_offset
    header = _LOCAL_HEADER.unpack(view[start:start + _LOCAL_HEADER.size])
    if header[0] != _LOCAL_MAGIC:
        raise zipfile.BadZipFile(f"{info.filename}: bad local header")
    name_len, extra_len = header[-2], header[-1]
    begin = start + _LOCAL_HEADER.size + name_len + extra_len
    raw = view[begin:begin + info.compress_size]
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename}: truncated")
    out = _fresh(info, info.compress_type)
    # Sizes and CRC go in the local header, so no data descriptor follows the data.
    out.flag_bits = info.flag_bits & ~_DATA_DESCRIPTOR
    out.CRC, out.compress_size, out.file_size = info.CRC, info.compress_size, info.file_size
    fp = dst.fp
    assert fp is not None
    out.header_offset = fp.tell()
    fp.write(out.FileHeader())
    fp.write(raw)
    dst.start_dir = fp.tell()  # where the central directory goes when dst closes
    dst.filelist.append(out)
    dst.NameToInfo[out.filename] = out
    # What writestr sets: the central directory is written on close.
    dst._didModify = True  # type: ignore[attr-defined]
