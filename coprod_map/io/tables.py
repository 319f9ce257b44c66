"""CSV files and XLSX sheets -> text frames that remember where each row came from.

A ``Sheet`` is one table as the user sees it: its headers, a frame of ``str`` cells (blank = ``""``)
plus ``_file`` (display name) and ``_row`` (1-based sheet row, header = row 1), and the problems and
notices found while reading it. Nothing here knows what the columns mean; the format readers do.

Checks made on every sheet: duplicate headers (after trimming and case-folding), blank headers,
rows with more values than headers, spreadsheet error values (``#N/A`` ...), control characters,
invisible/bidi characters, over-long cells; for XLSX also zip bombs, DTDs/entities, encrypted or
legacy files, hidden sheets, merged cells and formulas without a saved value.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coprod_map.errors import ImportRejected, Problem
from coprod_map.io import text as textio
from coprod_map.validate import check_cells

try:  # written by the exporter helper; the fallback keeps the reader working without it
    from coprod_map.io.cells import restore as _restore
except ImportError:  # pragma: no cover
    def _restore(text: str) -> str:
        if isinstance(text, str) and len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r\n":
            return text[1:]
        return text

__all__ = [
    "MAX_ZIP_ENTRIES",
    "MAX_UNCOMPRESSED",
    "Sheet",
    "column_codes",
    "column_letter",
    "open_zip",
    "read_csv",
    "read_workbook",
    "sheet_from_records",
]

MAX_ZIP_ENTRIES = 1_000
MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_RATIO = 200  # uncompressed/compressed for any entry over 1 MB; real workbooks stay far below

SPREADSHEET_ERRORS = ("#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                      "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!")
_SCI_RE = r"^[+-]?\d(\.\d+)?[eE]\+\d+$"
_DTD_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass
class Sheet:
    file: str                 # where problems point: "people.csv" or "book.xlsx (sheet Elements)"
    name: str                 # sheet name, or the file name for a CSV
    headers: list[str]
    frame: pd.DataFrame       # str cells, columns = headers, plus _file and _row
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    hidden: bool = False
    delimiter: str | None = None
    encoding: str | None = None
    #: header -> (integer code per frame row, distinct values as an arrow string array): each column's
    #: dictionary encoding, made once (see ``column_codes``). Whoever changes ``frame`` must drop them.
    codes: dict[str, tuple[np.ndarray, Any]] = field(default_factory=dict, repr=False, compare=False)


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters.

    >>> column_letter(0), column_letter(27)
    ('A', 'AB')
    """
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- records -> Sheet ------------------------------------------------------------------------

def sheet_from_records(file: str, rows: list[list[str]], row_numbers: list[int], *, name: str | None = None,
                       hidden: bool = False) -> Sheet:
    """Build a Sheet from raw records (first record = header), checking headers and cells."""
    if not rows:
        raise ImportRejected([Problem(file, None, None, "The file is empty. Nothing was imported.")])
    body = rows[1:]
    width = max([len(rows[0]), *(len(r) for r in body)]) if body else len(rows[0])
    cells = pd.DataFrame([list(r) + [""] * (width - len(r)) for r in body], columns=range(width), dtype=object) \
        if body else pd.DataFrame({i: pd.Series([], dtype=object) for i in range(width)})
    return sheet_from_grid(file, list(rows[0]), cells, list(row_numbers[1:]), name=name, hidden=hidden)


def sheet_from_grid(file: str, header_cells: list[str], cells: pd.DataFrame, body_rows, *, name: str | None = None,
                    hidden: bool = False, codes: dict[int, tuple[np.ndarray, Any]] | None = None) -> Sheet:
    """Build a Sheet from the header record and a frame of the other records' ``str`` cells (columns
    0, 1, ... at least as many as the header's; short rows padded with ``""``) and their sheet rows.

    ``codes``: column -> its dictionary encoding over exactly these rows (see ``Sheet.codes``), when the
    caller has it: blanks, quote marks and cell checks are then decided once per distinct value.
    """
    problems: list[Problem] = []
    notices: list[str] = []
    declared = len(header_cells)
    width = max(declared, cells.shape[1])
    header = [str(h).replace("\ufeff", "").strip() for h in header_cells] + [""] * (width - declared)
    cells = cells.set_axis(range(cells.shape[1]), axis=1).reset_index(drop=True)
    for i in range(cells.shape[1], width):
        cells[i] = ""
    codes = dict(codes or {})
    body_rows = np.asarray(body_rows, dtype=np.int64)
    filled_at: dict[int, np.ndarray] = {}

    def filled(i: int) -> np.ndarray:
        if i not in filled_at:
            filled_at[i] = (_nonblank(codes[i]) if i in codes else
                            (cells[i].str.strip() != "").to_numpy(dtype=bool))
        return filled_at[i]

    # Columns with no header: ignored when empty (a trailing comma), a problem otherwise.
    keep: list[int] = []
    for i, title in enumerate(header[:declared]):
        if title:
            keep.append(i)
        elif len(cells) and filled(i).any():
            problems.append(Problem(file, 1, column_letter(i), f"column {column_letter(i)} has no header. "
                                    "Give it a name in row 1 or delete the column."))
        else:
            notices.append(f"{file}: column {column_letter(i)} has no header and no values; it was ignored")
    if width > declared and len(cells):
        last = np.full(len(cells), -1, dtype=np.int64)
        for j in range(declared, width):
            last[filled(j)] = j
        for at in np.flatnonzero(last >= 0):
            problems.append(Problem(file, int(body_rows[at]), None,
                                    f"this row has {int(last[at]) + 1} values but the header has {declared} columns. "
                                    "Remove the extra values or add a header for them."))
    # Duplicate headers after trimming and case-folding.
    seen: dict[str, int] = {}
    for i in keep:
        key = header[i].casefold()
        if key in seen:
            first = seen[key]
            problems.append(Problem(file, 1, header[i],
                                    f"column '{header[i]}' appears twice (columns {column_letter(first)} and "
                                    f"{column_letter(i)}). Rename or remove one."))
        else:
            seen[key] = i
    keep = [i for i in keep if seen.get(header[i].casefold()) == i]
    headers = [header[i] for i in keep]
    columns = {}
    for i in keep:
        columns[header[i]], restored = _clean_column(cells[i], codes.get(i))
        if restored:
            codes.pop(i, None)
    frame = pd.DataFrame(columns, columns=headers)
    if not len(cells):
        frame = pd.DataFrame({h: pd.Series([], dtype=object) for h in headers})
    frame["_file"] = _repeated(file, len(frame))
    frame["_row"] = pd.Series(body_rows, dtype="int64")
    sheet = Sheet(file=file, name=name or file, headers=headers, frame=frame, problems=problems, notices=notices,
                  hidden=hidden, codes={header[i]: codes[i] for i in keep if i in codes and len(cells)})
    if not len(frame) and not problems:
        raise ImportRejected([Problem(file, None, None, "Headers found but no rows; nothing was imported.")])
    sheet.problems += _cell_problems(sheet)
    return sheet


def sheet_from_arrow(file: str, read: textio.ArrowRead, *, max_rows: int | None = None) -> Sheet:
    """A Sheet from ``textio.arrow_read``'s table, the way ``sheet_from_grid`` builds it from ``grid``'s frame:
    blank records dropped (their rows still counted), each column dictionary-encoded once and its text kept
    in arrow. Raises ImportRejected over ``max_rows`` records (header excluded), as ``grid`` does."""
    import pyarrow as pa

    max_rows = textio.MAX_ROWS if max_rows is None else max_rows
    table = read.table
    codes = {i: _encode(table.column(i)) for i in range(table.num_columns)}
    filled = None  # None: every record has a value
    for i in codes:
        values = _filled_values(codes[i][1])
        if not values.all():
            at = values[codes[i][0]]
            filled = at if filled is None else filled | at
        else:
            filled = None
            break
    count = table.num_rows if filled is None else int(filled.sum())
    if count > max_rows:
        raise textio._too_many(file, max_rows)
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64)
    if filled is not None and not filled.all():
        rows = rows[filled]
        table = table.filter(pa.array(filled))
        codes = {i: _subset(encoded, filled) for i, encoded in codes.items()}
    cells = pd.DataFrame({i: pd.Series(table.column(i), dtype="str") for i in range(table.num_columns)})
    return sheet_from_grid(file, read.header, cells, rows, codes=codes)


def _encode(values) -> tuple[np.ndarray, Any]:
    """An arrow string column -> (code per value, distinct values in order of first appearance)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray) and values.num_chunks == 1:
        values = values.chunk(0)
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.Array):
        return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary
    # A chunked column is encoded chunk by chunk with one hash table: each chunk holds the same (final)
    # dictionary, so the codes are the chunks' codes end to end. Checked, since only that makes it so.
    dictionary = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], type=values.type)
    if not all(_same_array(c.dictionary, dictionary) for c in encoded.chunks):
        return _encode(values.combine_chunks())
    codes = [c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]
    return (np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)), dictionary


def _same_array(a, b) -> bool:
    """True when two arrow arrays are one: same length, offset and buffers (no comparison of values)."""
    return len(a) == len(b) and a.offset == b.offset and all(
        (x is None and y is None) or (x is not None and y is not None and x.address == y.address and x.size == y.size)
        for x, y in zip(a.buffers(), b.buffers(), strict=True))


def _subset(encoded: tuple[np.ndarray, Any], rows: np.ndarray) -> tuple[np.ndarray, Any]:
    """The encoding of some rows only: values no longer used dropped, the rest renumbered by first appearance."""
    import pyarrow as pa

    codes, used = pd.factorize(encoded[0][rows])
    return codes.astype(encoded[0].dtype), encoded[1].take(pa.array(used))


def _filled_values(distinct) -> np.ndarray:
    """Which of the distinct values hold something besides white space (``str.strip``'s white space)."""
    import pyarrow.compute as pc

    return pc.not_equal(pc.utf8_trim_whitespace(distinct), "").to_numpy(zero_copy_only=False).astype(bool)


def _nonblank(encoded: tuple[np.ndarray, Any]) -> np.ndarray:
    codes, distinct = encoded
    return _filled_values(distinct)[codes] if len(codes) else np.zeros(0, dtype=bool)


def _repeated(text: str, n: int) -> pd.Series:
    """``text`` ``n`` times as a text column, its arrow buffers made directly (no million-item Python list)."""
    import pyarrow as pa

    raw = text.encode("utf-8")
    offsets = np.arange(0, (n + 1) * len(raw), len(raw), dtype=np.int64) if raw else np.zeros(n + 1, dtype=np.int64)
    array = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(raw * n)])
    return pd.Series(array, dtype="str")


def column_codes(sheet: Sheet, header: str) -> tuple[np.ndarray, Any]:
    """A column's dictionary encoding (code per row, distinct values as arrow text in order of first
    appearance): the one ``sheet_from_arrow`` made, else made now and kept on the sheet."""
    import pyarrow as pa

    if header not in sheet.codes:
        values = sheet.frame[header]
        if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
            array = pa.array(values)
        else:
            plain = values.astype(object).where(values.notna(), "").tolist()
            array = pa.array(plain if set(map(type, plain)) <= {str} else list(map(str, plain)), type=pa.large_string())
        sheet.codes[header] = _encode(array.fill_null(""))
    return sheet.codes[header]


def _clean_column(values: pd.Series, encoded: tuple[np.ndarray, Any] | None = None) -> tuple[pd.Series, bool]:
    """Cells starting with ``'`` (a spreadsheet's mark for "text, not a formula") restored; and whether any was."""
    if encoded is not None:
        import pyarrow.compute as pc

        if not pc.any(pc.starts_with(encoded[1], "'")).as_py():
            return values, False
    quoted = values.str.startswith("'").fillna(False).to_numpy(dtype=bool)
    if not quoted.any():
        return values, False
    values = values.copy()
    values[quoted] = values[quoted].map(_restore)
    return values, True


def _may_hold(col: pd.Series, char: str) -> bool:
    """False only when no cell holds ``char``: for arrow text, a byte search of its value buffer."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        import pyarrow as pa

        values = pa.array(col)
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        return any(c.buffers()[2] is not None and char.encode("utf-8") in bytes(c.buffers()[2]) for c in chunks)
    return bool(col.str.contains(char, regex=False).fillna(True).astype(bool).any())


def _cell_problems(sheet: Sheet) -> list[Problem]:
    frame = sheet.frame
    problems: list[Problem] = []
    for name in sheet.headers:
        col = frame[name]
        distinct = sheet.codes[name][1] if name in sheet.codes else None
        if distinct is not None:
            import pyarrow.compute as pc

            errors = pc.is_in(pc.utf8_upper(pc.utf8_trim_whitespace(distinct)), value_set=_error_values(distinct.type))
            if not pc.any(errors).as_py():
                continue
        elif not _may_hold(col, "#"):
            continue  # every spreadsheet error value holds a '#': one quick pass in the usual case
        errors = col.str.strip().str.upper().isin(SPREADSHEET_ERRORS)
        for value, row in zip(col[errors], frame["_row"][errors], strict=True):
            problems.append(Problem(sheet.file, int(row), name, f"spreadsheet error {value.strip()} in this cell. "
                                    "Fix the formula or type the value in."))
    # Cells are checked one by one, so a column is clean exactly when its distinct values are.
    suspect = [name for name in sheet.headers if name not in sheet.codes or check_cells(
        pd.DataFrame({name: pd.Series(sheet.codes[name][1], dtype="str")}), file=sheet.file, columns=[name])]
    if suspect:
        problems += check_cells(frame, file=sheet.file, columns=suspect)
    return problems


def _error_values(kind):
    import pyarrow as pa

    return pa.array(SPREADSHEET_ERRORS, type=kind)


def scientific_ids(sheet: Sheet, column: str) -> list[str]:
    """Notices for ids that look like Excel turned them into scientific notation (1.23E+11)."""
    if column not in sheet.frame.columns:
        return []
    mask = sheet.frame[column].str.match(_SCI_RE)
    return [f"{sheet.file}, row {row}, column '{column}': '{value}' looks like scientific notation; "
            "Excel may have changed this id. Check it." for value, row in zip(sheet.frame[column][mask],
                                                                              sheet.frame["_row"][mask], strict=True)]


# --- CSV -------------------------------------------------------------------------------------

def read_csv(file: str, data: bytes) -> Sheet:
    """One CSV/TSV file as a Sheet. Raises ImportRejected when it cannot be read at all."""
    kind = textio.binary_kind(data)
    if kind:
        raise ImportRejected([Problem(file, None, None, _binary_message(kind))])
    arrow = textio.arrow_read(data) if ARROW_READ else None  # None: the text paths below read it exactly
    if arrow is not None:
        sheet = sheet_from_arrow(file, arrow)
        sheet.delimiter, sheet.encoding = arrow.delimiter, "UTF-8"
        delimiter = arrow.delimiter
    else:
        decoded = textio.decode(data, file=file)
        delimiter = textio.choose_delimiter(decoded.text)
        fast = textio.grid(decoded.text, delimiter, file=file)  # None: only the csv module reads it exactly
        if fast is not None and len(fast[0]):
            cells, starts = fast
            sheet = sheet_from_grid(file, cells.iloc[0].tolist(), cells.iloc[1:], starts[1:])
        else:
            rows, starts = textio.records(decoded.text, delimiter, file=file)
            if not rows:
                raise ImportRejected([Problem(file, None, None, "The file is empty. Nothing was imported.")])
            sheet = sheet_from_records(file, rows, starts)
        sheet.delimiter, sheet.encoding = delimiter, decoded.encoding
        if decoded.notice:
            sheet.notices.insert(0, decoded.notice)
    if delimiter != ",":
        sheet.notices.append(f"{file}: values are separated by {textio.DELIMITER_WORDS[delimiter]}")
    return sheet


#: Whether ``read_csv`` tries ``textio.arrow_read`` first (tests switch it off to compare with the text paths).
ARROW_READ = True


def _binary_message(kind: str) -> str:
    if kind == "zip":
        return "This is an Excel workbook or zip file, not a text file. Import it as a workbook, or save it as CSV."
    if kind == "ole":
        return LEGACY_MESSAGE
    return f"This is {kind}, not a text file. Choose a CSV, XLSX, GraphML or GEXF file."


LEGACY_MESSAGE = ("This is an old-style Excel file (.xls) or a password-protected workbook. "
                  "Save it as .xlsx without a password and import that.")


# --- zip safety ------------------------------------------------------------------------------

def open_zip(file: str, data: bytes) -> zipfile.ZipFile:
    """Open a zip (XLSX or bundle) after checking entry count, declared size and compression ratio."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportRejected([Problem(file, None, None, "This zip or workbook file is damaged and cannot be opened. "
                                      "Save it again and retry.")]) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ImportRejected([Problem(file, None, None, f"This file holds {len(infos):,} parts; the limit is "
                                      f"{MAX_ZIP_ENTRIES:,}. It was not opened.")])
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise ImportRejected([Problem(file, None, None, f"File expands beyond {MAX_UNCOMPRESSED // (1024 * 1024)} MB "
                                      f"when unpacked ({total / 1024 / 1024:,.0f} MB). It was not opened.")])
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ImportRejected([Problem(file, None, None, "This file is compressed far more than a real workbook "
                                          "would be (a possible zip bomb). It was not opened.")])
        if info.flag_bits & 0x1:
            raise ImportRejected([Problem(file, None, None, "This zip file is password-protected. "
                                          "Save it again without a password.")])
    return archive


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file: str) -> bytes:
    # Read at most the declared size (+1 byte) so a lying header cannot make us unpack more.
    with archive.open(info) as handle:
        content = handle.read(info.file_size + 1)
    if len(content) > info.file_size:
        raise ImportRejected([Problem(file, None, None, "This file's parts are larger than they claim to be. "
                                      "It was not opened.")])
    return content


def check_xml_parts(archive: zipfile.ZipFile, file: str) -> None:
    """Refuse any XML part that declares a DTD or entities (billion laughs, XXE)."""
    for info in archive.infolist():
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        content = _read_member(archive, info, file)
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            content = content.decode("utf-16", errors="replace").encode("utf-8")
        if _DTD_RE.search(content):
            raise ImportRejected([Problem(file, None, None, "Workbook contains forbidden XML (a DTD or entity "
                                          "declarations). Save it again from a spreadsheet program.")])


# --- XLSX ------------------------------------------------------------------------------------

def read_workbook(file: str, data: bytes, *, sheets: list[str] | None = None) -> list[Sheet]:
    """Every sheet of an XLSX (or only ``sheets``, matched case-insensitively) as Sheets.

    Hidden sheets are returned with ``hidden=True`` and a notice; the caller decides.
    Raises ImportRejected for unsafe or unreadable workbooks.
    """
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRejected([Problem(file, None, None, LEGACY_MESSAGE)])
    archive = open_zip(file, data)
    names = {i.filename for i in archive.infolist()}
    if "xl/workbook.xml" not in names:
        raise ImportRejected([Problem(file, None, None, "This zip file is not an Excel workbook.")])
    check_xml_parts(archive, file)
    has_formulas = any(b"<f" in _read_member(archive, i, file) for i in archive.infolist()
                       if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"))
    import openpyxl  # imported late: only workbook imports pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
        formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=False) if has_formulas else None
    except Exception:  # openpyxl raises many kinds; none of them is safe to show
        raise ImportRejected([Problem(file, None, None, "This workbook could not be read. Open it in a "
                                      "spreadsheet program, save it as .xlsx and retry.")]) from None
    wanted = {s.casefold() for s in sheets} if sheets is not None else None
    out: list[Sheet] = []
    for ws in book.worksheets:
        if wanted is not None and ws.title.strip().casefold() not in wanted:
            continue
        out.append(_sheet_from_worksheet(file, ws, formulas[ws.title] if formulas is not None else None))
    return out


def sheet_names(file: str, data: bytes) -> list[tuple[str, bool]]:
    """(sheet name, hidden?) for each sheet, without loading cell data."""
    archive = open_zip(file, data)
    check_xml_parts(archive, file)
    import defusedxml.ElementTree as SafeET

    try:
        root = SafeET.fromstring(_read_member(archive, archive.getinfo("xl/workbook.xml"), file),
                                 forbid_dtd=True)
    except Exception:
        raise ImportRejected([Problem(file, None, None, "This workbook could not be read. Save it as .xlsx and retry.")]) from None
    out = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet":
            out.append((element.get("name", ""), element.get("state", "visible") != "visible"))
    return out


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _sheet_from_worksheet(file: str, ws, formula_ws) -> Sheet:
    display = f"{file} (sheet {ws.title})"
    hidden = ws.sheet_state != "visible"
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            rows.append(cells)
            numbers.append(number)
    if not rows:
        raise ImportRejected([Problem(display, None, None, "The sheet is empty. Nothing was imported.")])
    # Rows above the header are not expected: the header is the first non-blank row.
    sheet = sheet_from_records(display, rows, numbers, name=ws.title, hidden=hidden)
    header_row = numbers[0]
    header_cells = rows[0]

    def header_for(column: int) -> str:
        title = header_cells[column - 1].strip() if column - 1 < len(header_cells) else ""
        return title or column_letter(column - 1)

    for merged in ws.merged_cells.ranges:
        sheet.problems.append(Problem(display, merged.min_row, header_for(merged.min_col),
                                      f"cells {merged.coord} are merged. Unmerge them so each value sits in its own cell."))
    if formula_ws is not None:
        for row in formula_ws.iter_rows(min_row=header_row):
            for cell in row:
                if cell.data_type == "f" and ws.cell(row=cell.row, column=cell.column).value is None:
                    sheet.problems.append(Problem(display, cell.row, header_for(cell.column),
                                                  "this cell is a formula with no saved value. Open the file in a "
                                                  "spreadsheet program, let it calculate, save, and retry."))
    if hidden:
        sheet.notices.append(f"{display}: this sheet is hidden")
    return sheet


# --- from a sheet's headers to our columns --------------------------------------------------

def header_key(header: str) -> str:
    """How headers are compared: trimmed, case-folded, spaces and hyphens as ``_``.

    >>> header_key(" Stakeholder ID "), header_key("Speaks-basis")
    ('stakeholder_id', 'speaks_basis')
    """
    return re.sub(r"[\s\-]+", "_", str(header).strip().casefold())


#: Headers that hold a date of birth. We keep age bands, never birth dates (data minimisation).
BIRTH_DATE_KEYS = frozenset({"dob", "d.o.b.", "d_o_b", "date_of_birth", "birth_date", "birthdate", "birthday",
                             "born", "date_born"})


def _refuse_birth_dates(sheet: Sheet) -> None:
    problems = [
        Problem(sheet.file, 1, header, "coprod_map does not keep dates of birth. Replace this column with an "
                "age band (for example 25-34) or remove it, then import again.")
        for header in sheet.headers if header_key(header) in BIRTH_DATE_KEYS
    ]
    if problems:
        raise ImportRejected(problems)


@dataclass
class Part:
    """One of our tables as read from one sheet: our column names, text cells, ``_file``/``_row``."""

    table: str
    frame: pd.DataFrame
    source_columns: dict[str, str] = field(default_factory=dict)  # our column -> the sheet's header


def map_columns(sheet: Sheet, table: str, mapping: dict[str, str], *, extras: str = "attributes") -> tuple[Part, list[str]]:
    """Rename a sheet's columns to ours.

    ``mapping`` is {header_key(their header): our column}; headers whose key already is one of the
    table's core columns map to it. ``extras="attributes"`` keeps every other column under its own
    header (stakeholder attributes); ``extras="drop"`` drops them and returns a notice.
    """
    from coprod_map.model import TABLES

    core = TABLES[table]
    if extras == "attributes":
        _refuse_birth_dates(sheet)
    renames: dict[str, str] = {}
    dropped: list[str] = []
    for header in sheet.headers:
        key = header_key(header)
        target = mapping.get(key) or (key if key in core else None)
        if target and target not in renames.values():
            renames[header] = target
        elif extras == "attributes" and target is None:
            renames[header] = header
        else:
            dropped.append(header)
    frame = sheet.frame[[*renames, "_file", "_row"]].rename(columns=renames)
    notices = []
    if dropped:
        notices.append(f"{sheet.file}: columns not used: {', '.join(dropped)}")
    source = {ours: theirs for theirs, ours in renames.items() if ours != theirs}
    return Part(table, frame, source), notices
