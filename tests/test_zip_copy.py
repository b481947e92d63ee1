"""zip_copy.replace_parts: the replaced parts are new, every other part is the very bytes it
was (compressed data, CRC, attributes), and the package opens as a zip with every CRC right
— also when the source wrote its sizes in data descriptors (a streamed save)."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from cchc_sync.sources.xlsx.zip_copy import REWRITE_LEVEL, replace_parts


class _Stream(io.RawIOBase):
    """A write-only stream that cannot seek: zipfile then writes data descriptors."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += b
        return len(b)


def _package(streamed: bool) -> bytes:
    members = {
        "[Content_Types].xml": b"<Types/>" * 50,
        "xl/worksheets/sheet1.xml": b"<worksheet>" + b"<row/>" * 2000 + b"</worksheet>",
        "xl/media/image1.png": bytes(range(256)) * 8,
        "xl/styles.xml": b"<styleSheet/>",
    }
    sink = _Stream() if streamed else io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            kind = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name, (2024, 5, 6, 7, 8, 10)), data, compress_type=kind)
    return bytes(sink.data) if isinstance(sink, _Stream) else sink.getvalue()


def _raw(data: bytes, info: zipfile.ZipInfo) -> bytes:
    start = info.header_offset
    name_len = int.from_bytes(data[start + 26:start + 28], "little")
    extra_len = int.from_bytes(data[start + 28:start + 30], "little")
    begin = start + 30 + name_len + extra_len
    return data[begin:begin + info.compress_size]


@pytest.mark.parametrize("streamed", [False, True])
def test_unchanged_parts_are_copied_as_stored_and_replaced_ones_rewritten(streamed):
    data = _package(streamed)
    src = zipfile.ZipFile(io.BytesIO(data))
    assert any(i.flag_bits & 0x08 for i in src.infolist()) == streamed
    out = replace_parts(data, src, {"xl/styles.xml": b"<styleSheet><fonts/></styleSheet>"})
    dst = zipfile.ZipFile(io.BytesIO(out))
    assert dst.testzip() is None  # every CRC checked against the inflated data
    assert dst.namelist() == src.namelist()
    assert dst.read("xl/styles.xml") == b"<styleSheet><fonts/></styleSheet>"
    for old in src.infolist():
        new = dst.getinfo(old.filename)
        assert (new.date_time, new.compress_type, new.external_attr) == (
            old.date_time, old.compress_type, old.external_attr)
        if old.filename != "xl/styles.xml":
            assert dst.read(old.filename) == src.read(old.filename)
            assert _raw(out, new) == _raw(data, old)  # not inflated and deflated again
            assert (new.CRC, new.compress_size) == (old.CRC, old.compress_size)
            assert not new.flag_bits & 0x08


def test_a_member_cut_short_is_refused():
    data = _package(False)
    src = zipfile.ZipFile(io.BytesIO(data))
    info = src.getinfo("xl/media/image1.png")
    info.compress_size += 10 ** 6  # claims more bytes than the file holds
    with pytest.raises(zipfile.BadZipFile):
        replace_parts(data, src, {})


def test_a_replaced_part_is_deflated_at_the_rewrite_level():
    # ZipFile.writestr given a ZipInfo ignores the ZipFile's compresslevel (zlib's default
    # 6 then): the level must be passed with the part, or the cheap level is never used.
    data = _package(False)
    src = zipfile.ZipFile(io.BytesIO(data))
    new = b"".join(b'<c r="A%d"><v>%d</v></c>' % (i, i * 7 % 13) for i in range(5000))
    out = replace_parts(data, src, {"xl/worksheets/sheet1.xml": new})
    deflate = zlib.compressobj(REWRITE_LEVEL, zlib.DEFLATED, -15)
    expected = deflate.compress(new) + deflate.flush()
    default = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert expected != default.compress(new) + default.flush()  # the levels differ here
    assert _raw(out, zipfile.ZipFile(io.BytesIO(out)).getinfo("xl/worksheets/sheet1.xml")) \
        == expected
