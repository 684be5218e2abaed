"""Read an uploaded CSV or XLSX file as a header and a stream of rows, refusing what is not a table."""

from __future__ import annotations

import codecs
import csv
import math
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any, BinaryIO

import openpyxl  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

from leadflow.core.errors import ValidationFailed
from leadflow.http.limits import file_too_large

# openpyxl parses the workbook's XML with defusedxml only when it is importable (and not switched off by
# OPENPYXL_DEFUSEDXML); without it an uploaded workbook could make the server read local files (XXE).
if not openpyxl.DEFUSEDXML:  # pragma: no cover - an installation fault, not a code path
    raise ImportError("openpyxl is not using defusedxml: install defusedxml and unset OPENPYXL_DEFUSEDXML")

__all__ = ["FileProblem", "SheetRow", "TableFile", "open_table", "sniff_kind"]

_CHUNK = 64 * 1024
# Encoding is judged on the first megabyte; a later byte that breaks it is reported with its row.
_SAMPLE_BYTES = 1024 * 1024
# Only the start of a file is looked at for binary signatures: a CSV never holds a NUL byte.
_SIGNATURE_BYTES = 4096
# openpyxl needs a seekable file; a workbook up to this size stays in memory, a larger one goes to disk.
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
# A zip entry this compressible and this big is a decompression bomb, not a worksheet.
_BOMB_RATIO = 200
_BOMB_ENTRY_BYTES = 10 * 1024 * 1024
# XML may declare a DOCTYPE only before its root element, which every part of a workbook reaches early.
_PROLOG_BYTES = 64 * 1024
_DOCTYPE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# The delimiter is judged on the header line and, when that is not enough, on the first few lines;
# csv.Sniffer's regular expressions take quadratic time on hostile text, so it sees little of it.
_SNIFF_CHARS = 64 * 1024
_SNIFFER_CHARS = 4 * 1024
_DELIMITERS = (";", ",", "\t", "|")
# A cell may hold 1 MB of notes; a larger "cell" is almost always a quote left open that swallowed the file.
_CELL_CHARS = 2 * 1024 * 1024

# (row number, cells) for every record of the file, the header's included; closing it frees what it holds.
_Records = Generator[tuple[int, list[str]], None, None]

_OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
_ZIP_SIGNATURE = b"PK\x03\x04"
_MARKUP_START = re.compile(rb"\s*<(?:\?xml|!doctype\s+html|html|table)", re.IGNORECASE)

# The limit is process-wide; set once here, high enough for real cells but never unlimited.
csv.field_size_limit(_CELL_CHARS)


class FileProblem(ValidationFailed):
    """A file that cannot be read as a table; code names the problem."""

    code = "file_problem"


@dataclass(frozen=True)
class SheetRow:
    """One data row: its number as the user sees it in the file and the text of its cells."""

    number: int
    cells: list[str]


@dataclass
class TableFile:
    """An open table: its header now, its data rows as they are read."""

    kind: str
    headers: list[str]
    rows: Iterator[SheetRow]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    _release: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def close(self) -> None:
        """Stop reading and release the workbook and its temporary file (safe to call twice)."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self._release is not None:
            self._release()

    def __enter__(self) -> TableFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_table(source: BinaryIO, *, filename: str, sheet: str | None = None, max_bytes: int) -> TableFile:
    """Open an uploaded CSV or XLSX file: its header at once and its data rows lazily; FileProblem when it cannot."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    meter = _Meter(source, max_bytes)
    head = meter.read_up_to(_SAMPLE_BYTES)
    if not head:
        raise _empty()
    kind = sniff_kind(head, filename)
    if kind == "xlsx":
        return _open_xlsx(head, meter, filename=filename, sheet=sheet, max_bytes=max_bytes)
    return _open_csv(head, meter, at_end=len(head) < _SAMPLE_BYTES)


def sniff_kind(head: bytes, filename: str) -> str:
    """The kind of a file by its first bytes, whatever its name: xlsx for a zip, csv for text; else FileProblem."""
    if head.startswith(_ZIP_SIGNATURE):
        return "xlsx"
    if head.startswith(_OLE_SIGNATURE):
        # Both Excel 97-2003 workbooks and password-protected .xlsx files are OLE containers.
        raise FileProblem(
            f"'{filename}' is an old Excel 97-2003 workbook (.xls) or a password-protected one; "
            "save it as an Excel workbook (.xlsx) without a password, or as CSV, and upload it again.",
            code="not_a_table",
            details={"filename": filename},
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"  # Excel's "Unicode text": UTF-16, whose ASCII characters carry NUL bytes
    if b"\x00" in head[:_SIGNATURE_BYTES] or head.startswith(b"%PDF"):
        raise FileProblem(
            f"'{filename}' is not a spreadsheet or a CSV file; upload an Excel workbook (.xlsx) or a CSV file.",
            code="not_a_table",
            details={"filename": filename},
        )
    if _MARKUP_START.match(head[:_SIGNATURE_BYTES].removeprefix(codecs.BOM_UTF8)):
        # Some systems "export to Excel" as a web page or as XML Spreadsheet 2003 under an .xls name.
        raise FileProblem(
            f"'{filename}' is a web page or an XML file, not a spreadsheet; open it in Excel, "
            "save it as an Excel workbook (.xlsx) or as CSV, and upload it again.",
            code="not_a_table",
            details={"filename": filename},
        )
    return "csv"


# reading the bytes


class _Meter:
    """The source read in chunks, counting bytes: the size limit holds even when the caller's check is fooled."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self._source = source
        self._limit = limit
        self.count = 0

    def read(self, size: int = _CHUNK) -> bytes:
        chunk = self._source.read(size)
        if not chunk:
            return b""
        self.count += len(chunk)
        if self.count > self._limit:
            raise file_too_large(self._limit)
        return chunk

    def read_up_to(self, size: int) -> bytes:
        """Exactly ``size`` bytes unless the source ends first (a stream may return a few bytes at a time)."""
        parts: list[bytes] = []
        wanted = size
        while wanted > 0:
            chunk = self.read(wanted)
            if not chunk:
                break
            parts.append(chunk)
            wanted -= len(chunk)
        return b"".join(parts)

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.read():
            yield chunk


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} bytes"


def _empty() -> FileProblem:
    return FileProblem(
        "The file is empty; export it again with a header row and at least one record.", code="empty_file"
    )


# CSV


def _open_csv(head: bytes, meter: _Meter, *, at_end: bool) -> TableFile:
    encoding = _detect_encoding(head)
    sample = _sample_text(head, encoding)
    if at_end and not sample.lstrip("\ufeff").strip():
        raise _empty()
    delimiter = _detect_delimiter(sample)
    chunks = _chained(head, meter.chunks())
    if encoding == "utf-16":
        # Lines are split on bytes, which only works for encodings where "\n" is one byte of its own.
        chunks, line_encoding = _transcoded(chunks, "utf-16"), "utf-8"
    else:
        line_encoding = encoding
    records = _csv_records(_decoded_lines(_byte_lines(chunks), line_encoding), delimiter, encoding)
    return _table("csv", records, encoding=encoding, delimiter=delimiter)


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # Not final: the sample may end in the middle of a multibyte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"  # what Excel saves as "CSV" on a Spanish or Western European Windows
    return "utf-8"


def _sample_text(head: bytes, encoding: str) -> str:
    # Only for judging emptiness and the delimiter: a bad byte is reported later with its row.
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def _detect_delimiter(sample: str) -> str:
    sample = sample.lstrip("\ufeff")[:_SNIFF_CHARS]
    in_header = _header_delimiter_counts(sample)
    present = [candidate for candidate in _DELIMITERS if in_header[candidate] > 0]
    if len(present) == 1:
        return present[0]  # the usual case, and no delimiter the header lacks could split anything there
    lines = sample[:_SNIFFER_CHARS].splitlines(keepends=True)
    if len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    try:
        sniffed: str | None = csv.Sniffer().sniff("".join(lines), delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    # The header line is the surest witness: a delimiter it does not contain splits nothing there.
    if sniffed in present:
        return sniffed
    best = max(_DELIMITERS, key=lambda candidate: in_header[candidate])
    return best if in_header[best] > 0 else ","


def _header_delimiter_counts(sample: str) -> dict[str, int]:
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in sample:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "\r\n":
            break
        elif char in counts:
            counts[char] += 1
    return counts


def _chained(head: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest


def _transcoded(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(encoding)()
    for chunk in chunks:
        yield decoder.decode(chunk).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


def _byte_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines ending in \\r\\n, \\n or \\r, ends kept; bytes.splitlines knows only these three."""
    pending: list[bytes] = []
    for chunk in chunks:
        # Cut after the last line break; a "\r" that ends the chunk may be half of a "\r\n" and waits.
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r", 0, len(chunk) - 1)) + 1
        if cut == 0:
            pending.append(chunk)  # joined once its line ends: a long line is not copied chunk after chunk
            continue
        pending.append(chunk[:cut])
        yield from b"".join(pending).splitlines(keepends=True)
        pending = [chunk[cut:]]
    rest = b"".join(pending)
    if rest:
        yield from rest.splitlines(keepends=True)


def _decoded_lines(lines: Iterable[bytes], encoding: str) -> Iterator[str]:
    # Decoding line by line makes a bad byte surface while its own record is being read.
    decoder = codecs.getincrementaldecoder(encoding)()
    for line in lines:
        text = decoder.decode(line)
        if text:
            yield text
    rest = decoder.decode(b"", final=True)
    if rest:
        yield rest


def _csv_records(lines: Iterator[str], delimiter: str, encoding: str) -> _Records:
    reader = csv.reader(
        lines, delimiter=delimiter, quotechar='"', doublequote=True, skipinitialspace=True, strict=False
    )
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _bad_encoding(number + 1, encoding) from exc
        except csv.Error as exc:
            raise _malformed(number + 1, exc) from exc
        number += 1
        yield number, [cell.strip() for cell in record]


def _bad_encoding(row: int, encoding: str) -> FileProblem:
    if encoding in ("utf-8", "utf-8-sig"):
        message = (
            f"Row {row} is not UTF-8 text although the rows before it are, so the file mixes encodings; "
            "save it as 'CSV UTF-8' and upload it again."
        )
    else:
        message = (
            f"Row {row} holds bytes that are not text in the file's encoding ({encoding}); "
            "save the file as 'CSV UTF-8' and upload it again."
        )
    return FileProblem(message, code="bad_encoding", details={"row": row, "encoding": encoding})


def _malformed(row: int, exc: csv.Error) -> FileProblem:
    if "field larger than field limit" in str(exc):
        message = (
            f"Row {row} has a cell longer than {_CELL_CHARS:,} characters, most likely after a quote that is "
            "never closed; check the quotes from that row on and save the file again."
        )
        return FileProblem(message, code="malformed_csv", details={"row": row, "limit": _CELL_CHARS})
    message = f"Row {row} cannot be read as CSV ({exc}); check the quotes in that row and save the file again."
    return FileProblem(message, code="malformed_csv", details={"row": row})


# XLSX


def _open_xlsx(head: bytes, meter: _Meter, *, filename: str, sheet: str | None, max_bytes: int) -> TableFile:
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
    try:
        spool.write(head)
        for chunk in meter.chunks():
            spool.write(chunk)
        spool.seek(0)
        _check_archive(spool, filename, max_bytes)
        spool.seek(0)
        workbook = _load_workbook(spool, filename)
    except BaseException:
        spool.close()
        raise

    def release() -> None:
        workbook.close()
        spool.close()

    try:
        worksheet = _pick_sheet(workbook, sheet)
        # The <dimension> a file declares can claim a million rows by 16384 columns; read only what is there.
        worksheet.reset_dimensions()
    except BaseException:
        release()
        raise
    records = _xlsx_records(worksheet, filename, release)
    return _table("xlsx", records, sheet=worksheet.title, release=release)


def _check_archive(spool: IO[bytes], filename: str, max_bytes: int) -> None:
    """Refuse zip bombs, zips that are not workbooks and XML with a DOCTYPE before any XML parser sees them."""
    try:
        with zipfile.ZipFile(spool) as archive:
            entries = archive.infolist()
            # The sizes come from the archive's directory; zipfile never unpacks an entry past its stated size.
            total = sum(entry.file_size for entry in entries)
            bomb = any(
                entry.file_size > _BOMB_ENTRY_BYTES and entry.file_size / max(entry.compress_size, 1) > _BOMB_RATIO
                for entry in entries
            )
            if total > 20 * max_bytes or bomb:
                raise FileProblem(
                    f"'{filename}' unpacks to {_size_text(total)}, far more than a workbook of its size holds, "
                    "so it is refused as unsafe; save the workbook again from Excel and upload that copy.",
                    code="unsafe_file",
                    details={"filename": filename, "unpacked_bytes": total, "limit": 20 * max_bytes},
                )
            if not any(entry.filename.lower() == "xl/workbook.xml" for entry in entries):
                raise _not_a_workbook(filename)
            for entry in entries:
                if entry.filename.lower().endswith((".xml", ".rels", ".vml")) and _declares_doctype(archive, entry):
                    raise _unsafe_xml(filename)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError) as exc:
        # RuntimeError: a password-protected entry; the others: a damaged archive.
        raise FileProblem(
            f"'{filename}' is damaged or protected and cannot be opened as an Excel workbook; "
            "open it in Excel, save it as an Excel workbook (.xlsx) without a password and upload it again.",
            code="not_a_table",
            details={"filename": filename},
        ) from exc


def _declares_doctype(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    # Workbooks never declare a DOCTYPE; one that does is an entity attack (XXE, "billion laughs").
    # defusedxml refuses these too; this check keeps the refusal if openpyxl ever parses with lxml.
    with archive.open(entry) as member:
        prolog = member.read(_PROLOG_BYTES)
    return bool(_DOCTYPE.search(prolog.replace(b"\x00", b"")))  # NULs removed: a UTF-16 part reads as ASCII


def _load_workbook(spool: IO[bytes], filename: str) -> Any:
    try:
        return openpyxl.load_workbook(spool, read_only=True, data_only=True)
    except Exception as exc:
        # openpyxl raises whatever its parsers raise on a damaged file, wrapping some in ValueError.
        if _is_unsafe(exc):
            raise _unsafe_xml(filename) from exc
        raise FileProblem(
            f"'{filename}' cannot be opened as an Excel workbook ({type(exc).__name__}); "
            "open it in Excel, save it as an Excel workbook (.xlsx) and upload it again.",
            code="not_a_table",
            details={"filename": filename},
        ) from exc


def _pick_sheet(workbook: Any, name: str | None) -> Any:
    worksheets = list(workbook.worksheets)
    names = [worksheet.title for worksheet in worksheets]
    if not worksheets:
        raise FileProblem(
            "The workbook has no worksheet with cells, only charts; put the table on a worksheet and upload it again.",
            code="not_a_table",
            details={"sheets": names},
        )
    if name is None:
        return worksheets[0]
    for wanted in (name, name.strip().casefold()):
        for worksheet in worksheets:
            title = worksheet.title if wanted is name else worksheet.title.strip().casefold()
            if title == wanted:
                return worksheet
    raise FileProblem(
        f"The workbook has no sheet named '{name}'; choose one of: {', '.join(names)}.",
        code="sheet_not_found",
        details={"sheet": name, "sheets": names},
    )


def _xlsx_records(worksheet: Any, filename: str, release: Callable[[], None]) -> _Records:
    rows = worksheet.iter_rows(values_only=True)
    number = 0
    try:
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                # Sheets are parsed as they are read, so a damaged or hostile sheet shows here, not on opening.
                if _is_unsafe(exc):
                    raise _unsafe_xml(filename) from exc
                raise FileProblem(
                    f"Row {number + 1} of the sheet '{worksheet.title}' cannot be read ({type(exc).__name__}); "
                    "open the workbook in Excel, save it again and upload that copy.",
                    code="not_a_table",
                    details={"row": number + 1, "sheet": worksheet.title},
                ) from exc
            number += 1
            yield number, [_cell_text(value) for value in values]
    finally:
        rows.close()
        release()


def _is_unsafe(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _unsafe_xml(filename: str) -> FileProblem:
    return FileProblem(
        f"'{filename}' contains XML declarations that workbooks saved by Excel never have, so it is refused as "
        "unsafe; save the workbook again from Excel and upload that copy.",
        code="unsafe_file",
        details={"filename": filename},
    )


def _not_a_workbook(filename: str) -> FileProblem:
    return FileProblem(
        f"'{filename}' is a zip archive but not an Excel workbook; upload an Excel workbook (.xlsx) or a CSV file.",
        code="not_a_table",
        details={"filename": filename},
    )


def _cell_text(value: object) -> str:
    """A cell's value as the text a person would type for it: ISO dates, plain decimals, true/false."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime):  # before date: datetime is a date
        if value.time() == time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return repr(value)
    if value.is_integer():
        return str(int(value))
    # repr is the shortest text that reads back as the same float: 0.1 stays "0.1", not 0.1000000000000000055...
    return _decimal_text(Decimal(repr(value)))


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# both kinds


def _table(
    kind: str,
    records: _Records,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    release: Callable[[], None] | None = None,
) -> TableFile:
    """Read the header from ``records`` and wrap the rest; ``records`` owns the resources and frees them when done."""
    try:
        number, cells = next(records)
    except StopIteration:
        raise _empty() from None
    cells = [cell.lstrip("\ufeff").strip() for cell in cells]
    while cells and not cells[-1]:
        cells.pop()  # formatting-only cells at the end of the header row are not columns
    if not cells:
        records.close()
        raise FileProblem(
            f"The first row of the file (row {number}) is empty; put the column names in the first row.",
            code="no_header",
            details={"row": number},
        )
    return TableFile(
        kind,
        cells,
        _data_rows(records, len(cells)),
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        _release=_closing(records, release),
    )


def _closing(records: _Records, release: Callable[[], None] | None) -> Callable[[], None]:
    def close() -> None:
        records.close()
        if release is not None:
            release()

    return close


def _data_rows(records: _Records, width: int) -> Iterator[SheetRow]:
    # The records generator was started by reading the header, so closing or dropping it runs its cleanup.
    try:
        for number, cells in records:
            while len(cells) > width and not cells[-1]:
                cells.pop()
            if any(cells):
                yield SheetRow(number, cells)
    finally:
        records.close()
