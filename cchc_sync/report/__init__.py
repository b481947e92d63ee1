"""The coordinator's report: a .docx draft in the format of Decree 30/2020/NĐ-CP (or
Markdown, or the coordinator's own docxtpl template), every figure from the archive.

    from cchc_sync.report import write_report, report_text
    write_report(ws, "2022S1", Path("bao-cao.docx"), compare_with="2021S1")
    print(report_text(ws, "2022S1"))

The figures are those of the master's "Tổng hợp" (`figures.compute_figures` over the
period's current rows); a figure resting on rows with open errors is marked "(*)" and
listed on the last page. See docs/report.md.
"""

from __future__ import annotations

from pathlib import Path

from cchc_sync.report.content import assemble, build_report
from cchc_sync.report.data import ReportError, ReportSource, period_title
from cchc_sync.report.markdown import render_markdown
from cchc_sync.report.model import Letterhead, Report
from cchc_sync.report.selfcheck import ReportCheckError, check_report

FORMATS = ("docx", "md")

__all__ = [
    "FORMATS",
    "Letterhead",
    "Report",
    "ReportCheckError",
    "ReportError",
    "build_report",
    "period_title",
    "report_text",
    "write_report",
]


def write_report(
    ws: ReportSource,
    period: str,
    output: Path,
    fmt: str = "docx",
    compare_with: str | None = None,
    template: Path | None = None,
    *,
    letterhead: Letterhead | None = None,
) -> Path:
    """Write the report of `period` to `output` and return the path written.

    fmt: "docx" (Decree 30 layout, or `template` filled with docxtpl) or "md".
    compare_with: an archived earlier period ("2021S1"): totals show the change.
    Raises ReportError (no rows for a period, unknown format, unusable template),
    PeriodError (a malformed period code) and ReportCheckError (the rendered draft
    contradicts itself: nothing is written, the error lists every contradiction).
    """
    if fmt not in FORMATS:
        raise ReportError(f"định dạng {fmt!r} không được hỗ trợ; chọn một trong: "
                          f"{', '.join(FORMATS)}")
    if template is not None and fmt != "docx":
        raise ReportError("--template chỉ dùng với định dạng docx")
    output = Path(output)
    report, sentences = assemble(ws, period, compare_with, letterhead)
    output.parent.mkdir(parents=True, exist_ok=True)
    draft = output.with_name(f".{output.name}.dang-kiem-tra")
    try:
        if fmt == "md":
            draft.write_text(render_markdown(report), encoding="utf-8")
            problems = check_report(report, sentences.data)
        elif template is not None:
            # Imported only for --template (jinja2, docxtpl: the rare case). Not a cycle.
            from cchc_sync.report.custom_template import render_template  # noqa: PLC0415

            # A house layout is free: the built-in figures it draws from are checked.
            render_template(report, sentences, Path(template), draft)
            problems = check_report(report, sentences.data)
        else:
            # Imported only to write a .docx: its font measuring pulls in matplotlib, which
            # no other command should pay for at start (tests/test_process_start.py).
            from cchc_sync.report.docx_writer import write_docx  # noqa: PLC0415

            write_docx(report, draft)
            problems = check_report(report, sentences.data, draft)
        if problems:
            raise ReportCheckError(problems)
        draft.replace(output)
    finally:
        draft.unlink(missing_ok=True)
    return output


def report_text(ws: ReportSource, period: str, compare_with: str | None = None) -> str:
    """The report as Markdown (for `--format md` to stdout), checked like a written one."""

    report, sentences = assemble(ws, period, compare_with, None)
    problems = check_report(report, sentences.data)
    if problems:
        raise ReportCheckError(problems)
    return render_markdown(report)
