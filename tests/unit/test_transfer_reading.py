"""Reading an uploaded CSV or XLSX file: encodings, delimiters, row numbers, streaming, and files that are refused."""

from __future__ import annotations

import codecs
import csv
import gc
import io
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import PatternFill  # type: ignore[import-untyped]

from leadflow.core.errors import TooLarge
from leadflow.http.limits import size_text
from leadflow.transfer import reading
from leadflow.transfer.reading import FileProblem, SheetRow, TableFile, open_table, sniff_kind

MB = 1024 * 1024
LIMIT = 50 * MB


class Trickle(io.RawIOBase):
    """An upload that cannot seek and hands over at most seven bytes per read, as a database stream might."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        size = 7 if size is None or size < 0 else min(size, 7)
        chunk = self._data[self._at : self._at + size]
        self._at += len(chunk)
        self.bytes_read += len(chunk)
        return chunk


class Endless(io.RawIOBase):
    """An upload that never ends: the reader must stop at the limit, not at the end."""

    def __init__(self, line: bytes) -> None:
        self._line = line
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 64 * 1024 if size is None or size < 0 else size
        chunk = (self._line * (size // len(self._line) + 1))[:size]
        self.bytes_read += len(chunk)
        return chunk


def read(
    data: bytes, *, filename: str = "leads.csv", max_bytes: int = LIMIT, **options: Any
) -> tuple[TableFile, list[SheetRow]]:
    table = open_table(io.BytesIO(data), filename=filename, max_bytes=max_bytes, **options)
    return table, list(table.rows)


def problem(
    data: bytes | Any, *, filename: str = "leads.csv", max_bytes: int = LIMIT, **options: Any
) -> FileProblem | TooLarge:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with pytest.raises((FileProblem, TooLarge)) as caught:
        table = open_table(source, filename=filename, max_bytes=max_bytes, **options)
        list(table.rows)
    return caught.value


def cells(rows: list[SheetRow]) -> list[list[str]]:
    return [row.cells for row in rows]


# CSV: encodings and delimiters


def test_a_utf8_csv_with_commas_reads_its_header_and_rows() -> None:
    table, rows = read(
        "Name,Email,Amount\nJosé Peña,jose@example.com,25000.50\nAnne Müller,anne@example.de,3\n".encode()
    )

    assert (table.kind, table.encoding, table.delimiter, table.sheet) == ("csv", "utf-8", ",", None)
    assert table.headers == ["Name", "Email", "Amount"]
    assert rows == [
        SheetRow(2, ["José Peña", "jose@example.com", "25000.50"]),
        SheetRow(3, ["Anne Müller", "anne@example.de", "3"]),
    ]


def test_a_utf8_csv_with_a_byte_order_mark_loses_the_mark_from_its_first_header() -> None:
    table, rows = read(codecs.BOM_UTF8 + "Nombre;Ciudad\r\nPeña;Logroño\r\n".encode())

    assert table.encoding == "utf-8-sig"
    assert table.headers == ["Nombre", "Ciudad"]
    assert cells(rows) == [["Peña", "Logroño"]]


def test_a_spanish_excel_csv_in_windows_1252_with_semicolons_reads_back() -> None:
    data = "Nombre;Empresa;Importe\r\nJosé Peña;Müller & Söhne;25.000,50 €\r\nÑandú;Café Olé;1.234,5\r\n".encode(
        "cp1252"
    )

    table, rows = read(data)

    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert cells(rows) == [["José Peña", "Müller & Söhne", "25.000,50 €"], ["Ñandú", "Café Olé", "1.234,5"]]


def test_a_tab_separated_file_splits_on_tabs_even_when_values_hold_commas() -> None:
    table, rows = read(b"Name\tCompany\tCity\nAna\tAcme, Inc.\tMadrid\nBob\tBeta, S.L.\tSevilla\n")

    assert table.delimiter == "\t"
    assert cells(rows) == [["Ana", "Acme, Inc.", "Madrid"], ["Bob", "Beta, S.L.", "Sevilla"]]


def test_a_pipe_separated_file_splits_on_pipes() -> None:
    table, rows = read(b"Name|City\nAna|Madrid\n")

    assert table.delimiter == "|"
    assert cells(rows) == [["Ana", "Madrid"]]


def test_excel_unicode_text_in_utf16_with_tabs_reads_back() -> None:
    data = "Nombre\tCiudad\r\nPeña\tMálaga\r\n€uro\t東京\r\n".encode("utf-16")

    table, rows = read(data, filename="leads.txt")

    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.headers == ["Nombre", "Ciudad"]
    assert cells(rows) == [["Peña", "Málaga"], ["€uro", "東京"]]


def test_the_header_line_decides_the_delimiter_when_values_are_full_of_another() -> None:
    data = b'Nombre;Notas\nAna;"uno, dos, tres, cuatro"\nBob;cinco, seis, siete\nEva;ocho, nueve\n'

    table, rows = read(data)

    assert table.delimiter == ";"
    assert cells(rows) == [["Ana", "uno, dos, tres, cuatro"], ["Bob", "cinco, seis, siete"], ["Eva", "ocho, nueve"]]


def test_a_single_column_file_is_read_with_a_comma() -> None:
    table, rows = read(b"Email\nana@example.com\nbob@example.com\n")

    assert (table.delimiter, table.headers) == (",", ["Email"])
    assert cells(rows) == [["ana@example.com"], ["bob@example.com"]]


# CSV: records, rows and their numbers


def test_quoted_fields_keep_line_breaks_and_doubled_quotes_and_row_numbers_count_records() -> None:
    data = (
        b'Name,Notes,City\nAna,"first line\nsecond line\nthird line",Madrid\nBob,"He said ""hi""",Bilbao\nEva,,Vigo\n'
    )

    _, rows = read(data)

    assert rows == [
        SheetRow(2, ["Ana", "first line\nsecond line\nthird line", "Madrid"]),
        SheetRow(3, ["Bob", 'He said "hi"', "Bilbao"]),
        SheetRow(4, ["Eva", "", "Vigo"]),
    ]


def test_old_mac_line_endings_split_records_too() -> None:
    _, rows = read(b"Name,City\rAna,Madrid\rBob,Bilbao\r")

    assert rows == [SheetRow(2, ["Ana", "Madrid"]), SheetRow(3, ["Bob", "Bilbao"])]


def test_cells_are_stripped_of_surrounding_whitespace_but_not_padded() -> None:
    _, rows = read("Name , City\n  Ana\u00a0 ,  Madrid  \n".encode())

    assert cells(rows) == [["Ana", "Madrid"]]


def test_ragged_rows_come_back_as_they_are_without_empty_cells_past_the_header() -> None:
    _, rows = read(b"A,B,C\n1,2\n1,2,3,4\n1,2,3,,,\n1,,,\n")

    assert cells(rows) == [["1", "2"], ["1", "2", "3", "4"], ["1", "2", "3"], ["1", "", ""]]


def test_blank_lines_and_rows_of_empty_cells_are_skipped_but_keep_their_numbers() -> None:
    _, rows = read(b"Name,City\n\nAna,Madrid\n,\n  ,  \n\r\nBob,Bilbao\n\n\n")

    assert rows == [SheetRow(3, ["Ana", "Madrid"]), SheetRow(7, ["Bob", "Bilbao"])]


def test_trailing_empty_header_cells_are_not_columns() -> None:
    table, _ = read(b"Name;City;;\nAna;Madrid;;\n")

    assert table.headers == ["Name", "City"]


@pytest.mark.parametrize(
    "data",
    [b"", b"   \r\n\r\n  ", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n \n", codecs.BOM_UTF16_LE],
    ids=["nothing", "whitespace", "bom", "bom-and-whitespace", "utf16-bom"],
)
def test_an_empty_file_is_refused(data: bytes) -> None:
    refused = problem(data)

    assert refused.code == "empty_file"
    assert refused.message == "The file is empty; export it again with a header row and at least one record."


def test_a_header_without_records_reads_as_no_rows() -> None:
    table, rows = read(b"Name,Email\r\n")

    assert table.headers == ["Name", "Email"]
    assert rows == []


def test_a_first_row_of_empty_cells_is_refused_as_no_header() -> None:
    refused = problem(b";;;\nAna;Madrid\n")

    assert refused.code == "no_header"
    assert refused.details == {"row": 1}


def test_a_stream_that_cannot_seek_and_trickles_seven_bytes_at_a_time_reads_the_same() -> None:
    lines = ["Nombre;Notas;Importe"] + [f'Peña {n};"línea uno\nlínea dos €";{n}.000,50' for n in range(3000)]
    data = "\r\n".join(lines).encode()
    source = Trickle(data)

    table = open_table(source, filename="leads.csv", max_bytes=LIMIT)  # type: ignore[arg-type]
    rows = list(table.rows)

    assert source.bytes_read == len(data)
    assert table.headers == ["Nombre", "Notas", "Importe"]
    assert len(rows) == 3000
    assert rows[-1] == SheetRow(3001, ["Peña 2999", "línea uno\nlínea dos €", "2999.000,50"])
    assert rows == read(data)[1]


def test_rows_are_read_lazily() -> None:
    data = b"Name\n" + b"".join(b"row %d\n" % n for n in range(500_000))
    source = Trickle(data)

    table = open_table(source, filename="leads.csv", max_bytes=LIMIT)  # type: ignore[arg-type]
    first = next(table.rows)

    assert first == SheetRow(2, ["row 0"])
    assert source.bytes_read <= reading._SAMPLE_BYTES + 64 * 1024 < len(data) // 4


# CSV: refusals


def test_a_utf8_file_with_a_windows_1252_byte_after_the_first_megabyte_is_refused_with_its_row() -> None:
    head = b"Nombre,Ciudad\n"
    body = "".join(f"Peña {n},Logroño\n" for n in range(60_000)).encode()
    assert len(head + body) > MB
    data = head + body + "Muñoz,Cádiz\n".encode("cp1252") + b"Ana,Madrid\n"

    refused = problem(data)

    assert refused.code == "bad_encoding"
    assert refused.details["row"] == 60_002
    assert "mixes encodings" in refused.message and "UTF-8" in refused.message


def test_a_file_larger_than_the_limit_is_refused_as_too_large() -> None:
    refused = problem(b"Name\n" + b"Ana\n" * 1000, max_bytes=1000)

    assert isinstance(refused, TooLarge) and refused.code == "file_too_large"
    assert refused.details == {"limit": 1000, "size": "1000 bytes"}


def test_a_file_that_outgrows_the_limit_after_the_first_megabyte_is_refused_while_its_rows_are_read() -> None:
    data = b"Name\n" + b"Ana Pena\n" * ((MB + 200_000) // 9)
    table = open_table(io.BytesIO(data), filename="leads.csv", max_bytes=MB + 100_000)

    with pytest.raises(TooLarge) as caught:
        list(table.rows)

    assert caught.value.code == "file_too_large"


def test_an_endless_upload_is_cut_off_at_the_limit() -> None:
    source = Endless(b"Ana,Madrid\n")

    refused = problem(source, max_bytes=100_000)

    assert refused.code == "file_too_large"
    assert source.bytes_read <= 100_000 + reading._SAMPLE_BYTES


def test_a_cell_longer_than_the_limit_is_refused_as_malformed_csv_with_its_row() -> None:
    data = b'Name,Notes\nAna,fine\nBob,"' + b"x" * (reading._CELL_CHARS + 10) + b'"\n'

    refused = problem(data, max_bytes=10 * MB)

    assert refused.code == "malformed_csv"
    assert refused.details["row"] == 3


def test_a_file_without_line_breaks_is_refused_quickly() -> None:
    data = b'Name,Notes\nAna,"' + b"x" * (20 * MB)
    started = time.perf_counter()

    refused = problem(data, max_bytes=LIMIT)

    assert (refused.code, refused.details["row"]) == ("malformed_csv", 2)
    assert time.perf_counter() - started < 5


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from([b"a", b"b", b"\r", b"\n"])).map(b"".join),
    st.lists(st.integers(min_value=0, max_value=200), max_size=10),
)
def test_lines_are_split_the_same_wherever_the_chunks_are_cut(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(cut, len(data)) for cut in cuts})
    chunks = [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]

    assert list(reading._byte_lines(chunks)) == data.splitlines(keepends=True)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "logo.png"),
        (b"Name,Email\nAna\x00\x00\x00,ana@example.com\n", "leads.csv"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "leads.pdf"),
        (b"<!DOCTYPE html><html><body><table><tr><td>Name</td></tr></table></body></html>", "report.xls"),
        (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>', "export.xml"),
    ],
    ids=["png", "nul-bytes", "pdf", "html-as-xls", "xml-spreadsheet-2003"],
)
def test_a_binary_or_markup_file_is_not_a_table(data: bytes, filename: str) -> None:
    refused = problem(data, filename=filename)

    assert refused.code == "not_a_table"
    assert filename in refused.message


@pytest.mark.parametrize("filename", ["leads.xls", "leads.xlsx", "leads.csv"])
def test_an_old_xls_workbook_or_a_password_protected_one_is_not_a_table(filename: str) -> None:
    refused = problem(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504), filename=filename)

    assert refused.code == "not_a_table"
    assert ".xlsx" in refused.message


def test_sniffing_looks_at_the_bytes_not_the_name() -> None:
    assert sniff_kind(b"PK\x03\x04\x14\x00\x00\x00", "leads.csv") == "xlsx"
    assert sniff_kind(b"Name,Email\n", "leads.xlsx") == "csv"
    assert sniff_kind(codecs.BOM_UTF16_LE + "Name".encode("utf-16-le"), "leads.txt") == "csv"
    with pytest.raises(FileProblem, match="not a spreadsheet"):
        sniff_kind(b"GIF89a\x01\x00\x01\x00\x00", "leads.csv")


# CSV: any text written by csv.writer reads back

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16"]
DELIMITERS = [";", ",", "\t", "|"]


def _alphabet(encoding: str) -> st.SearchStrategy[str]:
    # NUL marks a binary file; every other character the encoding can hold is fair game.
    return st.characters(codec=encoding if encoding != "utf-16" else "utf-8", exclude_characters="\x00")


@st.composite
def tables(draw: st.DrawFn, encoding: str) -> tuple[list[str], list[list[str]]]:
    # The header is the one line the delimiter is judged on, so its names hold no candidate delimiter or quote.
    name = st.text(_alphabet(encoding), min_size=1, max_size=8).filter(
        lambda text: text.strip() != "" and not any(char in text for char in ';,\t|"\r\n')
    )
    headers = draw(st.lists(name, min_size=2, max_size=5))
    cell = st.text(_alphabet(encoding), max_size=12)
    rows = draw(st.lists(st.lists(cell, max_size=7), max_size=8))
    return headers, rows


def _expected(headers: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    width = len(headers)
    expected_rows = []
    for row in rows:
        stripped = [cell.strip() for cell in row]
        while len(stripped) > width and not stripped[-1]:
            stripped.pop()
        if any(stripped):
            expected_rows.append(stripped)
    return [header.strip().lstrip("\ufeff").strip() for header in headers], expected_rows


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("delimiter", DELIMITERS, ids=["semicolon", "comma", "tab", "pipe"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_written_by_csv_writer_reads_back_identically(
    delimiter: str, encoding: str, data: st.DataObject
) -> None:
    headers, rows = data.draw(tables(encoding))
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    encoded = text.getvalue().encode(encoding)
    if encoding == "cp1252" and not encoded.isascii():
        try:
            encoded.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return  # these bytes are valid UTF-8 too, and reading them as UTF-8 is the right guess

    table, read_rows = read(encoded)

    assert table.delimiter == delimiter
    assert (table.headers, cells(read_rows)) == _expected(headers, rows)


# XLSX


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(row)
    workbook.save(path)
    return path.read_bytes()


def _rewritten(data: bytes, member: str, change: Callable[[str], str]) -> bytes:
    """The same workbook with one XML part changed, as an attacker would craft it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == member:
                content = change(content.decode()).encode()
            target.writestr(entry.filename, content)
    return out.getvalue()


LEADS: list[list[Any]] = [
    ["Name", "Amount", "Double", "Due", "Met", "Agreed", "Employees", "Qualified"],
    [
        "  Ana Peña ",
        25000.5,
        "=B2*2",
        datetime(2026, 12, 7),
        datetime(2026, 12, 7, 10, 30),
        date(2026, 1, 5),
        250,
        True,
    ],
    [None, None, None, None, None, None, None, None],
    ["Bob", 3.0, None, None, None, None, 0.1, False],
]


@pytest.fixture
def leads_xlsx(tmp_path: Path) -> bytes:
    data = _workbook(tmp_path / "leads.xlsx", {"Leads": LEADS, "Contacts": [["Email"], ["eva@example.com"]]})
    # openpyxl writes formulas without a cached value; Excel stores the last result, which data_only reads.
    return _rewritten(
        data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("<f>B2*2</f><v />", "<f>B2*2</f><v>51001</v>")
    )


def test_an_xlsx_workbook_reads_its_first_sheet_with_each_cell_as_text(leads_xlsx: bytes) -> None:
    table, rows = read(leads_xlsx, filename="leads.xlsx")

    assert (table.kind, table.sheet, table.encoding, table.delimiter) == ("xlsx", "Leads", None, None)
    assert table.headers == LEADS[0]
    assert rows == [
        SheetRow(2, ["Ana Peña", "25000.5", "51001", "2026-12-07", "2026-12-07T10:30:00", "2026-01-05", "250", "true"]),
        SheetRow(4, ["Bob", "3", "", "", "", "", "0.1", "false"]),
    ]


def test_a_formula_without_a_cached_result_reads_as_empty_never_as_its_formula(tmp_path: Path) -> None:
    data = _workbook(tmp_path / "f.xlsx", {"Sheet": [["A", "B"], [2, "=A2*2"]]})

    _, rows = read(data, filename="f.xlsx")

    assert cells(rows) == [["2", ""]]


def test_a_named_sheet_is_read_whatever_its_case(leads_xlsx: bytes) -> None:
    table, rows = read(leads_xlsx, filename="leads.xlsx", sheet="contacts")

    assert (table.sheet, table.headers, cells(rows)) == ("Contacts", ["Email"], [["eva@example.com"]])


def test_a_sheet_that_does_not_exist_is_refused_with_the_names_of_those_that_do(leads_xlsx: bytes) -> None:
    refused = problem(leads_xlsx, filename="leads.xlsx", sheet="Accounts")

    assert refused.code == "sheet_not_found"
    assert refused.details == {"sheet": "Accounts", "sheets": ["Leads", "Contacts"]}
    assert "Leads, Contacts" in refused.message


def test_a_workbook_uploaded_under_a_csv_name_is_still_read_as_a_workbook(leads_xlsx: bytes) -> None:
    table, _ = read(leads_xlsx, filename="leads.csv")

    assert table.kind == "xlsx"


def test_a_workbook_read_from_a_stream_that_cannot_seek_reads_the_same(leads_xlsx: bytes) -> None:
    table = open_table(Trickle(leads_xlsx), filename="leads.xlsx", max_bytes=LIMIT)  # type: ignore[arg-type]

    assert list(table.rows) == read(leads_xlsx, filename="leads.xlsx")[1]


def test_formatting_only_cells_past_the_header_do_not_make_rows_ragged(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "City"])
    sheet.append(["Ana", "Madrid"])
    for row in (1, 2, 3):
        sheet.cell(row=row, column=20).fill = PatternFill("solid", start_color="FFFF00")
    path = tmp_path / "styled.xlsx"
    workbook.save(path)

    table, rows = read(path.read_bytes(), filename="styled.xlsx")

    assert table.headers == ["Name", "City"]
    assert cells(rows) == [["Ana", "Madrid"]]


def test_a_sheet_whose_first_row_is_empty_is_refused_as_no_header(tmp_path: Path) -> None:
    data = _workbook(tmp_path / "gap.xlsx", {"Sheet": [[None, None], ["Name", "City"], ["Ana", "Madrid"]]})

    assert problem(data, filename="gap.xlsx").code == "no_header"


def test_an_empty_sheet_is_refused_as_an_empty_file(tmp_path: Path) -> None:
    data = _workbook(tmp_path / "empty.xlsx", {"Sheet": []})

    assert problem(data, filename="empty.xlsx").code == "empty_file"


def test_a_workbook_with_a_header_and_no_rows_reads_as_no_rows(tmp_path: Path) -> None:
    data = _workbook(tmp_path / "header.xlsx", {"Sheet": [["Name", "City"]]})

    table, rows = read(data, filename="header.xlsx")

    assert (table.headers, rows) == (["Name", "City"], [])


def test_a_workbook_larger_than_the_limit_is_refused_as_too_large(leads_xlsx: bytes) -> None:
    refused = problem(leads_xlsx, filename="leads.xlsx", max_bytes=len(leads_xlsx) - 1)

    assert refused.code == "file_too_large"
    assert refused.details == {"limit": len(leads_xlsx) - 1, "size": size_text(len(leads_xlsx) - 1)}


def _bomb(entry_bytes: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        zeros = bytes(MB)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(entry_bytes // MB):
                member.write(zeros)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.perf_counter()
    bomb = _bomb(200 * MB)
    assert len(bomb) < MB
    monkeypatch.setattr(reading.openpyxl, "load_workbook", lambda *args, **kwargs: pytest.fail("opened a bomb"))

    refused = problem(bomb, filename="leads.xlsx", max_bytes=20 * MB)

    assert refused.code == "unsafe_file"
    assert refused.details["unpacked_bytes"] > 200 * MB
    assert time.perf_counter() - started < 10


def test_a_workbook_that_unpacks_to_more_than_twenty_times_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = _bomb(2 * MB)  # compresses far under the limit, unpacks far over twenty times it
    monkeypatch.setattr(reading.openpyxl, "load_workbook", lambda *args, **kwargs: pytest.fail("opened a bomb"))

    refused = problem(small, filename="leads.xlsx", max_bytes=50_000)

    assert refused.code == "unsafe_file"
    assert refused.details["limit"] == 1_000_000


EXTERNAL_ENTITY = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def _with_external_entity(xml: str) -> str:
    xml = xml.replace("<t>Ana Peña</t>", "<t>&e;</t>")
    if xml.startswith("<?xml"):
        declaration, _, rest = xml.partition("?>")
        return declaration + "?>" + EXTERNAL_ENTITY + rest
    return EXTERNAL_ENTITY + xml


@pytest.mark.parametrize("member", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"])
@pytest.mark.parametrize("first_guard", [True, False], ids=["doctype-check", "defusedxml"])
def test_a_workbook_with_an_external_entity_is_refused_as_unsafe(
    leads_xlsx: bytes, member: str, first_guard: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = _rewritten(leads_xlsx, member, _with_external_entity)
    if not first_guard:
        # Without the DOCTYPE check, defusedxml inside openpyxl must still refuse the entity.
        monkeypatch.setattr(reading, "_declares_doctype", lambda archive, entry: False)
    seen: list[str] = []

    with pytest.raises(FileProblem) as caught:
        table = open_table(io.BytesIO(hostile), filename="leads.xlsx", max_bytes=LIMIT)
        seen.extend(table.headers)
        for row in table.rows:
            seen.extend(row.cells)

    assert caught.value.code == "unsafe_file"
    assert not any("root:" in text for text in [*seen, caught.value.message, str(caught.value.details)])


def test_a_zip_that_is_not_a_workbook_is_not_a_table() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")

    refused = problem(out.getvalue(), filename="leads.ods")

    assert refused.code == "not_a_table"
    assert "not an Excel workbook" in refused.message


@pytest.mark.parametrize("damage", ["truncated", "garbage-workbook-xml"])
def test_a_damaged_workbook_is_not_a_table(leads_xlsx: bytes, damage: str) -> None:
    if damage == "truncated":
        data = leads_xlsx[: len(leads_xlsx) // 2]
    else:
        data = _rewritten(leads_xlsx, "xl/workbook.xml", lambda xml: "<workbook><sheets><sheet")

    refused = problem(data, filename="leads.xlsx")

    assert refused.code == "not_a_table"


# XLSX: what is opened is closed


@pytest.fixture
def spools(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    made: list[Any] = []
    real = tempfile.SpooledTemporaryFile

    def spool(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(reading.tempfile, "SpooledTemporaryFile", spool)
    return made


def test_reading_every_row_closes_the_workbook_and_its_temporary_file(leads_xlsx: bytes, spools: list[Any]) -> None:
    table, _ = read(leads_xlsx, filename="leads.xlsx")

    assert spools[0].closed


def test_closing_the_table_before_reading_its_rows_closes_its_temporary_file(
    leads_xlsx: bytes, spools: list[Any]
) -> None:
    with open_table(io.BytesIO(leads_xlsx), filename="leads.xlsx", max_bytes=LIMIT) as table:
        assert not spools[0].closed
        assert table.headers[0] == "Name"

    assert spools[0].closed
    table.close()  # twice is harmless
    assert list(table.rows) == []


def test_a_table_dropped_half_read_closes_its_temporary_file(leads_xlsx: bytes, spools: list[Any]) -> None:
    table = open_table(io.BytesIO(leads_xlsx), filename="leads.xlsx", max_bytes=LIMIT)
    next(table.rows)

    del table
    gc.collect()

    assert spools[0].closed


def test_a_refused_workbook_leaves_no_temporary_file_open(leads_xlsx: bytes, spools: list[Any]) -> None:
    problem(leads_xlsx, filename="leads.xlsx", sheet="Nope")

    assert spools[0].closed
