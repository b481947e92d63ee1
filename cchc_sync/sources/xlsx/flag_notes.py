"""A tab's notes (comments part and VML drawing) as the flag patch changes them.

The part is parsed into openpyxl's comment records only when it changes: most tabs carry
the template's notes and none of ours, and building openpyxl's objects for them was a third
of a flag write.
"""

from __future__ import annotations

import posixpath
import zipfile

from lxml import etree
from openpyxl.comments.comment_sheet import CommentRecord, CommentSheet
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.xml.functions import tostring

from cchc_sync.sources.base import NOTE_AUTHOR
from cchc_sync.sources.xlsx.common import sized_comment

M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


class PatchUnsupported(Exception):
    """The workbook has something the patch does not handle; write it the full way."""


def q(tag: str) -> str:
    return f"{{{M}}}{tag}"


class Notes:
    """A tab's comments part and its VML drawing. The comments are parsed into records only
    when they change: most tabs carry template notes and none of ours, and building
    openpyxl's comment objects for them was a third of a flag write."""

    def __init__(self, comments_part: str | None, vml_part: str | None,
                 xml: bytes | None = None) -> None:
        self.comments_part, self.vml_part = comments_part, vml_part
        self._xml = xml
        self._records: list[CommentRecord] | None = None if xml else []
        self._refs: set[str] | None = None
        self.changed = False

    @classmethod
    def of(cls, src: zipfile.ZipFile, names: set[str], part: str) -> Notes:
        rels_part = posixpath.join(posixpath.dirname(part), "_rels",
                                   posixpath.basename(part) + ".rels")
        targets: dict[str, str] = {}
        if rels_part in names:
            for rel in etree.fromstring(src.read(rels_part)).iter(f"{{{_PKG}}}Relationship"):
                kind = rel.get("Type", "").rsplit("/", 1)[-1]
                target = rel.get("Target", "")
                targets[kind] = (target.lstrip("/") if target.startswith("/") else
                                 posixpath.normpath(posixpath.join(posixpath.dirname(part),
                                                                   target)))
        comments, vml = targets.get("comments"), targets.get("vmlDrawing")
        if comments is None or vml is None or comments not in names or vml not in names:
            return cls(None, None)
        return cls(comments, vml, src.read(comments))

    @property
    def records(self) -> list[CommentRecord]:
        if self._records is None:
            assert self._xml is not None
            tree = CommentSheet.from_tree(etree.fromstring(self._xml))
            authors = tree.authors.author
            records = list(tree.commentList)
            for record in records:
                record.author = authors[record.authorId]
            self._records = records
        return self._records

    @property
    def refs(self) -> set[str]:
        if self._refs is None:
            self._refs = {r.ref for r in self.records}
        return self._refs

    def _has_ours(self) -> bool:
        """Whether a note of ours may be there: our name among the part's authors (every
        note names its author by index into that list)."""
        if self._records is not None or self._xml is None:
            return self._records is not None and any(
                r.author == NOTE_AUTHOR for r in self._records)
        authors = etree.fromstring(self._xml).find(q("authors"))
        return authors is None or any(a.text == NOTE_AUTHOR for a in authors)

    def drop_ours(self) -> None:
        if not self._has_ours():
            return
        kept = [r for r in self.records if r.author != NOTE_AUTHOR]
        self.changed |= len(kept) != len(self.records)
        self._records = kept
        self._refs = {r.ref for r in kept}

    def add(self, ref: str, text: str) -> None:
        if ref in self.refs:
            return  # somebody else's note is on the cell; it stays
        if self.comments_part is None:
            raise PatchUnsupported("a note on a tab without a comments part")
        comment = sized_comment(text, NOTE_AUTHOR)
        record = CommentRecord(ref=ref, author=NOTE_AUTHOR, height=comment.height,
                               width=comment.width)
        record.text.t = comment.content
        self.records.append(record)
        self.refs.add(ref)
        self.changed = True

    def to_parts(self) -> dict[str, bytes]:
        records = self.records
        if not records:
            raise PatchUnsupported("a comments part left empty")
        if self.comments_part is None or self.vml_part is None:
            raise PatchUnsupported("notes on a tab without a comments or drawing part")
        records.sort(key=lambda r: _row_col(r.ref))
        sheet = CommentSheet.from_comments(records)
        return {self.comments_part: tostring(sheet.to_tree()),
                self.vml_part: sheet.write_shapes(None)}


def _row_col(ref: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(ref)
    return row, column_index_from_string(letters)
