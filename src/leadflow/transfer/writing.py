"""Streaming CSV and XLSX writers for exports: typed cells, spreadsheet-safe text, constant memory."""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

Cell = str | int | Decimal | float | bool | date | datetime | None

# OWASP "CSV injection": a spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31
_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _is_spanish(language: str) -> bool:
    # "es", "es-ES", "es_MX" all read numbers and yes/no the Spanish way.
    return language.replace("_", "-").split("-")[0].lower() == "es"


def _yes_no(value: bool, language: str) -> str:
    if value:
        return "sí" if _is_spanish(language) else "yes"
    return "no"


def _naive_utc(moment: datetime) -> datetime:
    # Moments are stored in UTC; a spreadsheet has no time zones, so the column is UTC without an offset.
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _plain_number(value: int | Decimal | float, language: str) -> str:
    if isinstance(value, float):
        # repr gives the shortest text that reads back as the same float; "f" then drops any exponent.
        value = Decimal(repr(value))
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text.replace(".", ",") if _is_spanish(language) else text


def neutralise(text: str) -> str:
    """Prefix a quote to text starting with = + - @ TAB or CR (OWASP CSV injection); "-" or "- note" get it too."""
    # The list is OWASP's, kept exact: "-" texts being prefixed is harmless, and a shorter list would let a formula in.
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """The text ``neutralise`` was given: an import reads an exported "'+1 503..." back as "+1 503..."."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def format_cell(value: Cell, *, language: str) -> str:
    """The text of one CSV cell in the given language; text is neutralised, numbers never are."""
    if value is None:
        return ""
    # bool before int: True is an int too.
    if isinstance(value, bool):
        return _yes_no(value, language)
    if isinstance(value, int | Decimal | float):
        return _plain_number(value, language)
    # datetime before date: every datetime is a date too.
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    raise TypeError(f"cannot export a {type(value).__name__} cell")


def csv_delimiter(language: str) -> str:
    """The field separator Excel expects in that language: ";" in Spanish (where "," is the decimal mark), else ","."""
    return ";" if _is_spanish(language) else ","


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], *, language: str, rows_per_chunk: int = 500
) -> Iterator[bytes]:
    """Yield a UTF-8 CSV with BOM, header first, rows_per_chunk rows at a time, never holding the whole file."""
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=csv_delimiter(language), quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n", quotechar='"'
    )
    # Excel only reads a CSV as UTF-8 (and so shows accents right) when it starts with the BOM.
    prefix = codecs.BOM_UTF8
    writer.writerow([neutralise(name) for name in header])
    pending = 0
    for row in rows:
        writer.writerow([format_cell(value, language=language) for value in row])
        pending += 1
        if pending == rows_per_chunk:
            yield prefix + buffer.getvalue().encode("utf-8")
            prefix = b""
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    # The last partial chunk, or the header alone when there were no rows (or they filled whole chunks: nothing left).
    if pending or prefix:
        yield prefix + buffer.getvalue().encode("utf-8")


def write_csv(target: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[Cell]], *, language: str) -> int:
    """Stream a CSV export into target and return the number of data rows written."""
    counted = 0

    def counting() -> Iterator[Sequence[Cell]]:
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    for chunk in csv_chunks(header, counting(), language=language):
        target.write(chunk)
    return counted


def sanitise_sheet_title(title: str) -> str:
    """A title Excel accepts: without []:*?/\\ and edge quotes, at most 31 characters, never empty."""
    # Excel refuses a sheet name that starts or ends with an apostrophe as well as the listed characters.
    cleaned = _SHEET_TITLE_FORBIDDEN.sub("", title).strip().strip("'")
    cleaned = cleaned[:_SHEET_TITLE_MAX].strip().strip("'")
    return cleaned or "Sheet"


def _text_cell(sheet: object, text: str, *, bold: Font | None = None, ours: bool = False) -> WriteOnlyCell:
    # Words we write ourselves ("yes", "-Infinity") read as in the CSV, where numbers are never neutralised. Control
    # characters are illegal in the XML of a sheet; drop them *before* neutralising, or "\x00=1+1" would come out as
    # the formula "=1+1".
    cell = WriteOnlyCell(sheet, value=text if ours else neutralise(ILLEGAL_CHARACTERS_RE.sub("", text)))
    # openpyxl guesses a type from the text ("=..." a formula, "#N/A" an error): text is always text.
    cell.data_type = "s"
    if bold is not None:
        cell.font = bold
    return cell


def _xlsx_value(sheet: object, value: Cell, language: str) -> object:
    if value is None:
        return None
    if isinstance(value, bool):
        # Written as the same words as in the CSV so both formats re-import alike.
        return _text_cell(sheet, _yes_no(value, language), ours=True)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if finite:
            return value
        # Excel has no NaN or infinity: openpyxl would write an empty number, so keep the word.
        return _text_cell(sheet, format_cell(value, language=language), ours=True)
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=_naive_utc(value))
        cell.number_format = _DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = _DATE_FORMAT
        return cell
    if isinstance(value, str):
        return _text_cell(sheet, value)
    raise TypeError(f"cannot export a {type(value).__name__} cell")


def write_xlsx(
    target: BinaryIO | str | Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    sheet_title: str,
    language: str,
) -> int:
    """Stream an XLSX export (bold frozen header, typed cells) into target and return the number of data rows."""
    # write_only streams rows to a temporary file and writes text inline (no shared strings): constant memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sanitise_sheet_title(sheet_title))
    # Sheet views are written with the first row, so the freeze must come before any append.
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, name, bold=bold) for name in header])
    counted = 0
    for row in rows:
        sheet.append([_xlsx_value(sheet, value, language) for value in row])
        counted += 1
    workbook.save(target)
    return counted
