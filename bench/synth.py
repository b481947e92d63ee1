"""Synthetic registries and realistic unit content for the benchmarks.

A registry of N units on two levels, as a province is organised since the 2025 reform
(provincial departments, "so", and communes, "xa"; one unit in eight is a department).
Every unit fills every tab, 40 rows in all:

| tab | rows |
|---|---|
| tthc (Giải quyết TTHC) | 8 fields of procedures |
| dvctt | 2 (một phần, toàn trình) |
| mot_cua, ky_so, iso, thong_tin | 1 each |
| bien_che | 6 (3 bodies × công chức / viên chức) |
| dao_tao | 6 courses |
| van_ban | 14 (12 of its own, 2 provincial documents every unit cites, same dates) |

Clerks type in three styles, as in the demo district (stored numbers and dates; text with
Vietnamese grouping in decomposed Unicode; text with long dates "ngày 07 tháng 6 năm
2022"), and about one unit in twenty carries one of the mistakes clerks make (a total that
is not the sum of its parts, a stated rate that contradicts its numbers, "15/16" in a
count, a decimal in a count, a decision number under the type "Kế hoạch").

Content is a pure function of (unit index, seed, revision): any process can rebuild any
unit's rows without shipping them around, and `revision` > 0 is the same unit after a
clerk changed something (who prepared the report, and one figure).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from cchc_sync.app.demo_data import tthc_row

PERIOD = "2022S1"
YEAR = 2022
SEED = 2025
DEPARTMENT_EVERY = 8
"""One unit in this many is a provincial department ("so"); the others are communes."""
MISTAKE_EVERY = 20
"""About one unit in this many carries one mistake."""
ROWS_PER_UNIT = 40

FIELDS = [
    "Chứng thực", "Hộ tịch", "Đất đai", "Bảo trợ xã hội", "Người có công", "Hợp tác xã",
    "Thành lập và hoạt động của hộ kinh doanh", "Tôn giáo", "Công chức, viên chức",
    "Môi trường", "Xây dựng", "Giao thông vận tải", "Giáo dục và đào tạo", "Y tế",
    "Văn hóa, thể thao", "Nông nghiệp", "Thi đua - khen thưởng", "Nuôi con nuôi",
]
BODIES = {
    "so": ["Văn phòng sở", "Thanh tra sở", "Phòng Kế hoạch - Tài chính"],
    "xa": ["Văn phòng HĐND và UBND", "Phòng Kinh tế", "Trung tâm Phục vụ hành chính công"],
}
COURSES = [
    "Bồi dưỡng kỹ năng số cho cán bộ, công chức",
    "Tập huấn nghiệp vụ một cửa, một cửa liên thông",
    "Bồi dưỡng quản lý nhà nước",
    "Tập huấn chữ ký số và văn bản điện tử",
    "Bồi dưỡng kỹ năng giao tiếp với người dân",
    "Tập huấn cơ sở dữ liệu quốc gia về dân cư",
    "Bồi dưỡng lý luận chính trị",
    "Tập huấn an toàn thông tin",
    "Bồi dưỡng nghiệp vụ văn thư, lưu trữ",
    "Tập huấn số hóa hồ sơ thủ tục hành chính",
]
DOC_TYPES = [("KH", "Kế hoạch"), ("QĐ", "Quyết định"), ("BC", "Báo cáo"),
             ("TB", "Thông báo"), ("HD", "Hướng dẫn"), ("CT", "Chỉ thị")]
SUBJECTS = [
    "cải cách hành chính năm {y}", "kiểm soát thủ tục hành chính năm {y}",
    "chuyển đổi số năm {y}", "tuyên truyền cải cách hành chính năm {y}",
    "kiểm tra công tác cải cách hành chính năm {y}", "thực hiện cơ chế một cửa năm {y}",
]
# Documents of the province every unit cites, always with the same date.
PROVINCIAL: list[dict[str, Any]] = [
    {"so_ky_hieu": "125/KH-UBND", "ngay_ban_hanh": dt.date(YEAR - 1, 12, 28),
     "loai_van_ban": "Kế hoạch", "trich_yeu": f"Kế hoạch cải cách hành chính tỉnh năm {YEAR}"},
    {"so_ky_hieu": "18/CT-UBND", "ngay_ban_hanh": dt.date(YEAR, 1, 6),
     "loai_van_ban": "Chỉ thị", "trich_yeu": "Đẩy mạnh cải cách hành chính, chuyển đổi số"},
]
CATALOGUE = {"so": {"mot_phan": 96, "toan_trinh": 131}, "xa": {"mot_phan": 42, "toan_trinh": 68}}


@dataclass(frozen=True, slots=True)
class SynthUnit:
    index: int
    code: str
    name: str
    level: str
    email: str


def units(n: int) -> list[SynthUnit]:
    out = []
    for i in range(n):
        level = "so" if i % DEPARTMENT_EVERY == 0 else "xa"
        name = f"Sở số {i // DEPARTMENT_EVERY + 1}" if level == "so" else f"UBND xã số {i + 1}"
        out.append(SynthUnit(index=i, code=f"U{i:05d}", name=name, level=level,
                             email=f"donvi{i:05d}@example.gov.vn"))
    return out


def registry_csv(n: int) -> str:
    lines = ["ma,ten,cap,cha,email"]
    lines += [f"{u.code},{u.name},{u.level},,{u.email}" for u in units(n)]
    return "\n".join(lines) + "\n"


def unit_rows(unit: SynthUnit, seed: int = SEED, revision: int = 0) -> dict[str, list[dict]]:
    """Table key -> rows of {column key: value as the clerk typed it}: a str is typed text,
    an int a stored number, a date a stored date."""
    rng = random.Random(seed * 1_000_003 + unit.index)
    style = unit.index % 3
    level = unit.level
    scale = 600 if level == "so" else 150
    tables: dict[str, list[dict]] = {}
    tables["tthc"] = [tthc_row(rng, f, scale) for f in rng.sample(FIELDS, 8)]
    dv = []
    for kind, label in (("mot_phan", "mức 3"), ("toan_trinh", "Toàn trình (mức độ 4)")):
        arising = rng.randint(scale // 2, scale * 2)
        low, high = {"mot_phan": (0.55, 0.75), "toan_trinh": (0.80, 0.97)}[kind]
        online = round(arising * rng.uniform(low, high))
        dv.append({"loai": label, "so_thu_tuc": CATALOGUE[level][kind],
                   "ho_so_phat_sinh": arising, "ho_so_truc_tuyen": online,
                   "ty_le": _pct(_rate(online, arising), style)})
    tables["dvctt"] = dv
    whole = sum(r["tong_tiep_nhan"] for r in tables["tthc"])
    part = whole - rng.randint(0, whole // 20)
    tables["mot_cua"] = [{"ho_so_tren_he_thong": part, "tong_ho_so": whole,
                          "ty_le": _pct(_rate(part, whole), style)}]
    sent = rng.randint(300, 2500)
    signed = sent - rng.randint(0, sent // 10)
    tables["ky_so"] = [{"van_ban_di": sent, "van_ban_ky_so": signed,
                        "ty_le": _pct(_rate(signed, sent), style), "chung_thu_to_chuc": 1,
                        "chung_thu_ca_nhan": rng.randint(2, 9)}]
    staff = []
    for body in BODIES[level]:
        for kind in ("Công chức", "Viên chức"):
            assigned = rng.randint(4, 25)
            staff.append({"co_quan": body, "loai": kind, "duoc_giao": assigned,
                          "hien_co": assigned - rng.randint(0, 3),
                          "hop_dong": rng.randint(0, 4)})
    tables["bien_che"] = staff
    tables["dao_tao"] = [{"noi_dung": c, "so_nguoi": rng.randint(3, 60)}
                         for c in rng.sample(COURSES, 6)]
    # Own documents: numbered by the unit's issuer code, so two units never cite one
    # number with two dates by accident (the cross-unit rule would rightly flag that).
    issuer = f"UB{unit.code}"
    docs = []
    for j in range(12):
        code, label = DOC_TYPES[j % len(DOC_TYPES)]
        day = dt.date(YEAR, 1 + (j * 5) // 12, 2 + 2 * j)  # inside the period
        docs.append({"so_ky_hieu": f"{10 + 7 * j + rng.randint(0, 6)}/{code}-{issuer}",
                     "ngay_ban_hanh": _date(day, style), "loai_van_ban": label,
                     "trich_yeu": f"{label} về {SUBJECTS[j % len(SUBJECTS)].format(y=YEAR)}"})
    docs += [{**d, "ngay_ban_hanh": _date(d["ngay_ban_hanh"], style)} for d in PROVINCIAL]
    tables["van_ban"] = docs
    applies = level == "so" or unit.index % 2 == 1
    tables["iso"] = [{"ap_dung": "Có" if applies else "Không", **(
        {"so_quyet_dinh": f"{100 + unit.index % 800}/QĐ-{issuer}",
         "ngay_cong_bo": _date(dt.date(YEAR - 1, 11, 2 + unit.index % 25), style)}
        if applies else {})}]
    tables["thong_tin"] = [{
        "nguoi_lap": ("Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Thị Mai")[unit.index % 3],
        "dien_thoai": f"0912 {unit.index // 1000:03d} {unit.index % 1000:03d}",
        "trang_thai": "Đang nhập" if unit.index % 7 == 3 else "Hoàn thành",
    }]
    if rng.randrange(MISTAKE_EVERY) == 0:
        _add_mistake(tables, rng)
    if revision:
        # A clerk edits: who prepared the report, and one figure (kept consistent).
        tables["thong_tin"][0]["nguoi_lap"] = f"Phạm Văn Sửa {revision}"
        row = tables["dao_tao"][0]
        row["so_nguoi"] = row["so_nguoi"] + revision
    for rows in tables.values():
        for row in rows:
            for key, value in row.items():
                if style == 1 and isinstance(value, str):
                    row[key] = unicodedata.normalize("NFD", value)  # a legacy keyboard tool
                elif isinstance(value, int) and not isinstance(value, bool) and style:
                    row[key] = f"{value:,}".replace(",", ".")  # "27.554" typed as text
    assert sum(len(r) for r in tables.values()) == ROWS_PER_UNIT
    return tables


def _add_mistake(tables: dict[str, list[dict]], rng: random.Random) -> None:
    kind = rng.randrange(5)
    if kind == 0:
        tables["tthc"][0]["tong_tiep_nhan"] += 10
    elif kind == 1:
        tables["dvctt"][1].update(ho_so_phat_sinh=270, ho_so_truc_tuyen=83, ty_le="22,43%")
    elif kind == 2:
        tables["bien_che"][0]["hien_co"] = "15/16"
    elif kind == 3:
        tables["tthc"][1]["dang_qua_han"] = "1,5"
    else:
        doc = tables["van_ban"][0]
        doc["so_ky_hieu"] = doc["so_ky_hieu"].replace("/KH-", "/QĐ-")


def _rate(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0


def _pct(p: float, style: int) -> Any:
    if style == 0:
        return round(p / 100, 6)  # a fraction in a percent-formatted cell
    return f"{p:.2f}%".replace(".", ",")  # typed text "96,16%"


def _date(d: dt.date, style: int) -> Any:
    if style == 0:
        return d
    if style == 1:
        return f"{d.day:02d}/{d.month}/{d.year}"
    return f"ngày {d.day:02d} tháng {d.month} năm {d.year}"
