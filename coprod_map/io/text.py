"""Bytes -> text -> records: encodings and delimiters the way spreadsheet programs write CSV.

- Encodings tried in order: a BOM (UTF-8, UTF-16 LE/BE) decides; else UTF-8; else Windows-1252
  (Excel's "CSV" on Windows), which is reported in a notice.
- Delimiters come from an allowlist (``,`` ``;`` tab ``|``) and are chosen by consistent field
  counts over the first records; nothing else is ever sniffed.
- Records are parsed with the stdlib ``csv`` module so each record keeps the sheet row it starts on
  (header = row 1; a record with quoted newlines is located at its first line). CR-only line ends
  and quoted newlines work.
- Binary files posing as text (XLSX, PNG, PDF ...) are named by their magic bytes.
- Big files take a fast path (``grid``): pyarrow's CSV reader (or, when it declines, pandas' C
  parser), used only when every record is exactly one line, so sheet rows are line numbers; anything
  else (a quoted field spanning lines, CR-only line ends, a ragged or badly quoted row) goes through
  the ``csv`` module for exact locations.
- Before all that, ``arrow_read`` tries pyarrow straight on the bytes (no Python text at all) under the
  same one-record-per-line rule, for UTF-8 files; whatever it declines takes the paths above.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coprod_map.errors import ImportRejected, Problem

__all__ = ["DELIMITERS", "MAX_ROWS", "ArrowRead", "Decoded", "arrow_read", "binary_kind", "choose_delimiter", "decode", "grid", "records"]

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_WORDS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}

#: Rows per file (header excluded) beyond which a file is refused before parsing the rest
#: (a year or two of attendance across a whole area: about 1,000,000 rows, 40 MB).
MAX_ROWS = 2_000_000

# The csv module's default field limit (131,072) would turn a long cell into a parser error; the
# length rule (10,000 characters) is checked afterwards with a clear message instead.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))

_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


def binary_kind(data: bytes) -> str | None:
    """``"zip"``, ``"ole"`` or a plain-words name for a known binary file; None for anything else.

    >>> binary_kind(b"%PDF-1.7"), binary_kind(b"id,name")
    ('a PDF document', None)
    """
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # plain words: "UTF-8", "Windows-1252", "UTF-16"
    notice: str | None


def decode(data: bytes, *, file: str) -> Decoded:
    """Decode a text file; raise ImportRejected naming the file when it is empty or not text."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            text, encoding = data[3:].decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            _reject(file, "starts like a UTF-8 file but holds bytes that are not UTF-8. Save it again as CSV UTF-8.")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            _reject(file, "starts like a UTF-16 text file but could not be read as one. Save it again as CSV UTF-8.")
    else:
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "Windows-1252"
            except UnicodeDecodeError:
                _reject(file, "is not a text file we can read (not UTF-8, UTF-16 or Windows-1252). "
                              "Save it again as CSV UTF-8.")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        _reject(file, "The file is empty. Nothing was imported.")
    notice = f"{file}: read as {encoding} text" if encoding != "UTF-8" else None
    return Decoded(text, encoding, notice)


def _reject(file: str, message: str) -> None:
    raise ImportRejected([Problem(file, None, None, message)])


def choose_delimiter(text: str, *, sample_records: int = 50) -> str:
    """The allowlisted delimiter whose first records have the most consistent field counts (>1 field).

    >>> choose_delimiter("id;name;score\\n1;Ann;3,5\\n")
    ';'
    >>> choose_delimiter("name\\nAnn\\nBob\\n")
    ','
    """
    chosen = _choose_delimiter(text, sample_records=sample_records)
    assert chosen is not None  # a whole text always decides
    return chosen


def _choose_delimiter(text: str, *, sample_records: int = 50, complete: bool = True) -> str | None:
    """``choose_delimiter``; with ``complete=False`` ``text`` is only the first whole lines of the file, and
    the answer is None when the file's later lines could change it."""
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        counts = _field_counts(text, delimiter, sample_records, complete=complete)
        if counts is None:
            return None
        if not counts or counts[0] < 2:
            continue
        header = counts[0]
        consistent = sum(1 for c in counts if c == header) / len(counts)
        score = (consistent, header)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _field_counts(text: str, delimiter: str, wanted: int, *, complete: bool = True) -> list[int] | None:
    """Field counts of the first ``wanted`` non-blank records, reading only as much of the text as they need.

    The reader gets the whole lines of a prefix of the text (the prefix's last line, perhaps cut short, is
    held back). A record is trusted only while lines remain after it, since the reader may have stopped at
    the cut; when the lines run out first, the prefix grows. So the counts are exactly those of reading the
    whole text, without copying a 40 MB text for each delimiter tried. ``complete=False``: ``text`` is the
    start of a longer file, so its end is a cut too; None when the counts would need the lines after it.
    """
    size = 1 << 16
    while True:
        at_end = size >= len(text)
        whole = at_end and complete
        lines = io.StringIO(text if at_end else text[:size], newline="").readlines()
        if not whole:
            lines.pop()
        used = [0]
        counts: list[int] = []
        reader = csv.reader(_counted(lines, used), delimiter=delimiter)
        try:
            for record in reader:
                if not whole and used[0] >= len(lines):
                    break  # this record may be cut short: read more
                if not record or all(not cell.strip() for cell in record):
                    continue
                counts.append(len(record))
                if len(counts) >= wanted:
                    return counts
        except csv.Error:
            if whole or used[0] < len(lines):
                return counts
        if whole:
            return counts
        if at_end:
            return None
        size *= 4


def _counted(lines: list[str], used: list[int]):
    for line in lines:
        used[0] += 1
        yield line


def records(text: str, delimiter: str, *, file: str, max_rows: int | None = None) -> tuple[list[list[str]], list[int]]:
    """Every non-blank record and the sheet row it starts on. Raises ImportRejected on a quote never closed.

    >>> records('a,b\\r1,"x\\ny"\\r2,z\\r', ",", file="f.csv")
    ([['a', 'b'], ['1', 'x\\ny'], ['2', 'z']], [1, 2, 4])
    """
    max_rows = MAX_ROWS if max_rows is None else max_rows
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    starts: list[int] = []
    previous = 0
    try:
        for record in reader:
            start = previous + 1
            previous = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            rows.append(record)
            starts.append(start)
            if len(rows) > max_rows + 1:
                raise _too_many(file, max_rows)
    except csv.Error as error:
        start = previous + 1
        if "end of data" in str(error) or "EOF" in str(error):
            message = "a quote opened in this row is never closed. Add the closing quote mark (\")."
        else:
            message = f"this row could not be read ({error}). Check the quote marks in it."
        raise ImportRejected([Problem(file, start, None, message)]) from None
    return rows, starts


def _too_many(file: str, max_rows: int) -> ImportRejected:
    return ImportRejected([Problem(file, None, None,
                                   f"has more than {max_rows:,} rows; the limit is {max_rows:,} rows per file. "
                                   "Split it into smaller files.")])


def grid(text: str, delimiter: str, *, file: str, max_rows: int | None = None) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The fast path of ``records``: every non-blank record as a frame of ``str`` cells (columns
    0, 1, ...; the header is row 0) and the sheet row of each; or None when only ``records`` can
    read the text exactly (a quoted field spanning lines, CR-only line ends, a row longer than the
    first, quoting the ``csv`` module would refuse). Raises ImportRejected over ``max_rows``.

    >>> frame, rows = grid("a,b\\r\\n1,x\\r\\n\\r\\n2,z\\r\\n", ",", file="f.csv")
    >>> frame.values.tolist(), rows.tolist()
    ([['a', 'b'], ['1', 'x'], ['2', 'z']], [1, 2, 4])
    >>> grid('a,b\\n1,"x\\ny"\\n', ",", file="f.csv") is None
    True
    """
    max_rows = MAX_ROWS if max_rows is None else max_rows
    if "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    frame = _arrow_grid(text, delimiter, lines)
    if frame is None:
        try:
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str, keep_default_na=False,
                                na_filter=False, skip_blank_lines=False, engine="c", quoting=csv.QUOTE_MINIMAL)
        except (pd.errors.ParserError, ValueError, csv.Error):
            return None
        if len(frame) != lines:  # a record spans lines: only the csv module knows where each starts
            return None
        if '"' in text and not _quotes_strictly_valid(text, delimiter):
            return None
    filled = np.zeros(len(frame), dtype=bool)
    for column in frame.columns:
        filled |= (frame[column].str.strip() != "").to_numpy(dtype=bool)
    if filled.sum() > max_rows + 1:
        raise _too_many(file, max_rows)
    rows = np.flatnonzero(filled) + 1
    return (frame if filled.all() else frame.loc[filled].reset_index(drop=True)), rows


def _arrow_grid(text: str, delimiter: str, lines: int) -> pd.DataFrame | None:
    """The common big file (no blank lines, every row as wide as the first) read by pyarrow's CSV reader,
    several times faster than pandas' C parser. Rows holding a quote mark are read again by the ``csv``
    module, one line each, and must come out the same. None whenever anything differs or fails: the
    caller then takes pandas' path, as before.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not text or text.startswith("\n") or "\n\n" in text:
        return None
    first = text[: text.find("\n")] if "\n" in text else text
    try:
        width = len(next(csv.reader([first], delimiter=delimiter, strict=True)))
    except (csv.Error, StopIteration):
        return None
    table = _arrow_strings(io.BytesIO(text.encode("utf-8")), width, delimiter, ignore_empty_lines=True)
    if table is None or table.num_rows != lines:
        return None
    if '"' in text and not _quoted_lines_agree(
            pc.list_flatten(pc.split_pattern(pa.array([text], type=pa.large_string()), "\n")), delimiter, table):
        return None
    return pd.DataFrame({i: pd.Series(table.column(i), dtype="str") for i in range(width)})


def _arrow_strings(source: object, width: int, delimiter: str, *, ignore_empty_lines: bool) -> object:
    """``width`` string columns (c0, c1...) read by pyarrow's CSV reader with the ``csv`` module's quoting rules
    and no quoted newlines (the callers check those); None when pyarrow refuses the text."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [f"c{i}" for i in range(width)]
    try:
        return pa_csv.read_csv(
            source,
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                              escape_char=False, newlines_in_values=False,
                                              ignore_empty_lines=ignore_empty_lines),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None


@dataclass(frozen=True)
class ArrowRead:
    """A CSV file read by ``arrow_read``: its header record, and every other line as one row of ``table``
    (string columns; row ``i`` is sheet row ``i + 2``, blank lines included as rows of ``""``)."""

    header: list[str]
    table: object  # pyarrow.Table
    delimiter: str


#: Bytes of a file's start decoded to choose the delimiter on the fast path (whole lines of it).
_HEAD_BYTES = 1 << 20


def arrow_read(data: bytes) -> ArrowRead | None:
    """The fast path for big CSV files, straight from the bytes: pyarrow's CSV reader, no Python text.

    Taken only when the answer is exactly what ``decode``, ``choose_delimiter`` and ``grid``/``records``
    give: UTF-8 (pyarrow checks every cell; a file with any other byte is not UTF-8 and goes the old way),
    no NUL, no CR-only line end, every line exactly as wide as the header, and each line holding a quote
    mark read the same by the ``csv`` module. Anything else: None, and the caller takes the old paths.
    """
    import pyarrow as pa

    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), start) or data.startswith(codecs.BOM_UTF8, start):
        return None
    if b"\x00" in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None
    end = data.find(b"\n", start)
    if end < 0:
        return None
    cut = len(data) if len(data) - start <= _HEAD_BYTES else data.rfind(b"\n", start, start + _HEAD_BYTES) + 1
    try:
        first = data[start:end].decode("utf-8")
        head = data[start:cut].decode("utf-8")
    except UnicodeDecodeError:
        return None
    first = first[:-1] if first.endswith("\r") else first
    delimiter = _choose_delimiter(head, complete=cut == len(data))
    if delimiter is None:
        return None
    try:
        header = next(csv.reader([first], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration):
        return None
    if all(not cell.strip() for cell in header):  # a blank first record: the old paths skip it
        return None
    body = pa.py_buffer(data).slice(end + 1)
    table = _arrow_strings(pa.BufferReader(body), len(header), delimiter, ignore_empty_lines=False)
    if table is None or not table.num_rows:
        return None
    if data.find(b'"', end + 1) >= 0:
        # Without quote marks every line is one row (a blank line is a row of ""); with them a quoted
        # newline would join lines, so the lines are counted, and those holding a quote read again.
        lines = _lines(body)
        if len(lines) != table.num_rows or not _quoted_lines_agree(lines, delimiter, table):
            return None
    return ArrowRead(header, table, delimiter)


def _lines(data) -> object:
    """The lines of UTF-8 bytes (a pyarrow buffer) as an arrow string array, without their line ends
    (``\\n`` or ``\\r\\n``); text ending in a line end has no empty line after it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, pa.py_buffer(np.array([0, data.size], np.int64)), data])
    lines = pc.list_flatten(pc.split_pattern(whole, "\n"))
    if data.size and data[data.size - 1: data.size].to_pybytes() == b"\n":
        lines = lines.slice(0, len(lines) - 1)
    return pc.utf8_rtrim(lines, characters="\r")


def _quoted_lines_agree(lines, delimiter: str, table) -> bool:
    """Each line holding a quote mark reads the same in pyarrow as in the csv module (strict rules, one
    record per line). ``lines`` (an arrow string array) are the text's lines, line ``i`` read as row ``i``
    of ``table``. Lines whose every field is either wholly quoted with no quote inside (``"a, b"``) or
    unquoted with no quote (a spreadsheet's usual output) have only one reading, so they are picked out
    with one arrow regex pass; the csv module reads the others and each must equal its row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    d = {"\t": "\\t", "|": "\\|"}.get(delimiter, delimiter)
    field = f'(?:"[^"]*"|[^"{d}]*)'
    unsure = pc.and_(pc.match_substring(lines, '"'), pc.invert(pc.match_substring_regex(lines, f"^{field}(?:{d}{field})*$")))
    at = np.flatnonzero(unsure.to_numpy(zero_copy_only=False))
    if not len(at):
        return True
    reader = csv.reader(lines.take(pa.array(at)).to_pylist(), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error:
        return False
    # as many records as lines read, each record takes at least one line: so exactly one line each
    if len(records) != len(at) or reader.line_num != len(at):
        return False
    if any(len(r) != table.num_columns for r in records):
        return False
    rows = table.take(pa.array(at))
    return all(rows.column(j).to_pylist() == [r[j] for r in records] for j in range(table.num_columns))


def _quotes_strictly_valid(text: str, delimiter: str) -> bool:
    """Lines holding a quote mark parse, one line each, under the csv module's strict rules."""
    quoted = [line for line in text.split("\n") if '"' in line]
    try:
        for _ in csv.reader(quoted, delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return False
    return True
