"""A coordinator's own .docx layout, filled with docxtpl (Jinja2 tags inside Word).

The context (documented in docs/report.md) holds every figure by id and level, already in
Vietnamese formatting and marked "(*)" where it rests on rows with open errors, the
built-in paragraphs by topic, the directives, one entry per unit with its own figures, the
annex tables and the two charts. Unknown variables are an error, not an empty string: a
misspelt figure id must not print nothing silently. When figures are tainted the page
"Số liệu chưa khắc phục lỗi" is appended to the rendered document.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx import Document
from docx.shared import Cm
from jinja2 import Environment, StrictUndefined, TemplateError

from cchc_sync.domain.vnformat import format_date, format_date_long
from cchc_sync.publish.figures import TOTAL, FigureValue
from cchc_sync.report.content import issuer_phrase
from cchc_sync.report.data import PeriodData, ReportError, format_value
from cchc_sync.report.docx_writer import DocxWriter
from cchc_sync.report.model import TAINT_MARK, Para, Report, Table
from cchc_sync.report.sections import (
    directives,
    directives_section,
    iso_section,
    one_stop_section,
    online_catalogue_section,
    online_share_section,
    signature_section,
    staffing_section,
    training_section,
    tthc_section,
)
from cchc_sync.report.spans import Sentences

NO_VALUE = "—"


def _figure(fig: FigureValue, data: PeriodData, earlier: PeriodData | None, s: Sentences
            ) -> dict[str, Any]:
    def shown(group: str) -> str:
        text = format_value(fig, group)
        if text is None:
            return NO_VALUE
        return text + (TAINT_MARK if fig.tainted.get(group) else "")

    entry: dict[str, Any] = {
        "id": fig.id,
        "label": fig.label,
        "percent": fig.percent,
        "value": fig.total,
        "total": shown(TOTAL),
        "tainted": bool(fig.tainted.get(TOTAL)),
        "reporting": fig.reporting.get(TOTAL, 0),
        "levels": {lv: shown(lv) for lv in data.levels},
        "by_level": [
            {
                "code": lv,
                "name": data.level_name(lv),
                "text": shown(lv),
                "value": fig.values.get(lv),
                "tainted": bool(fig.tainted.get(lv)),
                "reporting": fig.reporting.get(lv, 0),
                "units": len(data.level_units(lv)),
            }
            for lv in data.levels
        ],
        "prev": None,
        "change": "",
    }
    for lv in data.levels:
        entry.setdefault(lv, shown(lv))
    if earlier is not None:
        before = earlier.fig(fig.id)
        if before is not None:
            text = format_value(before)
            entry["prev"] = (text + (TAINT_MARK if before.tainted.get(TOTAL) else "")
                             if text is not None else NO_VALUE)
            change = "".join(sp.plain() for sp in s.comparison(fig.id))
            # " (cùng kỳ năm 2021: 1.100; tăng 12,18%)" -> "tăng 12,18%"
            entry["change"] = change.rsplit("; ", 1)[-1].rstrip(")") if "; " in change else ""
    return entry


def _plain(paras: list[Para]) -> list[str]:
    return [p.plain() for p in paras]


def _table(t: Table) -> dict[str, Any]:
    return {
        "title": t.title,
        "header": list(t.header),
        "rows": [[c.text + (TAINT_MARK if c.tainted else "") for c in r.cells] for r in t.rows],
        "kinds": [r.kind.value for r in t.rows],
        "note": t.note,
    }


def template_context(report: Report, s: Sentences, images: dict[str, Any]) -> dict[str, Any]:
    """Everything a custom template may use; see docs/report.md."""
    data, earlier = s.data, s.earlier
    # A fresh Sentences so building the paragraphs again does not disturb the report's own
    # record of what it printed.
    t = Sentences(data, earlier, s.label)
    figs = {fid: _figure(f, data, earlier, t) for fid, f in data.figures.items()}
    lh = report.letterhead
    units = []
    for u in data.units:
        own = data.unit_figures(u.code)
        units.append({
            "code": u.code,
            "name": u.name,
            "level": u.level,
            "level_name": data.level_name(u.level),
            "state": data.states[u.code],
            "fig": {
                fid: {
                    "text": (format_value(f) or NO_VALUE)
                    + (TAINT_MARK if f.tainted.get(TOTAL) and f.total is not None else ""),
                    "value": f.total,
                    "tainted": bool(f.tainted.get(TOTAL)),
                }
                for fid, f in own.items()
            },
        })
    docs = [
        {
            "number": d.number,
            "date": format_date(d.date) if d.date else "",
            "date_long": format_date_long(d.date) if d.date else "",
            "kind": d.kind,
            "summary": d.summary,
            "about": d.about,
            "units": [data.unit_name(c) for c in d.units],
            "tainted": d.tainted,
            "text": "".join(sp.plain() for sp in d.spans()),
        }
        for d in directives(data)
    ]
    return {
        "area": data.config.name,
        "area_total": data.config.area_total,
        "issuer": list(lh.issuer),
        "issuer_name": issuer_phrase(lh, data.config),
        "symbol": lh.symbol,
        "place": lh.place,
        "date_line": report.date_line,
        "title": report.title,
        "subtitle": report.subtitle,
        "period": {
            "code": data.code,
            "title": data.title,
            "from": format_date(data.period.start),
            "to": format_date(data.period.end),
            "year": data.period.end.year,
        },
        "compare": (
            {"code": earlier.code, "title": earlier.title, "label": s.label} if earlier else None
        ),
        "levels": [{"code": lv, "name": data.level_name(lv),
                    "units": len(data.level_units(lv))} for lv in data.levels],
        "fig": figs,
        "text": {
            "chi_dao": _plain(directives_section(t)),
            "tthc": _plain(tthc_section(t)),
            "mot_cua": _plain(one_stop_section(t)),
            "bien_che": _plain(staffing_section(t)),
            "dao_tao": _plain(training_section(t)),
            "dvctt_danh_muc": _plain(online_catalogue_section(t)),
            "dvctt_ty_le": _plain(online_share_section(t)),
            "ky_so": _plain(signature_section(t)),
            "iso": _plain(iso_section(t)),
        },
        "directives": docs,
        "units": units,
        "submitted": len(data.submitted),
        "unit_count": len(data.units),
        "tables": [_table(b) for b in report.annex if isinstance(b, Table)],
        "tainted": [
            {"figure": f.figure, "label": f.label, "printed": f.printed,
             "groups": list(f.groups), "units": list(f.units)}
            for f in report.tainted
        ],
        "open_errors": [
            {"unit": e.unit, "table": e.table, "row": e.row, "message": e.message}
            for e in report.open_errors
        ],
        "mark": TAINT_MARK,
        **images,
    }


def render_template(report: Report, s: Sentences, template: Path, output: Path) -> Path:
    from docxtpl import DocxTemplate, InlineImage

    template = Path(template)
    if not template.is_file():
        raise ReportError(f"{template}: không tìm thấy tệp mẫu báo cáo (.docx)")
    try:
        tpl = DocxTemplate(template)
        tpl.init_docx()
    except Exception as exc:  # a broken or non-docx file: one clear line
        raise ReportError(f"{template}: không mở được tệp mẫu .docx ({exc})") from None
    images: dict[str, Any] = {"chart_online": "", "chart_one_stop": ""}
    for c in report.charts():
        images[f"chart_{c.key}"] = InlineImage(tpl, io.BytesIO(c.png), width=Cm(16))
    context = template_context(report, s, images)
    env = Environment(autoescape=True, undefined=StrictUndefined)
    try:
        tpl.render(context, jinja_env=env)
    except TemplateError as exc:
        raise ReportError(f"{template}: lỗi trong mẫu báo cáo: {exc}") from None
    buf = io.BytesIO()
    tpl.save(buf)
    doc = Document(io.BytesIO(buf.getvalue()))
    if report.errors_page:
        writer = DocxWriter(doc)
        for block in report.errors_page:
            writer.block(block)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(output))
    return output


__all__ = ["render_template", "template_context"]
