"""What one workbook may cost a cycle (config [limits]): bounded time and memory whatever a
file holds, so one unit's file never holds the other units' flags and the master back.

- The file's size and its parts' inflated sizes are checked from the zip directory before
  anything is inflated. Python's zipfile never inflates a part past the size its directory
  entry declares (a forged small size ends the part early with a CRC error), so the
  declared sizes are a real bound: a zip bomb is refused without being inflated.
- Rows are read until a run of rows holding no value (a formula or a format filled down to
  row 1,048,576), up to a number of rows with values per tab, and within a time per unit.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from cchc_sync.domain.config import ReadLimits
from cchc_sync.domain.vnformat import format_int
from cchc_sync.sources.base import UnitUnreachable

_MB = 1024 * 1024


class OverLimit(UnitUnreachable):
    """The workbook is over one of the read limits: not read this cycle, with a reason
    for the coordinator and the clerk."""


def check_package(path: Path, size: int, limits: ReadLimits) -> None:
    """Refuse, before any inflating, a workbook too big stored or once unzipped."""
    if size > limits.max_file_mb * _MB:
        raise OverLimit(
            f"Tệp quá lớn ({_mb(size)} MB, giới hạn {_mb(limits.max_file_mb * _MB)} MB): số "
            "liệu không được đọc. Hãy xoá các dòng, cột, hình ảnh thừa rồi lưu lại."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: the reader says what the file is
    if inflated > limits.max_inflated_mb * _MB:
        raise OverLimit(
            f"Bảng tính quá lớn khi mở ra ({_mb(inflated)} MB, giới hạn "
            f"{_mb(limits.max_inflated_mb * _MB)} MB), thường do công thức hoặc định dạng "
            "kéo tới cuối trang: số liệu không được đọc. Hãy xoá các dòng thừa bên dưới "
            "bảng (chọn các dòng, bấm chuột phải, Xoá) rồi lưu lại."
        )


class RowBudget:
    """Counts the rows of one unit's read against the limits; `clock` is injectable."""

    CHECK_EVERY = 1024  # rows between two looks at the clock

    def __init__(self, limits: ReadLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._deadline = clock() + limits.max_seconds_per_unit
        self._seen = 0

    @property
    def rows_seen(self) -> int:
        """Rows read so far, blank ones included."""
        return self._seen

    def tick(self) -> None:
        """One more row read (blank or not): past the unit's time, stop reading it."""
        self._seen += 1
        if self._seen % self.CHECK_EVERY == 0 and self._clock() > self._deadline:
            raise OverLimit(
                f"Đọc bảng tính quá {format_int(round(self.limits.max_seconds_per_unit))} giây "
                f"(đã đọc {format_int(self._seen)} dòng): số liệu sẽ được đọc lại ở lượt sau. "
                "Nếu bảng tính có rất nhiều dòng thừa, hãy xoá chúng rồi lưu lại."
            )

    def too_many_rows(self, tab: str) -> OverLimit:
        return OverLimit(
            f"Trang “{tab}” có hơn {format_int(self.limits.max_rows_per_tab)} dòng có số liệu: "
            "số liệu của đơn vị không được đọc. Hãy xoá các dòng thừa rồi lưu lại."
        )


def _mb(size: float) -> str:
    return format_int(max(1, round(size / _MB)))
