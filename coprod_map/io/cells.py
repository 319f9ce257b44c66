"""Spreadsheet-safe text cells: formulas in user text are never run, and the text survives a re-import.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some also act on a
leading tab, CR or LF). People's names and notes can start that way (``+44 20 ...``, ``-5``,
``=1+2``), so every exported text cell goes through one of two documented rules:

- **CSV** (bundle, Gephi CSVs, templates): ``neutralise(text)`` puts one apostrophe in front of
  such text: ``=1+2`` is written ``'=1+2``. Spreadsheets show the apostrophe; that is the price of
  safety (so ``+44 20 7946 0000`` opens as ``'+44 20 7946 0000``). Text that already starts with
  apostrophes followed by a dangerous character gains one more, so the rule can be undone exactly.
- **XLSX** (bundle workbook, Kumu workbook, templates): every text cell is a *string* cell
  (``data_type="s"``, never a formula), and a dangerous one also gets Excel's own "quote prefix"
  style, the same thing Excel stores when someone types ``'=1+2``. The value itself is the original
  text, so Excel shows ``=1+2`` and does not turn it into a formula when the cell is edited.
  ``xlsx_text(text)`` gives the value to store and whether to set the quote prefix.

Readers call ``restore(text)`` on every text cell read from CSV **or** XLSX. ``restore`` removes
exactly the apostrophe ``neutralise`` added, so ``restore(neutralise(t)) == t`` and
``restore(xlsx_text(t)[0]) == t`` for every string ``t``. Hand-typed text such as ``'tis`` is left
alone. Numbers are never passed through these functions: they stay numbers.

>>> neutralise("=1+2"), restore("'=1+2")
("'=1+2", '=1+2')
>>> neutralise("Amira"), neutralise("'tis"), restore("'tis")
('Amira', "'tis", "'tis")
>>> all(restore(neutralise(t)) == t for t in ["-5", "@SUM(1)", "'=x", "''+1", "\\tx", "", "'"])
True
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = [
    "DANGEROUS_STARTS",
    "is_dangerous",
    "neutralise",
    "neutralise_series",
    "json_value",
    "number_text",
    "restore",
    "strip_illegal_xml",
    "xlsx_text",
]

#: First characters a spreadsheet may treat as the start of a formula or command.
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

QUOTE = "'"

# Characters XML 1.0 cannot hold at all (openpyxl refuses them); tab, LF and CR are allowed.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet could run this text as a formula.

    >>> is_dangerous("+44 20 7946 0000"), is_dangerous("Riverside")
    (True, False)
    """
    return isinstance(text, str) and text.startswith(DANGEROUS_STARTS)


def _needs_quote(text: str) -> bool:
    # Text whose first non-apostrophe character is dangerous: one apostrophe more makes it inert,
    # and covers "'=x" so that restore() can always take exactly one apostrophe off again.
    return is_dangerous(text.lstrip(QUOTE))


def neutralise(text: str) -> str:
    """The text as it should be written to a CSV cell (apostrophe in front when dangerous)."""
    return QUOTE + text if _needs_quote(text) else text


def restore(text: str) -> str:
    """Undo ``neutralise``: drop one leading apostrophe that protects a dangerous start.

    Safe to call on any text from a CSV or XLSX cell, including text that was never neutralised.

    >>> restore("'+44 20 7946 0000"), restore("''=x"), restore("'quoted'")
    ('+44 20 7946 0000', "'=x", "'quoted'")
    """
    if isinstance(text, str) and text.startswith(QUOTE) and _needs_quote(text[1:]):
        return text[1:]
    return text


def xlsx_text(text: str) -> tuple[str, bool]:
    """``(value, quote_prefix)`` for an XLSX string cell holding ``text``.

    The value is the text itself, except that text beginning with apostrophes before a dangerous
    character gains one (so ``restore`` gives it back exactly). ``quote_prefix`` is True for every
    value a spreadsheet would otherwise run.

    >>> xlsx_text("=1+2"), xlsx_text("'=x"), xlsx_text("Riverside")
    (('=1+2', True), ("''=x", True), ('Riverside', False))
    """
    value = QUOTE + text if text.startswith(QUOTE) and _needs_quote(text) else text
    return value, _needs_quote(value)


def neutralise_series(values: pd.Series) -> pd.Series:
    """``neutralise`` over a column of text, vectorised (every value must be ``str``)."""
    text = values.astype(object)
    mask = text.str.lstrip(QUOTE).str.startswith(DANGEROUS_STARTS).fillna(False).astype(bool)
    return text.where(~mask, QUOTE + text.where(mask, ""))


def strip_illegal_xml(text: str) -> str:
    """Remove characters an XLSX/XML file cannot hold (NUL and other C0 controls but tab/CR/LF).

    The importers refuse such characters, so a saved project should not contain them; this keeps
    an export from failing if one slips through.
    """
    return _ILLEGAL_XML.sub("", text)


def json_value(value: Any) -> Any:
    """A cell as a plain JSON value: ``None`` for missing, lists of str, Python numbers (no numpy scalars).

    >>> json_value(pd.NA), json_value(["a", 1]), type(json_value(pd.Series([3]).iloc[0])).__name__
    (None, ['a', '1'], 'int')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def number_text(value: Any) -> str:
    """A number cell as file text: blank for a missing value, no ``.0`` on a whole number.

    >>> number_text(3.0), number_text(2.5), number_text(pd.NA), number_text(None), number_text(float("nan"))
    ('3', '2.5', '', '', '')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)
