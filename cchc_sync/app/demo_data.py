"""Realistic sample areas for `cchc-sync demo` and the end-to-end tests.

Two areas, each with figures that are internally consistent except for a handful of the
mistakes clerks really make (`mistakes` lists them, so tests can assert exactly those are
flagged):

- `PROVINCE_AREA` (the default demo): a province after the 1 July 2025 reform — its sở,
  ban and ngành, and communes that are xã, phường or đặc khu; no district level. Its
  registry writes `cap` the way people do ("Sở", "Ban", "Ngành", "Phường", "Cấp xã", …).
- `DISTRICT_AREA` (`demo --district`, and the fixture most tests use): a 2022-style
  district, huyện → phòng and xã, as archives and reports from before 2025 are.

Clerks type in different styles (text with Vietnamese grouping, stored numbers, dates as
text or as dates, decomposed Unicode, choice aliases) — the result must not depend on it.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

DISTRICT = "huyện Sông Mây"
PROVINCE = "tỉnh Sông Mây"
PERIOD = "2022S1"

UNITS_CSV = """ma,ten,cap,cha,email
VP,Văn phòng HĐND và UBND huyện,huyen,,vanphong@songmay.example.gov.vn
NV,Phòng Nội vụ,huyen,,noivu@songmay.example.gov.vn
TP,Phòng Tư pháp,huyen,,tuphap@songmay.example.gov.vn
TCKH,Phòng Tài chính - Kế hoạch,huyen,,tckh@songmay.example.gov.vn
TNMT,Phòng Tài nguyên và Môi trường,huyen,,tnmt@songmay.example.gov.vn
LDTBXH,"Phòng Lao động - Thương binh và Xã hội",huyen,,ldtbxh@songmay.example.gov.vn
XA_LT,UBND xã Long Trị,xa,,ubnd.longtri@songmay.example.gov.vn
XA_HT,UBND xã Hòa Thuận,xa,,ubnd.hoathuan@songmay.example.gov.vn
XA_TH,UBND xã Tân Hòa,xa,,ubnd.tanhoa@songmay.example.gov.vn
XA_PH,UBND xã Phú Hưng,xa,,ubnd.phuhung@songmay.example.gov.vn
TT_SM,UBND thị trấn Sông Mây,xa,,ubnd.ttsongmay@songmay.example.gov.vn
XA_AB,UBND xã An Bình,xa,,ubnd.anbinh@songmay.example.gov.vn
"""
"""The 2022-style district: six offices of the huyện and six communes."""

PROVINCE_UNITS_CSV = """ma,ten,cap,cha,email
VPUB,Văn phòng UBND tỉnh,Sở,,vanphong@songmay.example.gov.vn
SNV,Sở Nội vụ,Sở,,sonoivu@songmay.example.gov.vn
STP,Sở Tư pháp,sở,,sotuphap@songmay.example.gov.vn
STC,Sở Tài chính,Sở,,sotaichinh@songmay.example.gov.vn
SNNMT,Sở Nông nghiệp và Môi trường,Sở,,sonnmt@songmay.example.gov.vn
SKHCN,Sở Khoa học và Công nghệ,Sở,,sokhcn@songmay.example.gov.vn
BQLKKT,Ban Quản lý Khu kinh tế tỉnh,Ban,,bqlkkt@songmay.example.gov.vn
CAT,Công an tỉnh,Ngành,,congan@songmay.example.gov.vn
P_SM,UBND phường Sông Mây,Phường,,ubnd.songmay@songmay.example.gov.vn
P_BT,UBND phường Bình Thủy,phường,,ubnd.binhthuy@songmay.example.gov.vn
X_LT,UBND xã Long Trị,Xã,,ubnd.longtri@songmay.example.gov.vn
X_HT,UBND xã Hòa Thuận,Cấp xã,,ubnd.hoathuan@songmay.example.gov.vn
X_TH,UBND xã Tân Hòa,xa,,ubnd.tanhoa@songmay.example.gov.vn
X_AB,UBND xã An Bình,Xã,,ubnd.anbinh@songmay.example.gov.vn
DK_HN,UBND đặc khu Hòn Ngọc,Đặc khu,,ubnd.honngoc@songmay.example.gov.vn
"""
"""A province after the 2025 reform: eight sở, ban, ngành and seven communes (xã, phường,
đặc khu), with `cap` written in people's words."""


@dataclass(frozen=True, kw_only=True)
class DemoArea:
    """One sample area: its registry, what its offices handle, and where its mistakes are."""

    name: str
    units_csv: str
    upper: str
    """Level code of the offices (the rest are communes)."""
    fields: dict[str, list[str]]
    """Office code -> its fields of procedures (lĩnh vực)."""
    catalogue: dict[str, dict[str, int]]
    scale: dict[str, int]
    """Level -> about how many dossiers one field of procedures receives in a half-year."""
    staff: dict[str, tuple[int, int]]
    """Level -> range of the posts (biên chế) assigned to one unit."""
    not_started: str
    entering: tuple[str, ...]
    sites: dict[str, str]
    """Kind of mistake -> the unit that makes it (see `_add_mistakes`)."""
    catalogue_note: str
    """The explanation the "catalogue" unit gives for its smaller catalogue."""

    @property
    def mistakes(self) -> list[tuple[str, str, str, str]]:
        """(unit, table, column, rule) of every deliberate mistake."""
        s = self.sites
        return [
            # The bumped total breaks both identities of its row.
            (s["total"], "tthc", "tong_tiep_nhan", "tthc.tong-tiep-nhan"),
            (s["total"], "tthc", "tong_tiep_nhan", "tthc.tong-giai-quyet"),
            (s["rate"], "dvctt", "ty_le", "dvctt.ty-le"),
            # ... and 83/270 = 30,74% online is far below the other offices (80-97%).
            (s["rate"], "dvctt", "ty_le", "history.outlier"),
            (s["two_numbers"], "bien_che", "hien_co", "cell.int.two-numbers"),
            (s["decimal"], "tthc", "dang_qua_han", "cell.int.decimal"),
            (s["document_a"], "van_ban", "ngay_ban_hanh", "van_ban.so-hai-ngay"),
            (s["document_b"], "van_ban", "ngay_ban_hanh", "van_ban.so-hai-ngay"),
            (s["document_type"], "van_ban", "loai_van_ban", "van_ban.loai-khong-khop"),
            (s["catalogue"], "dvctt", "so_thu_tuc", "dvctt.so_thu_tuc.khac-cap"),
        ]


COMMUNE_FIELDS = ["Chứng thực", "Hộ tịch", "Đất đai", "Bảo trợ xã hội"]

DISTRICT_AREA = DemoArea(
    name=DISTRICT,
    units_csv=UNITS_CSV,
    upper="huyen",
    fields={
        "VP": ["Thi đua - khen thưởng"],
        "NV": ["Tôn giáo", "Công chức, viên chức"],
        "TP": ["Chứng thực", "Hộ tịch", "Nuôi con nuôi"],
        "TCKH": ["Thành lập và hoạt động của hộ kinh doanh", "Hợp tác xã"],
        "TNMT": ["Đất đai", "Môi trường"],
        "LDTBXH": ["Bảo trợ xã hội", "Người có công"],
    },
    catalogue={"huyen": {"mot_phan": 85, "toan_trinh": 126},
               "xa": {"mot_phan": 42, "toan_trinh": 68}},
    scale={"huyen": 400, "xa": 150},
    staff={"huyen": (7, 14), "xa": (19, 23)},
    not_started="XA_AB",
    entering=("TCKH", "TT_SM"),
    catalogue_note="Xã chưa triển khai 3 thủ tục lĩnh vực đất đai",
    sites={"total": "XA_LT", "rate": "TNMT", "two_numbers": "XA_TH", "decimal": "LDTBXH",
           "document_a": "VP", "document_b": "XA_HT", "document_type": "NV",
           "catalogue": "XA_PH"},
)

PROVINCE_AREA = DemoArea(
    name=PROVINCE,
    units_csv=PROVINCE_UNITS_CSV,
    upper="so",
    fields={
        "VPUB": ["Tiếp công dân"],
        "SNV": ["Việc làm", "Người có công", "Thi đua - khen thưởng"],
        "STP": ["Lý lịch tư pháp", "Công chứng", "Hộ tịch"],
        "STC": ["Thành lập và hoạt động doanh nghiệp", "Đầu tư tại Việt Nam"],
        "SNNMT": ["Đất đai", "Môi trường", "Trồng trọt"],
        "SKHCN": ["Viễn thông và Internet", "Sở hữu trí tuệ"],
        "BQLKKT": ["Đầu tư tại khu kinh tế", "Quy hoạch xây dựng"],
        "CAT": ["Đăng ký, quản lý phương tiện giao thông", "Cấp, quản lý căn cước"],
    },
    catalogue={"so": {"mot_phan": 96, "toan_trinh": 131},
               "xa": {"mot_phan": 58, "toan_trinh": 87}},
    scale={"so": 900, "xa": 260},
    staff={"so": (38, 72), "xa": (32, 40)},
    not_started="X_AB",
    entering=("SKHCN", "DK_HN"),
    catalogue_note="Phường không có thủ tục lĩnh vực nông nghiệp, thủy sản",
    sites={"total": "X_LT", "rate": "SNNMT", "two_numbers": "X_TH", "decimal": "SNV",
           "document_a": "VPUB", "document_b": "X_HT", "document_type": "STP",
           "catalogue": "P_SM"},
)

AREAS = {"province": PROVINCE_AREA, "district": DISTRICT_AREA}

MISTAKES = DISTRICT_AREA.mistakes
"""The district's mistakes (most tests run on the district)."""

TRAINING = [
    "Bồi dưỡng kỹ năng số cho cán bộ, công chức",
    "Tập huấn nghiệp vụ một cửa, một cửa liên thông",
    "Bồi dưỡng quản lý nhà nước",
]


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def tthc_row(rng: random.Random, field: str, scale: int) -> dict[str, int | str]:
    """One consistent "Giải quyết TTHC" row (both identities hold), about `scale` dossiers."""
    carried = rng.randint(0, scale // 10)
    online = rng.randint(scale // 4, scale)
    direct = rng.randint(scale // 4, scale)
    total = carried + online + direct
    late = rng.randint(0, max(1, total // 60))
    pending_late = rng.randint(0, max(1, total // 80))
    pending = rng.randint(0, total // 10)
    early = rng.randint(total // 5, total // 2)
    on_time = total - early - late - pending - pending_late
    return {
        "linh_vuc": field, "tu_ky_truoc": carried, "truc_tuyen": online, "truc_tiep": direct,
        "tong_tiep_nhan": total, "truoc_han": early, "dung_han": on_time, "qua_han": late,
        "dang_trong_han": pending, "dang_qua_han": pending_late,
    }


def _style_number(n: int, style: int) -> Any:
    """How this unit's clerk types a count: stored number, or text with grouping."""
    if style == 0:
        return n
    return f"{n:,}".replace(",", ".")  # Vietnamese grouping, typed as text: "27.554"


def _style_date(d: dt.date, style: int) -> Any:
    if style == 0:
        return d
    if style == 1:
        return f"{d.day:02d}/{d.month}/{d.year}"
    return f"ngày {d.day:02d} tháng {d.month} năm {d.year}"


def _style_pct(p: float, style: int) -> Any:
    if style == 0:
        return round(p / 100, 6)  # stored in a percent-formatted cell as a fraction
    return f"{p:.2f}%".replace(".", ",")  # typed text "96,16%"


def _rate(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0


def demo_rows(
    units: list[tuple[str, str, str]], seed: int = 2022, style: int | None = None,
    year: int = 2022, area: DemoArea = DISTRICT_AREA,
) -> dict[str, dict[str, list]]:
    """unit code -> table key -> rows of {column key: typed value}.

    units: (code, name, level) in registry order. style: force one typing style for every
    unit (0 stored numbers and dates, 1 Vietnamese text in NFD, 2 text with long dates);
    by default units alternate. The figures are the same whatever the style. year: the
    year the documents are dated in (the period's end year).
    """
    forced = style
    rng = random.Random(seed)
    out: dict[str, dict[str, list]] = {}
    for i, (code, name, level) in enumerate(units):
        style = i % 3 if forced is None else forced
        if code == area.not_started:
            out[code] = {}  # has not started yet
            continue
        upper = level == area.upper
        fields = area.fields[code] if upper else COMMUNE_FIELDS
        scale = area.scale[level]
        tthc = [tthc_row(rng, f, scale) for f in fields]
        tables: dict[str, list] = {"tthc": tthc}
        dv = []
        for kind in ("mot_phan", "toan_trinh"):
            arising = rng.randint(scale // 2, scale * 2)
            # Units of one level have similar online shares (no outliers by accident).
            low, high = {"mot_phan": (0.55, 0.75), "toan_trinh": (0.80, 0.97)}[kind]
            online = round(arising * rng.uniform(low, high))
            dv.append({
                "loai": {"mot_phan": "mức 3", "toan_trinh": "Toàn trình (mức độ 4)"}[kind],
                "so_thu_tuc": area.catalogue[level][kind],
                "ho_so_phat_sinh": arising, "ho_so_truc_tuyen": online,
                "ty_le": _style_pct(_rate(online, arising), style),
            })
        tables["dvctt"] = dv
        whole = sum(int(r["tong_tiep_nhan"]) for r in tthc)
        part = whole - rng.randint(0, whole // 20)
        tables["mot_cua"] = [{
            "ho_so_tren_he_thong": part, "tong_ho_so": whole,
            "ty_le": _style_pct(_rate(part, whole), style),
        }]
        sent = rng.randint(300, 2500)
        signed = sent - rng.randint(0, sent // 10)
        tables["ky_so"] = [{
            "van_ban_di": sent, "van_ban_ky_so": signed,
            "ty_le": _style_pct(_rate(signed, sent), style),
            "chung_thu_to_chuc": 1, "chung_thu_ca_nhan": rng.randint(2, 6),
        }]
        assigned = rng.randint(*area.staff[level])
        tables["bien_che"] = [{
            "co_quan": name, "loai": "Công chức", "duoc_giao": assigned,
            "hien_co": assigned - rng.randint(0, 2), "hop_dong": rng.randint(0, 3),
        }]
        tables["dao_tao"] = [
            {"noi_dung": t, "so_nguoi": rng.randint(3, 25)} for t in TRAINING[: 1 + i % 3]
        ]
        number = 10 + i
        tables["van_ban"] = [{
            "so_ky_hieu": f"{number}/KH-UBND",
            "ngay_ban_hanh": _style_date(dt.date(year, 1, 10 + i), style),
            "loai_van_ban": "Kế hoạch",
            "trich_yeu": f"Kế hoạch cải cách hành chính năm {year}",
        }]
        tables["iso"] = [{
            "ap_dung": "Có" if upper or i % 2 else "Không",
            **({"so_quyet_dinh": f"{100 + i}/QĐ-UBND", "ngay_cong_bo": _style_date(
                dt.date(year - 1, 11, 2 + i), style)} if upper or i % 2 else {}),
        }]
        tables["thong_tin"] = [{
            "nguoi_lap": "Nguyễn Thị Lan" if i % 2 else "Trần Văn Hùng",
            "dien_thoai": f"0912 345 {600 + i}",
            "trang_thai": "Đang nhập" if code in area.entering else "Hoàn thành",
        }]
        if style == 1:
            # This clerk's keyboard tool produces decomposed Unicode (NFD).
            for rows in tables.values():
                for row in rows:
                    for k, v in row.items():
                        if isinstance(v, str):
                            row[k] = _nfd(v)
        for rows in tables.values():
            for row in rows:
                for k, v in row.items():
                    if isinstance(v, int) and not isinstance(v, bool):
                        row[k] = _style_number(v, style)
        out[code] = tables
    _add_mistakes(out, year, area)
    return out


def _add_mistakes(out: dict[str, dict[str, list]], year: int, area: DemoArea) -> None:
    site = area.sites
    # A total that is not the sum of its parts.
    row = out[site["total"]]["tthc"][0]
    row["tong_tiep_nhan"] = _bump(row["tong_tiep_nhan"], 10)
    # A rate that does not match its own numbers: "22,43%" for 83/270.
    row = out[site["rate"]]["dvctt"][1]
    row.update({"ho_so_phat_sinh": 270, "ho_so_truc_tuyen": 83, "ty_le": "22,43%"})
    # "present/assigned" typed in one cell.
    out[site["two_numbers"]]["bien_che"][0]["hien_co"] = "15/16"
    # A decimal in a count.
    out[site["decimal"]]["tthc"][0]["dang_qua_han"] = "1,5"
    # One document cited with two dates, by two units.
    out[site["document_a"]]["van_ban"].append({
        "so_ky_hieu": "175/KH-UBND", "ngay_ban_hanh": f"07/01/{year}", "loai_van_ban": "Kế hoạch",
        "trich_yeu": f"Kế hoạch cải cách hành chính {area.name} năm {year}",
    })
    out[site["document_b"]]["van_ban"].append({
        "so_ky_hieu": "175 / KH - UBND", "ngay_ban_hanh": f"10/01/{year}",
        "loai_van_ban": "Kế hoạch",
        "trich_yeu": f"Triển khai Kế hoạch CCHC năm {year} của {area.name.split()[0]}",
    })
    # A decision number under the type "Kế hoạch".
    out[site["document_type"]]["van_ban"].append({
        "so_ky_hieu": "15/QĐ-UBND", "ngay_ban_hanh": f"14/02/{year}", "loai_van_ban": "Kế hoạch",
        "trich_yeu": "Kiện toàn tổ công tác cải cách hành chính",
    })
    # A catalogue size that differs from the level's, with the unit's explanation.
    row = out[site["catalogue"]]["dvctt"][1]
    row["so_thu_tuc"] = 65
    row["__explanation__"] = area.catalogue_note


def _bump(value: Any, by: int) -> Any:
    if isinstance(value, str):
        n = int(value.replace(".", "")) + by
        return f"{n:,}".replace(",", ".")
    return value + by
