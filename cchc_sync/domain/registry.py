"""The units registry: a CSV that coordinators keep in a spreadsheet.

Columns `ma,ten,cap,cha,email`; unknown columns are kept, not rejected. A mistake is
reported in Vietnamese with its line number so a coordinator can fix the CSV themselves.

`cap` is written the way people write it: a level code (`tinh`, `so`, `huyen`, `xa`) or a
Vietnamese label (`Tỉnh`, `Sở`, `Ban`, `Ngành`, `Huyện`, `Xã`, `Phường`, `Đặc khu`,
`Cấp xã` …), in any case, with or without diacritics. Labels become level codes here, so
the rest of the software (and the config's `[levels]`) only ever sees codes. Since the
2025 reform xã, phường and đặc khu are all "cấp xã": they share the level `xa`. A label we
do not know becomes its own level, coded by its ASCII slug ("Đơn vị sự nghiệp" ->
`don_vi_su_nghiep`), with the label kept as its display name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cchc_sync.domain.records import Unit

REQUIRED_COLUMNS = ("ma", "ten", "cap")
KNOWN_COLUMNS = ("ma", "ten", "cap", "cha", "email")

LEVEL_LABELS = {
    "tinh": ("tinh", "cap tinh", "ubnd tinh", "thanh pho truc thuoc trung uong"),
    "so": ("so", "ban", "nganh", "cap so", "so nganh", "ban nganh", "so ban nganh",
           "cap so ban nganh", "so ban", "co quan chuyen mon", "co quan chuyen mon cap tinh"),
    "huyen": ("huyen", "cap huyen", "quan", "thi xa", "ubnd huyen"),
    "xa": ("xa", "cap xa", "phuong", "cap phuong", "dac khu", "cap dac khu", "thi tran",
           "xa phuong", "xa phuong dac khu", "ubnd xa", "ubnd phuong"),
}
"""Level code -> the words people write for it, folded (see `fold`)."""
_LEVEL_BY_LABEL = {label: code for code, labels in LEVEL_LABELS.items() for label in labels}


class RegistryError(Exception):
    """The registry cannot be used; the message names the line and the problem."""


def fold(text: str) -> str:
    """Lower case, no diacritics, "đ" -> "d", words separated by one space: the form in
    which two spellings of one thing are equal ("Cấp Xã", "cap xa", "CAP  XA")."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D")
                                 .replace("Ð", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.split(r"[^a-z0-9]+", text)).strip()


def level_code(label: str) -> str:
    """The level code for what a person wrote in `cap`."""
    folded = fold(label)
    if folded in _LEVEL_BY_LABEL:
        return _LEVEL_BY_LABEL[folded]
    return folded.replace(" ", "_") or label.strip()


def code_key(code: str) -> str:
    """The identity of a unit code once case, diacritics and the file-name transformation
    have had their way: `DV.01`, `dv-01` and `DV 01` are one code; so are `ĐV02` and `DV02`.
    Two registry lines with one key would share a workbook, so they are refused."""
    return fold(code).replace(" ", "-") or code.strip().casefold()


def load_units(path: str | Path) -> list[Unit]:
    """Read units.csv (UTF-8, with or without BOM; comma or semicolon separated)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegistryError(f"{path}: không tìm thấy tệp danh sách đơn vị") from None
    except IsADirectoryError:
        raise RegistryError(f"{path}: đây là một thư mục, không phải tệp CSV") from None
    except UnicodeDecodeError:
        raise RegistryError(
            f"{path}: tệp không phải UTF-8; hãy lưu lại bằng \"CSV UTF-8\" trong Excel"
        ) from None
    return parse_units(text, source=str(path))


def _reader(text: str) -> csv.DictReader:
    first = text.splitlines()[0] if text.strip() else ""
    # Excel in a Vietnamese locale saves CSV with ";" because "," is the decimal mark.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return csv.DictReader(io.StringIO(text), delimiter=delimiter)


def _rows(reader: csv.DictReader) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row with stripped lower-case keys), skipping empty lines."""
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if any(row.values()):
            yield line, row


def parse_units(text: str, source: str = "units.csv") -> list[Unit]:
    text = unicodedata.normalize("NFC", text)
    reader = _reader(text)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RegistryError(
            f"{source}: thiếu cột {', '.join(missing)} (cần các cột ma,ten,cap; "
            "tuỳ chọn cha,email)"
        )
    units: list[Unit] = []
    seen: dict[str, int] = {}
    keys: dict[str, tuple[str, int]] = {}
    for line, row in _rows(reader):
        code = row.get("ma", "")
        if not code:
            raise RegistryError(f"{source}, dòng {line}: thiếu mã đơn vị (cột ma)")
        if code in seen:
            raise RegistryError(
                f"{source}, dòng {line}: mã đơn vị {code!r} đã dùng ở dòng {seen[code]}"
            )
        key = code_key(code)
        if key in keys:
            other, other_line = keys[key]
            raise RegistryError(
                f"{source}, dòng {line}: mã đơn vị {code!r} trùng với mã {other!r} ở dòng "
                f"{other_line} khi bỏ dấu, không phân biệt chữ hoa thường và đổi thành tên "
                "tệp (hai đơn vị sẽ dùng chung một bảng tính); hãy đổi một trong hai mã"
            )
        if not row.get("ten"):
            raise RegistryError(f"{source}, dòng {line}: đơn vị {code} chưa có tên (cột ten)")
        if not row.get("cap"):
            raise RegistryError(f"{source}, dòng {line}: đơn vị {code} chưa có cấp (cột cap)")
        seen[code] = line
        keys[key] = (code, line)
        emails = tuple(e.strip() for e in row.get("email", "").split(";") if e.strip())
        units.append(
            Unit(
                code=code,
                name=row["ten"],
                level=level_code(row["cap"]),
                parent=row.get("cha", ""),
                emails=emails,
                extra={k: v for k, v in row.items() if k not in KNOWN_COLUMNS},
            )
        )
    for unit in units:
        if unit.parent and unit.parent not in seen:
            raise RegistryError(
                f"{source}, dòng {seen[unit.code]}: đơn vị cha {unit.parent!r} của {unit.code} "
                "không phải là mã đơn vị nào trong danh sách"
            )
    if not units:
        raise RegistryError(f"{source}: danh sách không có đơn vị nào")
    return units


def level_labels(path_or_text: str, source: str = "units.csv") -> dict[str, str]:
    """Level code -> the first label the registry wrote for it, for levels that are not one
    of the known codes (their display name is what the coordinator wrote)."""
    out: dict[str, str] = {}
    for _, row in _rows(_reader(unicodedata.normalize("NFC", path_or_text))):
        label = row.get("cap", "")
        code = level_code(label) if label else ""
        if code and code not in LEVEL_LABELS and code not in out:
            out[code] = label
    return out


def find_unit_code(given: str, codes: Iterable[str]) -> str | None:
    """The registry code a person meant: exact, else equal once case, diacritics and
    punctuation are folded ("ldtbxh" -> "LDTBXH")."""
    known = list(codes)
    if given in known:
        return given
    wanted = code_key(given)
    return next((c for c in known if code_key(c) == wanted), None)


@dataclass(frozen=True, kw_only=True, slots=True)
class Succession:
    """Unit `old` ends and `new` carries on from `effective` (merger, split or recode)."""

    old: str
    new: str
    effective: dt.date


def load_successions(path: str | Path | None, units: list[Unit]) -> list[Succession]:
    """Read the optional successor mapping `ma_cu,ma_moi,ngay_hieu_luc`.

    A merger is several rows with the same new code; a split several rows with the same
    old code. Dates are day first (01/07/2025) or ISO.
    """
    if not path:
        return []
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"{path}: không tìm thấy tệp đơn vị kế thừa (ma_cu,ma_moi,...)")
    known = {u.code for u in units}
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8-sig"))
    out = []
    for line, row in _rows(_reader(text)):
        old, new, when = row.get("ma_cu", ""), row.get("ma_moi", ""), row.get("ngay_hieu_luc", "")
        for code in (old, new):
            if code not in known:
                raise RegistryError(
                    f"{path}, dòng {line}: {code!r} không phải là mã đơn vị trong danh sách"
                )
        try:
            effective = _parse_day_first(when)
        except ValueError:
            raise RegistryError(
                f"{path}, dòng {line}: ngay_hieu_luc {when!r} không phải là ngày (dd/mm/yyyy)"
            ) from None
        out.append(Succession(old=old, new=new, effective=effective))
    return out


def _parse_day_first(text: str) -> dt.date:
    text = text.strip()
    if "-" in text and len(text.split("-")[0]) == 4:
        return dt.date.fromisoformat(text)
    day, month, year = (int(p) for p in text.replace(".", "/").replace("-", "/").split("/"))
    return dt.date(year, month, day)


def active_units(units: list[Unit], successions: list[Succession], on: dt.date) -> list[Unit]:
    """Units that exist on a day: a predecessor ends on its succession's effective date, a
    successor begins on it. Expected units of a period are those active at its end."""
    ended = {s.old for s in successions if s.effective <= on}
    not_yet = {s.new for s in successions if s.effective > on}
    return [u for u in units if u.code not in ended and u.code not in not_yet]


def predecessors(code: str, successions: list[Succession]) -> list[str]:
    """Codes whose figures roll up into `code` (transitively), for history checks."""
    out: list[str] = []
    frontier = [code]
    while frontier:
        current = frontier.pop()
        for s in successions:
            if s.new == current and s.old not in out and s.old != code:
                out.append(s.old)
                frontier.append(s.old)
    return out
