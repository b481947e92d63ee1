"""The declarative template set: tables, columns, rules and figures, loaded from YAML.

A template mistake is caught at start and named precisely (file, table, column, what is
wrong) so an administrator editing YAML never meets a traceback in the middle of a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cchc_sync.domain.records import Severity


class TemplateError(Exception):
    """The template set cannot be used; the message names file, table, column and problem."""


class ColumnType(StrEnum):
    INT = "int"
    PCT = "pct"
    DATE = "date"
    TEXT = "text"
    CHOICE = "choice"
    DOCNO = "docno"
    BOOL = "bool"


class Aggregate(StrEnum):
    SUM = "sum"
    COMMON = "common"
    """A catalogue size: the level's figure is the units' common value."""
    NONE = "none"


@dataclass(frozen=True, kw_only=True, slots=True)
class Choice:
    code: str
    """Stable code stored in the archive, e.g. "toan_trinh"."""
    label: str
    """What the clerk picks in the dropdown."""
    aliases: tuple[str, ...] = ()
    """Other spellings accepted (matched ignoring case, tone placement, abbreviations)."""
    doc_type: str | None = None
    """Type code inside a document number that goes with this choice (KH, QĐ, ...)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ColumnSpec:
    key: str
    title: str
    """Header title, verbatim as the clerk sees it."""
    type: ColumnType
    required: bool = False
    is_key: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Choice, ...] = ()
    aggregate: Aggregate = Aggregate.SUM
    width: int | None = None
    history: bool = False
    """Compared with the same period a year earlier, or the previous period of the same
    length where there is none (a warning on a large change: the `change` check)."""

    def choice(self, code: str) -> Choice | None:
        return next((c for c in self.choices if c.code == code), None)


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleSpec:
    """A rule as the template declares it. Which check class a `kind` names, and which
    parameters it takes, is `cchc_sync.checks`' business (`bind_checks` refuses an unknown
    kind or parameter with a TemplateError naming `origin`)."""

    id: str
    kind: str
    severity: Severity
    params: dict[str, Any]
    origin: str = ""
    """Where it was declared ("…/tthc.yaml: table tthc, rule tthc.tong-tiep-nhan")."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TableSpec:
    key: str
    tab: str
    """Tab title in the unit's sheet."""
    columns: tuple[ColumnSpec, ...]
    rules: tuple[RuleSpec, ...] = ()
    single_row: bool = False
    form: str = ""
    description: str = ""

    @property
    def key_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.is_key)

    def column(self, key: str) -> ColumnSpec:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


@dataclass(frozen=True, kw_only=True, slots=True)
class FigureSpec:
    id: str
    label: str
    table: str | None = None
    sum: tuple[str, ...] = ()
    common: str | None = None
    ratio: tuple[str, str] | None = None
    difference: tuple[str, str] | None = None
    count_rows: bool = False
    units_reporting: bool = False
    units_where: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Any] = field(default_factory=dict)
    """Row filter (column key -> normalised value), set when a `by` figure is expanded."""
    parts: tuple[tuple[str, ...], ...] = ()
    """Decompositions of this figure: each tuple of figure ids adds up to it (checked in
    every printed report). An id ending in ".*" stands for all its `by` variants."""
    over_periods: str = "sum"
    """How a longer period (the year from S1 and S2) combines its parts' values: "sum"
    (flows), "last" (stocks such as staffing or catalogue sizes), "first" (what was
    carried in at the start)."""

    @property
    def is_percent(self) -> bool:
        return self.ratio is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class TemplateSet:
    name: str
    version: str
    tables: dict[str, TableSpec]
    """In display order."""
    figures: tuple[FigureSpec, ...]
    signoff_table: str
    signoff_column: str
    signoff_done: str
    required_tables: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, key: str) -> TableSpec:
        try:
            return self.tables[key]
        except KeyError:
            raise KeyError(f"unknown table {key!r}; known: {', '.join(self.tables)}") from None

    def figure(self, figure_id: str) -> FigureSpec:
        for f in self.figures:
            if f.id == figure_id:
                return f
        raise KeyError(figure_id)


def default_template_dir() -> Path:
    """The template set shipped with the package (sheet_templates/).

    Installed, it is the package `cchc_sync.sheet_templates`; run from a source checkout
    (pytest puts the checkout first on sys.path), it is the top-level folder beside the
    package."""
    try:
        return Path(str(resources.files("cchc_sync.sheet_templates")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "sheet_templates"


def load_template_set(directory: str | Path | None = None) -> TemplateSet:
    """Load and check a template set; raise TemplateError naming what is wrong."""
    base = Path(directory) if directory else default_template_dir()
    set_file = base / "_set.yaml"
    meta = _read_yaml(set_file)
    _need(meta, ("name", "version", "tables"), set_file, "set")
    tables: dict[str, TableSpec] = {}
    for key in meta["tables"]:
        path = base / f"{key}.yaml"
        if not path.exists():
            raise TemplateError(f"{set_file}: table {key!r} is listed but {path.name} is missing")
        spec = _parse_table(_read_yaml(path), path)
        if spec.key != key:
            raise TemplateError(f"{path}: key {spec.key!r} does not match file name {key!r}")
        tables[key] = spec
    _check_unique([t.tab for t in tables.values()], set_file, "tab title")
    for spec in tables.values():
        _check_tab_title(spec.tab, base / f"{spec.key}.yaml", spec.key)
    signoff = meta.get("signoff") or {}
    _need(signoff, ("table", "column", "done"), set_file, "signoff")
    st = tables.get(signoff["table"])
    if st is None or signoff["column"] not in {c.key for c in st.columns}:
        raise TemplateError(f"{set_file}: signoff names unknown table/column {signoff}")
    if st.column(signoff["column"]).choice(signoff["done"]) is None:
        raise TemplateError(f"{set_file}: signoff value {signoff['done']!r} is not a choice")
    figures = _parse_figures(meta.get("figures") or [], tables, set_file)
    required = {
        str(level): tuple(ts) for level, ts in (meta.get("required_tables") or {}).items()
    }
    for level, ts in required.items():
        for t in ts:
            if t not in tables:
                raise TemplateError(f"{set_file}: required_tables[{level}] names unknown {t!r}")
    return TemplateSet(
        name=meta["name"],
        version=str(meta["version"]),
        tables=tables,
        figures=figures,
        signoff_table=signoff["table"],
        signoff_column=signoff["column"],
        signoff_done=signoff["done"],
        required_tables=required,
    )


# Tab titles the software uses for itself (see backends/base.py).
_RESERVED_TABS = {"hướng dẫn", "kiểm tra", "_cchc"}


def _check_tab_title(title: str, path: Path, table: str) -> None:
    """Excel refuses a workbook whose tab titles break these rules (Google accepts them,
    but a unit may download its sheet as .xlsx)."""
    where = f"{path}: table {table}: tab title {title!r}"
    if not title.strip() or len(title) > 31:
        raise TemplateError(f"{where} must have 1 to 31 characters")
    bad = sorted(set(title) & set("[]:*?/\\"))
    if bad:
        raise TemplateError(f"{where} may not contain {' '.join(bad)}")
    if title.strip().casefold() in _RESERVED_TABS:
        raise TemplateError(f"{where} is reserved for the software's own tab")


# libyaml's loader reads the template set ~10x faster than the pure-Python one (the
# template set is read at every start and every `init`); same safe subset of YAML.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506
    except FileNotFoundError:
        raise TemplateError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: expected a mapping at the top level")
    return data


def _need(data: dict, keys: tuple[str, ...], path: Path, where: str) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise TemplateError(f"{path}: {where}: missing {', '.join(missing)}")


def _check_unique(values: list[str], path: Path, what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise TemplateError(f"{path}: duplicate {what} {v!r}")
        seen.add(v)


def _parse_table(data: dict, path: Path) -> TableSpec:
    _need(data, ("key", "tab", "columns"), path, "table")
    table = data["key"]
    columns = tuple(_parse_column(c, path, table) for c in data["columns"])
    _check_unique([c.key for c in columns], path, f"table {table}: column key")
    _check_unique([c.title for c in columns], path, f"table {table}: column title")
    single = bool(data.get("single_row", False))
    if not single and not any(c.is_key for c in columns):
        raise TemplateError(f"{path}: table {table}: a multi-row table needs a key column")
    rules = [_parse_rule(raw, path, table) for raw in data.get("rules") or []]
    return TableSpec(
        key=table,
        tab=data["tab"],
        columns=columns,
        rules=tuple(rules),
        single_row=single,
        form=data.get("form", ""),
        description=str(data.get("description", "")).strip(),
    )


def _parse_column(raw: dict, path: Path, table: str) -> ColumnSpec:
    if not isinstance(raw, dict) or "key" not in raw:
        raise TemplateError(f"{path}: table {table}: a column has no key: {raw!r}")
    where = f"{path}: table {table}, column {raw['key']}"
    for k in ("title", "type"):
        if k not in raw:
            raise TemplateError(f"{where}: missing {k}")
    try:
        ctype = ColumnType(raw["type"])
    except ValueError:
        known = ", ".join(t.value for t in ColumnType)
        raise TemplateError(f"{where}: unknown type {raw['type']!r} (known: {known})") from None
    choices = tuple(
        Choice(
            code=str(c["code"]),
            label=str(c["label"]),
            aliases=tuple(str(a) for a in c.get("aliases", ())),
            doc_type=c.get("doc_type"),
        )
        for c in raw.get("choices", ())
    )
    if ctype is ColumnType.CHOICE and not choices:
        raise TemplateError(f"{where}: a choice column needs choices")
    if choices and ctype is not ColumnType.CHOICE:
        raise TemplateError(f"{where}: choices given for a {ctype} column")
    default_agg = Aggregate.SUM if ctype is ColumnType.INT else Aggregate.NONE
    try:
        agg = Aggregate(raw.get("aggregate", default_agg))
    except ValueError:
        raise TemplateError(f"{where}: unknown aggregate {raw.get('aggregate')!r}") from None
    if agg is not Aggregate.NONE and ctype is not ColumnType.INT:
        raise TemplateError(f"{where}: only int columns aggregate ({agg} on {ctype})")
    minimum = raw.get("min", 0 if ctype is ColumnType.INT else None)
    return ColumnSpec(
        key=str(raw["key"]),
        title=str(raw["title"]),
        type=ctype,
        required=bool(raw.get("required", False)),
        is_key=bool(raw.get("is_key", False)),
        minimum=minimum,
        maximum=raw.get("max"),
        choices=choices,
        aggregate=agg,
        width=raw.get("width"),
        history=bool(raw.get("history", False)),
    )


def _parse_rule(raw: Any, path: Path, table: str) -> RuleSpec:
    if not isinstance(raw, dict) or not raw.get("kind"):
        raise TemplateError(f"{path}: table {table}: a rule has no kind: {raw!r}")
    kind = str(raw["kind"])
    rid = str(raw.get("id") or f"{table}.{kind}")
    where = f"{path}: table {table}, rule {rid}"
    try:
        severity = Severity(raw.get("severity", "error"))
    except ValueError:
        raise TemplateError(f"{where}: severity must be error or warning") from None
    params = {k: v for k, v in raw.items() if k not in ("id", "kind", "severity")}
    return RuleSpec(id=rid, kind=kind, severity=severity, params=params, origin=where)


def _parse_figures(raws: list, tables: dict[str, TableSpec], path: Path) -> tuple[FigureSpec, ...]:
    out: list[FigureSpec] = []
    for raw in raws:
        fid = raw.get("id")
        where = f"{path}: figure {fid}"
        if not fid or "label" not in raw:
            raise TemplateError(f"{where}: needs id and label")
        by = raw.get("by")
        table = raw.get("table")
        if table is not None and table not in tables:
            raise TemplateError(f"{where}: unknown table {table!r}")
        for col in [*raw.get("sum", ()), *([raw["common"]] if "common" in raw else [])]:
            if col not in {c.key for c in tables[table].columns}:
                raise TemplateError(f"{where}: unknown column {col!r} in table {table}")
        variants: list[tuple[str, str, dict]] = [("", "", {})]
        if by:
            src = table or _ratio_table(raw, out, where)
            col = tables[src].column(by) if by in {c.key for c in tables[src].columns} else None
            if col is None or not col.choices:
                raise TemplateError(f"{where}: by names no choice column {by!r}")
            variants = [(f".{c.code}", f" ({c.label})", {by: c.code}) for c in col.choices]
        for suffix, label_suffix, where_ in variants:
            ratio = raw.get("ratio")
            diff = raw.get("difference")
            fig = FigureSpec(
                id=fid + suffix,
                label=raw["label"] + label_suffix,
                table=table,
                sum=tuple(raw.get("sum", ())),
                common=raw.get("common"),
                ratio=tuple(r + suffix for r in ratio) if ratio else None,
                difference=tuple(r + suffix for r in diff) if diff else None,
                count_rows=bool(raw.get("count_rows", False)),
                units_reporting=bool(raw.get("units_reporting", False)),
                units_where=dict(raw.get("units_where") or {}),
                where=where_,
                parts=_parse_parts(raw.get("parts"), suffix, where),
                over_periods=_over_periods(raw, where),
            )
            for ref in (fig.ratio or ()) + (fig.difference or ()):
                if ref not in {f.id for f in out}:
                    raise TemplateError(f"{where}: refers to {ref!r} before it is defined")
            out.append(fig)
    _check_unique([f.id for f in out], path, "figure id")
    known = [f.id for f in out]
    expanded = []
    for f in out:
        parts = tuple(tuple(_expand_part(p, known, f"{path}: figure {f.id}") for p in group)
                      for group in f.parts)
        expanded.append(replace(f, parts=tuple(
            tuple(x for p in group for x in p) for group in parts)))
    return tuple(expanded)


def _parse_parts(raw: object, suffix: str, where: str) -> tuple[tuple[str, ...], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{where}: parts must be a list of figure ids (or of such lists)")
    groups = raw if all(isinstance(g, list) for g in raw) else [raw]
    return tuple(tuple(str(p) + ("" if str(p).endswith(".*") else suffix) for p in g)
                 for g in groups)


def _expand_part(part: str, known: list[str], where: str) -> tuple[str, ...]:
    if part.endswith(".*"):
        stem = part[:-1]
        found = tuple(k for k in known if k.startswith(stem) and "." not in k[len(stem):])
        if not found:
            raise TemplateError(f"{where}: parts {part!r} matches no figure")
        return found
    if part not in known:
        raise TemplateError(f"{where}: parts names unknown figure {part!r}")
    return (part,)


def _over_periods(raw: dict, where: str) -> str:
    mode = raw.get("over_periods", "sum")
    if mode not in ("sum", "last", "first"):
        raise TemplateError(f"{where}: over_periods must be sum, last or first")
    return mode


def _ratio_table(raw: dict, known: list[FigureSpec], where: str) -> str:
    refs = raw.get("ratio") or raw.get("difference") or ()
    for f in known:
        if refs and f.id.startswith(refs[0] + ".") and f.table:
            return f.table
    raise TemplateError(f"{where}: cannot tell which table 'by' applies to")
