"""The same report as Markdown, for a quick look in a terminal (`--format md`).

Figures with open errors carry "(*)" as in the .docx; placeholders keep their
"[Đề nghị bổ sung: …]" brackets; charts are not drawn (their numbers are in the tables).
"""

from __future__ import annotations

from cchc_sync.report.model import Block, Chart, PageBreak, Para, ParaStyle, Report, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> list[str]:
    lines = [f"**{table.title}**", ""]
    lines.append("| " + " | ".join(_cell(h) for h in table.header) + " |")
    aligns = []
    first = table.rows[0].cells if table.rows else []
    for i, _ in enumerate(table.header):
        align = first[i].align if i < len(first) else "left"
        aligns.append({"right": "---:", "center": ":---:"}.get(align, "---"))
    lines.append("| " + " | ".join(aligns) + " |")
    for row in table.rows:
        cells = [_cell(c.text + ("(*)" if c.tainted else "")) for c in row.cells]
        if row.kind.value in ("total", "subtotal"):
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    if table.note:
        lines += ["", f"_{table.note}_"]
    return lines


def _para(p: Para) -> list[str]:
    text = p.plain()
    if p.style is ParaStyle.HEADING1:
        return [f"## {text}"]
    if p.style is ParaStyle.HEADING2:
        return [f"### {text}"]
    if p.style is ParaStyle.HEADING3:
        return [f"#### {text}"]
    if p.style is ParaStyle.TITLE:
        return [f"# {text}"]
    if p.style in (ParaStyle.NOTE, ParaStyle.SUBTITLE):
        return [f"_{text}_"]
    return [text]


def _blocks(blocks: list[Block]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, PageBreak):
            out += ["---", ""]
            continue
        if isinstance(b, Para):
            out += _para(b)
        elif isinstance(b, Table):
            out += _table(b)
        elif isinstance(b, Chart):
            out.append(f"**{b.title}** _(biểu đồ có trong bản .docx; số liệu ở biểu trên)_")
            if b.note:
                out += ["", f"_{b.note}_"]
        out.append("")
    return out


def render_markdown(report: Report) -> str:
    lh = report.letterhead
    head = [*([lh.parent] if lh.parent else []), *lh.issuer]
    lines = [
        " / ".join(x.upper() for x in head) + "  ",
        f"Số: {lh.number or '      '}/BC-{lh.symbol}",
        "",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM  ",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        f"_{report.date_line}_",
        "",
        f"# {report.title}",
        "",
        f"**{report.subtitle}**",
        "",
    ]
    lines += _blocks(report.body)
    lines.append("**_Nơi nhận:_**  ")
    lines += ["".join(s.plain() for s in r) + "  " for r in report.recipients]
    lines.append("")
    lines += [f"**{x}**  " for x in lh.signer]
    lines += [f"**{lh.signer_name or '[Họ và tên người ký]'}**", ""]
    if report.annex:
        lines += ["---", "", f"# {report.annex_title}", "", f"**{report.annex_subtitle}**", "",
                  f"_{report.annex_ref}_", ""]
        lines += _blocks(report.annex)
    lines += _blocks(report.errors_page)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
