"""One contract for both backends: init → fill as clerks do → sync → the same findings, the
same master figures, flags visible in the units' own sheets, typed values untouched →
fix one value → sync → its flag cleared.

The local backend runs on real .xlsx files; the Google backend on the fake Google APIs
over real HTTP, with real gspread and google-auth's real service-account flow (a key made
at test time whose token_uri is the fake's).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from cchc_sync.app.demo import fill_demo_workbooks
from cchc_sync.app.demo_data import DISTRICT, MISTAKES, PERIOD, UNITS_CSV
from cchc_sync.app.demo_google import fill_demo_google
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import Workspace, sync_once
from cchc_sync.domain.config import GoogleSettings
from cchc_sync.sources.base import ERROR_FILL, WARNING_FILL
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from cchc_sync.testing.typist import set_cell
from tests.conftest import Clock

STATUS_TITLE = "Kết quả kiểm tra"
SOFTWARE_TABS = {"Kiểm tra", "_cchc", "Hướng dẫn"}
FAST = 100_000  # the fake has no quota


# -- harnesses: the same questions asked of either backend ---------------------------------


class LocalDistrict:
    kind = "local"

    def __init__(self, root: Path, units_csv: str = UNITS_CSV, fill: bool = True):
        root.mkdir(parents=True, exist_ok=True)
        (root / "units-source.csv").write_text(units_csv, encoding="utf-8")
        self.clock = Clock()
        self.ws: Workspace = init_workspace(root, units_csv=root / "units-source.csv",
                                            period=PERIOD, name=DISTRICT)
        self.ws.clock = self.clock
        if fill:
            fill_demo_workbooks(self.ws)

    def close(self) -> None:
        self.ws.close()

    def _path(self, unit: str) -> Path:
        return self.ws.config.root / self.ws.archive.sheets(PERIOD)[unit].ref

    def tabs(self, unit: str) -> dict[str, list[list[Any]]]:
        """Tab title -> rows of stored values (None for blank)."""
        wb = openpyxl.load_workbook(self._path(unit))
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
                for ws in wb.worksheets}

    def cell_flag(self, unit: str, tab: str, row: int, title: str) -> tuple[str | None, str]:
        """(note text, fill colour RRGGBB or "") of the cell under `title` in `row`."""
        sheet = openpyxl.load_workbook(self._path(unit))[tab]
        header = [c.value for c in sheet[1]]
        c = sheet.cell(row=row, column=header.index(title) + 1)
        rgb = c.fill.fgColor.rgb if c.fill is not None and c.fill.fill_type == "solid" else ""
        return (c.comment.text if c.comment else None), str(rgb or "")[-6:].upper()

    def type_value(self, unit: str, tab: str, row: int, title: str, value: Any) -> None:
        set_cell(self._path(unit), tab, row, title, value)

    def master(self) -> dict[str, list[list[Any]]]:
        path = self.ws.config.root / self.ws.archive.master(PERIOD)["ref"]
        wb = openpyxl.load_workbook(path)
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
                for ws in wb.worksheets}


class GoogleDistrict:
    kind = "google"

    def __init__(self, root: Path, units_csv: str = UNITS_CSV, fill: bool = True,
                 data_rows: int = 10, **backend: Any):
        root.mkdir(parents=True, exist_ok=True)
        (root / "units-source.csv").write_text(units_csv, encoding="utf-8")
        self.fake = FakeGoogle().start()
        key = root / "service-account.json"
        self.key_info = make_service_account_key(key, self.fake.token_uri, DEFAULT_EMAIL)
        self.fake.register_key(self.key_info)  # JWT signatures are checked
        # A folder a person made and shared with the service account, as in the README.
        self.folder = self.fake.create_folder("Báo cáo CCHC", share_with=DEFAULT_EMAIL)
        self.backends: list[GoogleBackend] = []

        def factory(config):
            made = GoogleBackend.from_config(config, data_rows=data_rows, **backend)
            self.backends.append(made)
            return made

        google = GoogleSettings(credentials=key, folder=self.folder, endpoint=self.fake.url,
                                coordinators=("phongnoivu@example.gov.vn",),
                                reads_per_minute=FAST, writes_per_minute=FAST)
        self.clock = Clock()
        self.ws = init_workspace(root, units_csv=root / "units-source.csv", period=PERIOD,
                                 backend="google", name=DISTRICT, google=google,
                                 backend_factory=factory)
        self.ws.clock = self.clock
        if fill:
            fill_demo_google(self.ws, self.fake)

    @property
    def backend(self) -> GoogleBackend:
        return self.ws.backend  # type: ignore[return-value]

    def close(self) -> None:
        self.ws.close()
        self.fake.stop()
        assert not self.fake.errors, self.fake.errors[0]

    def sheet_id(self, unit: str) -> str:
        return self.ws.archive.sheets(PERIOD)[unit].ref

    def tabs(self, unit: str) -> dict[str, list[list[Any]]]:
        return dump_values(self.fake.spreadsheet(self.sheet_id(unit)))

    def _cell(self, unit: str, tab: str, row: int, title: str) -> dict[str, Any]:
        dump = self.fake.spreadsheet(self.sheet_id(unit))
        sheet = next(s for s in dump["sheets"] if s["title"] == tab)
        header = dump_values(dump)[tab][0]
        letter = openpyxl.utils.get_column_letter(header.index(title) + 1)
        return sheet["cells"].get(f"{letter}{row}", {})

    def cell_flag(self, unit: str, tab: str, row: int, title: str) -> tuple[str | None, str]:
        c = self._cell(unit, tab, row, title)
        colour = (c.get("userEnteredFormat") or {}).get("backgroundColor")
        return c.get("note"), hex_colour(colour) if colour else ""

    def type_value(self, unit: str, tab: str, row: int, title: str, value: Any) -> None:
        header = self.tabs(unit)[tab][0]
        letter = openpyxl.utils.get_column_letter(header.index(title) + 1)
        self.fake.edit_cells(self.sheet_id(unit), tab, f"{letter}{row}", [[value]])

    def master(self) -> dict[str, list[list[Any]]]:
        return dump_values(self.fake.spreadsheet(self.ws.archive.master(PERIOD)["ref"]))


def dump_values(dump: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """Tab title -> rows of effective values from the fake's dump (None for blank)."""
    out = {}
    for sheet in dump["sheets"]:
        rows: list[list[Any]] = []
        for a1, c in sheet["cells"].items():
            col, row = openpyxl.utils.cell.coordinate_from_string(a1)
            value = c.get("effectiveValue")
            if not value:
                continue
            (_, v), = value.items()
            col_index = openpyxl.utils.column_index_from_string(col)
            while len(rows) < row:
                rows.append([])
            line = rows[row - 1]
            while len(line) < col_index:
                line.append(None)
            line[col_index - 1] = v
        out[sheet["title"]] = rows
    return out


def hex_colour(colour: dict[str, float]) -> str:
    return "".join(f"{round(colour.get(k, 0) * 255):02X}" for k in ("red", "green", "blue"))


def make(kind: str, root: Path, **kwargs: Any):
    return (LocalDistrict if kind == "local" else GoogleDistrict)(root, **kwargs)


# -- what the contract compares ------------------------------------------------------------


def typed_values(district, unit: str) -> dict[tuple[str, int, int], Any]:
    """Every value in a clerk-owned cell of every table tab (not the status column, not
    the software's tabs), numbers as floats (xlsx and Sheets store numbers differently)."""
    out = {}
    for tab, rows in district.tabs(unit).items():
        if tab in SOFTWARE_TABS or not rows:
            continue
        header = rows[0]
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                owned = r > 1 and c <= len(header) and header[c - 1] == STATUS_TITLE
                if value is None or value == "" or owned:
                    continue
                out[(tab, r, c)] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), 9)
    if isinstance(value, dt.datetime):  # xlsx dates; Sheets keeps the serial
        return round((value - dt.datetime(1899, 12, 30)).total_seconds() / 86400, 9)
    return value


def summary(district) -> dict[str, dict[str, Any]]:
    """The master's "Tổng hợp": figure id -> {column title: value}, numbers as floats."""
    rows = district.master()["Tổng hợp"]
    header = rows[0]
    out = {}
    for row in rows[1:]:
        row = list(row) + [None] * (len(header) - len(row))
        out[row[0]] = {h: (round(float(v), 6) if isinstance(v, int | float) else v or None)
                       for h, v in zip(header, row, strict=False)}
    return out


def finding_keys(ws: Workspace) -> set[tuple]:
    return {(f.unit, f.table, f.column, f.rule) for f in ws.archive.open_findings(PERIOD)}


def status_cells(district, unit: str, tab: str) -> list[Any]:
    rows = district.tabs(unit)[tab]
    col = rows[0].index(STATUS_TITLE)
    return [row[col] if col < len(row) else None for row in rows[1:]]


# -- the contract --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """Both backends, each with the sample district filled and checked once."""
    out = {}
    for kind in ("local", "google"):
        district = make(kind, tmp_path_factory.mktemp(kind))
        district.before = {u.code: typed_values(district, u.code) for u in district.ws.units}
        district.result = sync_once(district.ws)
        out[kind] = district
    yield out
    for district in out.values():
        district.close()


@pytest.mark.parametrize("kind", ["local", "google"])
def test_each_backend_finds_exactly_the_mistakes(synced, kind):
    district = synced[kind]
    assert district.result.units_read == 12
    assert finding_keys(district.ws) == set(MISTAKES)


def test_both_backends_agree_on_findings_rows_and_figures(synced):
    local, google = synced["local"], synced["google"]
    assert finding_keys(google.ws) == finding_keys(local.ws)

    def findings(ws):
        return {(f.unit, f.table, f.row, f.column, f.rule): f
                for f in ws.archive.open_findings(PERIOD)}

    local_findings, google_findings = findings(local.ws), findings(google.ws)
    assert google_findings.keys() == local_findings.keys()
    for key, found in google_findings.items():
        typed = local_findings[key]
        if isinstance(typed.value, str) and isinstance(found.value, int | float):
            # "1,5" stays text in the local typist's cell; Sheets in vi_VN stores the number
            # 1.5, and the message says what the cell holds. Same value, same rule.
            assert float(typed.value.replace(".", "").replace(",", ".")) == found.value, key
            continue
        assert found.message == typed.message, key

    def rows(ws):
        return {(r.unit, r.table, r.key): {k: round(v, 6) if isinstance(v, float) else v
                                           for k, v in r.values.items()}
                for r in ws.archive.current_rows(PERIOD)}

    assert rows(google.ws) == rows(local.ws)
    local_summary, google_summary = summary(local), summary(google)
    assert google_summary == local_summary
    assert local_summary["tthc.tiep_nhan"]["Toàn huyện Sông Mây"] > 0


@pytest.mark.parametrize("kind", ["local", "google"])
def test_master_has_every_tab(synced, kind):
    master = synced[kind].master()
    assert list(master)[:3] == ["Tổng hợp", "Tiến độ", "Bất thường"]
    assert "Giải quyết TTHC" in master and "Thông tin" in master
    progress = master["Tiến độ"]
    assert progress[0][0] == "Mã đơn vị"
    assert {row[0] for row in progress[1:] if row} >= {u.code for u in synced[kind].ws.units}


@pytest.mark.parametrize("kind", ["local", "google"])
def test_flags_are_visible_in_the_units_own_sheet(synced, kind):
    district = synced[kind]
    note, fill = district.cell_flag("XA_LT", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận")
    assert fill == ERROR_FILL
    assert note and "Tổng số hồ sơ tiếp nhận" in note
    statuses = status_cells(district, "XA_LT", "Giải quyết TTHC")
    assert statuses[0].startswith("✖ 2 lỗi")
    assert statuses[1] == "✔ Hợp lệ"
    check = "\n".join(str(v) for row in district.tabs("XA_LT")["Kiểm tra"] for v in row if v)
    assert "Kết quả kiểm tra lúc" in check and "Tổng số hồ sơ tiếp nhận" in check
    # A warning is yellow, and the unit's explanation shows.
    note, fill = district.cell_flag("XA_PH", "Dịch vụ công trực tuyến", 3, "Số thủ tục cung cấp")
    assert fill == WARNING_FILL
    assert "Đã giải trình" in note
    # A clean cell has neither.
    assert district.cell_flag("TP", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận") == (None, "")


@pytest.mark.parametrize("kind", ["local", "google"])
def test_typed_values_are_untouched(synced, kind):
    district = synced[kind]
    for unit in district.ws.units:
        assert typed_values(district, unit.code) == district.before[unit.code], unit.code
    assert len(district.before["XA_LT"]) > 50


@pytest.mark.parametrize("kind", ["local", "google"])
def test_a_fixed_value_clears_its_flag_and_nothing_else_moves(tmp_path, kind):
    district = make(kind, tmp_path / kind)
    try:
        ws = district.ws
        sync_once(ws)
        district.clock.tick()
        sync_once(ws)  # Google re-reads each sheet once after its own flag write
        district.clock.tick()
        assert sync_once(ws).units_read == 0
        rows = district.tabs("XA_LT")["Giải quyết TTHC"]
        header = rows[0]
        parts = [rows[1][header.index(t)] for t in (
            "Từ kỳ trước chuyển qua", "Mới tiếp nhận trực tuyến",
            "Mới tiếp nhận trực tiếp, bưu chính")]
        right = sum(int(p) if isinstance(p, int | float) else int(str(p).replace(".", ""))
                    for p in parts)
        district.type_value("XA_LT", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận",
                            f"{right:,}".replace(",", "."))
        before = {u.code: typed_values(district, u.code) for u in ws.units}
        district.clock.tick()
        result = sync_once(ws)
        assert result.units_read == 1
        assert not [k for k in finding_keys(ws) if k[0] == "XA_LT"]
        for unit in ws.units:
            assert typed_values(district, unit.code) == before[unit.code], unit.code
        assert district.cell_flag("XA_LT", "Giải quyết TTHC", 2,
                                  "Tổng số hồ sơ tiếp nhận") == (None, "")
        assert status_cells(district, "XA_LT", "Giải quyết TTHC")[0] == "✔ Hợp lệ"
        check = district.tabs("XA_LT")["Kiểm tra"]
        assert any("Không có lỗi nào." in str(v) for row in check for v in row)
        listed = {r[0] for r in district.master()["Bất thường"][1:]}
        assert "XA_LT" not in listed and "XA_TH" in listed
    finally:
        district.close()


def test_google_sheet_is_made_like_the_local_workbook(synced):
    """Same tabs, same header titles, hidden metadata tab, protections on owned cells."""
    local, google = synced["local"], synced["google"]
    local_tabs, google_tabs = local.tabs("VP"), google.tabs("VP")
    assert list(google_tabs) == list(local_tabs)
    for tab, rows in local_tabs.items():
        if tab not in SOFTWARE_TABS:
            assert google_tabs[tab][0] == [v for v in rows[0] if v is not None], tab
    assert google_tabs["Hướng dẫn"][:4] == [
        [v for v in row if v is not None] for row in local_tabs["Hướng dẫn"][:4]]
    instructions = "\n".join(str(r[0]) for r in google_tabs["Hướng dẫn"] if r)
    assert "đóng tệp" not in instructions and "tự lưu" in instructions
    assert "Văn phòng HĐND và UBND huyện (mã đơn vị: VP)" in instructions
    meta = dict((r[0], r[1]) for r in google_tabs["_cchc"][:8])
    assert meta["unit"] == "VP" and meta["template_version"] == "1"
    dump = google.fake.spreadsheet(google.sheet_id("VP"))
    assert dump["locale"] == "vi_VN"
    sheets = {s["title"]: s for s in dump["sheets"]}
    assert sheets["_cchc"]["hidden"] and sheets["Giải quyết TTHC"]["frozenRowCount"] == 1
    protected = {p["range"] for s in dump["sheets"] for p in s["protectedRanges"]}
    assert "'Giải quyết TTHC'!L1:L1000" in protected
    assert any(r.startswith("'Kiểm tra'!") for r in protected)
    for s in dump["sheets"]:
        for p in s["protectedRanges"]:
            assert p["editors"]["users"] == [DEFAULT_EMAIL]
    rules = sheets["Dịch vụ công trực tuyến"]["dataValidation"]
    assert rules["A2"]["condition"]["type"] == "ONE_OF_LIST" and rules["A2"]["strict"] is False
    assert sheets["Giải quyết TTHC"]["dataValidation"]["B2"]["condition"]["type"] == \
        "NUMBER_GREATER_THAN_EQ"
    assert sheets["Văn bản chỉ đạo"]["dataValidation"]["B2"]["condition"]["type"] == \
        "DATE_IS_VALID"
    formats = {a1: c.get("userEnteredFormat", {}).get("numberFormat")
               for a1, c in sheets["Dịch vụ công trực tuyến"]["cells"].items()}
    assert formats["E2"]["type"] == "PERCENT"
    assert "dd/mm/yyyy" in sheets["Văn bản chỉ đạo"]["cells"]["B2"]["userEnteredFormat"][
        "numberFormat"]["pattern"]
    header_note = sheets["Giải quyết TTHC"]["cells"]["A1"]["note"]
    assert header_note.startswith("Lĩnh vực\nKiểu:")
    writers = {p.get("emailAddress"): p["role"] for p in dump["permissions"]}
    assert writers["vanphong@songmay.example.gov.vn"] == "writer"
    master = google.fake.spreadsheet(google.ws.archive.master(PERIOD)["ref"])
    roles = {p.get("emailAddress"): p["role"] for p in master["permissions"]}
    assert roles["phongnoivu@example.gov.vn"] == "reader"
    assert dump["parents"] == [google.folder]


def test_percent_columns_keep_points_in_both_masters(synced):
    for kind, district in synced.items():
        rows = district.master()["Dịch vụ công trực tuyến"]
        col = rows[0].index("Tỷ lệ trực tuyến (%)")
        rates = [r[col] for r in rows[1:] if len(r) > col and r[col] is not None]
        assert rates and all(0 <= float(v) <= 100 for v in rates), kind
        assert any(float(v) > 1 for v in rates), kind
        assert not any(isinstance(v, float) and math.isnan(v) for v in rates)
