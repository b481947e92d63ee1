"""Helpers for the report tests: the sample district, an earlier period, and the report's
figures computed INDEPENDENTLY from the archive's current rows (plain Python sums, not
cchc_sync.publish.figures), formatted the Vietnamese way.

This module holds no test of its own.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from cchc_sync.app.pipeline import sync_once
from cchc_sync.domain.records import Finding, Severity, TypedRow
from cchc_sync.domain.vnformat import format_int
from tests.conftest import make_district

TOTAL = "total"
KINDS = ("mot_phan", "toan_trinh")
EARLIER = "2021S1"


def build_district(root: Path):
    """The sample district synced once, plus an archived earlier period (2021S1) that
    only the district offices reported, with one open error of its own."""
    ws = make_district(root)
    sync_once(ws)
    add_earlier_period(ws)
    return ws


def add_earlier_period(ws) -> None:
    """2021S1: the offices' rows of 2022S1 with counts scaled by 0.8; communes silent.

    No units are saved for 2021S1, so the report falls back to the current registry."""
    archive = ws.archive
    run = archive.start_run(EARLIER)
    level = {u.code: u.level for u in ws.units}
    by_unit: dict[str, dict[str, list[TypedRow]]] = {}
    for r in archive.current_rows(ws.period.code):
        if level[r.unit] != "huyen":
            continue
        values = {k: (int(v * 0.8) if isinstance(v, int) and not isinstance(v, bool) else v)
                  for k, v in r.values.items()}
        values.pop("ty_le", None)
        if r.table == "tthc":
            # Scaled parts, and totals made of them, so the earlier rows still add up.
            values["tong_tiep_nhan"] = sum(values.get(k) or 0 for k in
                                           ("tu_ky_truoc", "truc_tuyen", "truc_tiep"))
            resolved = sum(values.get(k) or 0 for k in ("truoc_han", "dung_han", "qua_han",
                                                          "dang_qua_han"))
            values["dang_trong_han"] = values["tong_tiep_nhan"] - resolved
        by_unit.setdefault(r.unit, {}).setdefault(r.table, []).append(
            TypedRow(table=r.table, key=r.key, sheet_row=r.sheet_row or 2, values=values))
    for unit, tables in by_unit.items():
        archive.record_rows(EARLIER, unit, tables, {}, run)
    row = next(r for r in archive.current_rows(EARLIER, unit="TP") if r.table == "tthc")
    archive.replace_findings(EARLIER, "unit", [Finding(
        rule="tthc.tong-tiep-nhan", severity=Severity.ERROR, unit="TP", table="tthc",
        row=row.sheet_row, column="tong_tiep_nhan", row_key=row.key, value=1,
        message="Lỗi thử của kỳ trước")], run)


def error_rows(archive, period: str) -> set[tuple[str, str, str]]:
    return {(f.unit, f.table, f.row_key) for f in archive.open_findings(period)
            if f.severity is Severity.ERROR and f.row_key is not None}


TTHC_IDENTITIES = (("tong_tiep_nhan", ("tu_ky_truoc", "truc_tuyen", "truc_tiep")),
                   ("tong_tiep_nhan", ("truoc_han", "dung_han", "qua_han", "dang_trong_han",
                                       "dang_qua_han")))


def left_out(row, errors: set, level: dict) -> bool:
    """The counting rule, written out independently: open error, unknown unit, or a TTHC
    total that is not the sum of its parts with blanks as 0."""
    if row.unit not in level or (row.unit, row.table, row.key) in errors:
        return True
    if row.table == "tthc":
        v = row.values
        return any((v.get(t) or 0) != sum(v.get(p) or 0 for p in parts)
                   for t, parts in TTHC_IDENTITIES)
    return False


def rate_text(value: float) -> str:
    """Two decimals always, the Vietnamese way: 39.6 -> "39,60%"."""
    whole, frac = f"{value:.2f}".split(".")
    return f"{format_int(int(whole))},{frac}%"


class Expected:
    """Every figure the report prints, by level and in total, from raw rows, under the
    counting rule (rows left out are not counted; their figures are marked)."""

    def __init__(self, rows, units, errors: set):
        self.level = {u.code: u.level for u in units}
        self.rows = [r for r in rows if not left_out(r, errors, self.level)]
        self.left = [r for r in rows if left_out(r, errors, self.level)]
        self.levels = list(dict.fromkeys(u.level for u in units))
        self.errors = errors
        self.values: dict[str, dict[str, tuple[float | int | None, bool, bool]]] = {}
        self._compute()

    # (value, tainted, percent) per group
    def _groups(self):
        return [*self.levels, TOTAL]

    def _rows(self, table, group, where=None):
        return [r for r in self.rows if r.table == table
                and (group == TOTAL or self.level.get(r.unit) == group)
                and all(r.values.get(k) == v for k, v in (where or {}).items())]

    def _bad(self, table, group, where=None) -> bool:
        """Rows of this table (and choice) were left out in the group."""
        return any(r.table == table
                   and (group == TOTAL or self.level.get(r.unit) == group)
                   and all(r.values.get(k) == v for k, v in (where or {}).items())
                   for r in self.left)

    def sum(self, fid, table, cols, where=None):
        out = {}
        for g in self._groups():
            rs = [r for r in self._rows(table, g, where)
                  if any(r.values.get(c) is not None for c in cols)]
            value = sum(r.values.get(c) or 0 for r in rs for c in cols) if rs else None
            out[g] = (value, self._bad(table, g, where), False)
        self.values[fid] = out

    def ratio(self, fid, num, den):
        out = {}
        for g in self._groups():
            (a, ta, _), (b, tb, _) = self.values[num][g], self.values[den][g]
            value = (float((Decimal(a) * 100 / Decimal(b)).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP)) if a is not None and b else None)
            if value == 100 and a != b:
                value = 99.99
            if value == 0 and a:
                value = 0.01
            out[g] = (value, ta or tb, True)
        self.values[fid] = out

    def diff(self, fid, a_id, b_id):
        out = {}
        for g in self._groups():
            (a, ta, _), (b, tb, _) = self.values[a_id][g], self.values[b_id][g]
            out[g] = (a - b if a is not None and b is not None else None, ta or tb, False)
        self.values[fid] = out

    def common(self, fid, table, col, where):
        out = {}
        for g in self.levels:
            rs = [r for r in self._rows(table, g, where) if r.values.get(col) is not None]
            counts = Counter(r.values[col] for r in rs)
            if counts:
                best = max(counts.values())
                value = max(v for v, n in counts.items() if n == best)
            else:
                value = None
            out[g] = (value, self._bad(table, g, where), False)
        known = [out[g][0] for g in self.levels if out[g][0] is not None]
        out[TOTAL] = (sum(known) if known else None, self._bad(table, TOTAL, where), False)
        self.values[fid] = out

    def count(self, fid, table, units_where=None, units=False):
        out = {}
        for g in self._groups():
            rs = self._rows(table, g)
            if units_where is not None:
                rs = [r for r in rs if all(r.values.get(k) == v for k, v in units_where.items())]
            value = len({r.unit for r in rs}) if units else len(rs)
            out[g] = (value, self._bad(table, g), False)
        self.values[fid] = out

    def _compute(self):
        s = self.sum
        s("tthc.tiep_nhan", "tthc", ["tong_tiep_nhan"])
        s("tthc.tu_ky_truoc", "tthc", ["tu_ky_truoc"])
        s("tthc.truc_tuyen", "tthc", ["truc_tuyen"])
        s("tthc.truc_tiep", "tthc", ["truc_tiep"])
        s("tthc.dung_han", "tthc", ["truoc_han", "dung_han"])
        s("tthc.chua_den_han", "tthc", ["dang_trong_han"])
        s("tthc.tre_han", "tthc", ["qua_han"])
        s("tthc.dang_qua_han", "tthc", ["dang_qua_han"])
        s("tthc.dang_giai_quyet", "tthc", ["dang_trong_han", "dang_qua_han"])
        s("tthc.da_giai_quyet", "tthc", ["truoc_han", "dung_han", "qua_han"])
        self.ratio("tthc.ty_le_dung_han", "tthc.dung_han", "tthc.da_giai_quyet")
        for k in (*KINDS, "muc_2"):
            w = {"loai": k}
            self.common(f"dvctt.so_thu_tuc.{k}", "dvctt", "so_thu_tuc", w)
            s(f"dvctt.phat_sinh.{k}", "dvctt", ["ho_so_phat_sinh"], w)
            s(f"dvctt.truc_tuyen.{k}", "dvctt", ["ho_so_truc_tuyen"], w)
            self.ratio(f"dvctt.ty_le.{k}", f"dvctt.truc_tuyen.{k}", f"dvctt.phat_sinh.{k}")
        s("dvctt.phat_sinh_tong", "dvctt", ["ho_so_phat_sinh"])
        s("dvctt.truc_tuyen_tong", "dvctt", ["ho_so_truc_tuyen"])
        self.ratio("dvctt.ty_le_tong", "dvctt.truc_tuyen_tong", "dvctt.phat_sinh_tong")
        s("mot_cua.tren_he_thong", "mot_cua", ["ho_so_tren_he_thong"])
        s("mot_cua.tong", "mot_cua", ["tong_ho_so"])
        self.ratio("mot_cua.ty_le", "mot_cua.tren_he_thong", "mot_cua.tong")
        s("ky_so.van_ban_di", "ky_so", ["van_ban_di"])
        s("ky_so.ky_so", "ky_so", ["van_ban_ky_so"])
        self.ratio("ky_so.ty_le", "ky_so.ky_so", "ky_so.van_ban_di")
        s("ky_so.chung_thu_to_chuc", "ky_so", ["chung_thu_to_chuc"])
        s("ky_so.chung_thu_ca_nhan", "ky_so", ["chung_thu_ca_nhan"])
        for k in ("cong_chuc", "vien_chuc"):
            w = {"loai": k}
            for col in ("duoc_giao", "hien_co", "hop_dong"):
                s(f"bien_che.{col}.{k}", "bien_che", [col], w)
            self.diff(f"bien_che.chua_su_dung.{k}", f"bien_che.duoc_giao.{k}",
                      f"bien_che.hien_co.{k}")
        s("dao_tao.so_nguoi", "dao_tao", ["so_nguoi"])
        self.count("dao_tao.so_lop", "dao_tao")
        self.count("van_ban.so_van_ban", "van_ban")
        self.count("iso.ap_dung", "iso", units_where={"ap_dung": True}, units=True)
        self.count("iso.bao_cao", "iso", units=True)

    # --- formatted -------------------------------------------------------------------------

    def raw(self, fid: str, group: str = TOTAL):
        return self.values[fid][group][0]

    def text(self, fid: str, group: str = TOTAL) -> str:
        """As the report prints it: "9.740", "99,20%", with "(*)" when tainted."""
        value, tainted, percent = self.values[fid][group]
        assert value is not None, (fid, group)
        shown = rate_text(value) if percent else format_int(value)
        return shown + ("(*)" if tainted else "")

    def texts(self, fid: str) -> set[str]:
        return {self.text(fid, g) for g in self._groups()
                if self.values[fid][g][0] is not None}

    def reporting(self, table: str, level: str) -> int:
        return len({r.unit for r in self._rows(table, level)})


def expected_for(ws, period: str) -> Expected:
    units = ws.archive.units(period) or ws.units
    return Expected(ws.archive.current_rows(period), units, error_rows(ws.archive, period))
