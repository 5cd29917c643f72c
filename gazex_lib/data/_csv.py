"""Strict, locating CSV parsing shared by the REFLACX and MIMIC readers.

Every parse error names the file, the 1-based data row, the file line (header = line 1, so
line = row + 1) and the column, e.g.::

    .../gaze.csv: row 17 (line 18), column 'x_position': cannot parse 'abc' as a number

Conventions (those of the REFLACX writer, ``ricbl/eyetracking`` ``create_main_table.py``):

* An empty field is missing (NaN). The literal text ``nan``/``NaN`` is also read as missing.
  Nothing else is: pandas' default NA strings (``NA``, ``None``, ``null`` ...) are kept as text,
  because they are legitimate transcription words.
* Numbers may be written as ``405`` or ``405.0``; integer columns accept both but reject
  ``405.5``. Infinite values are rejected.
* Booleans are ``True``/``False`` (any case) or ``1``/``0``.
* Column order is free; every required column must be present (column names are stripped of
  surrounding spaces, as the official code does). Extra columns are tolerated and remembered
  (:func:`extra_columns`); the data check (``check-data``) lists them.

Numeric files (``gaze.csv`` has ~100k rows x 16 columns per reading) take a fast path
(pandas' C float parser); only when that fails is the file re-read as text and converted
column by column to find the first bad cell. Both paths give bit-identical values.

**Structure is checked before anything is parsed** (:func:`scan_table`, issue 10's policy:
structural damage is an error that names the file, the physical line and the column):

* every row has exactly as many fields as the header (a decimal comma ``1310,5``, a stray
  delimiter, a row cut short); checked on the fast numeric path too;
* the header has no duplicate names (after stripping spaces);
* the file is valid UTF-8 (the error names the line and the byte);
* the file ends with a line break once it has a data row (the writer ends every line with
  CRLF; a last line without one is a copy cut short, possibly inside a number: ``2160.0`` ->
  ``216``);
* line numbers are **physical**: blank lines (skipped, as pandas does) and quoted fields that
  span lines shift them, and every message says the line an editor shows.

Tolerated, with nothing to report: LF or CRLF line endings, a UTF-8 byte-order mark, quoted
fields, blank lines. Integer columns refuse values beyond ``2**53`` (no silent overflow),
and ``read_numeric_table`` checks each column against its declared sanity range
(``ranges``; :data:`gazex_lib.data.schema.SANITY_RANGES`).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from gazex_lib.data._scan import TableScan, line_of
from gazex_lib.data._scan import scan_table as _scan_table

#: Text read as a missing value (besides the empty field).
MISSING_TEXT = frozenset({"", "nan", "NaN", "NAN"})

_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


class DataFormatError(ValueError):
    """A data file that exists but does not follow its documented format."""


class ReflacxFormatError(DataFormatError):
    """A REFLACX file that does not follow the PhysioNet layout (message names file/row/column)."""


class MimicFormatError(DataFormatError):
    """A MIMIC-CXR(-JPG) table that does not follow the PhysioNet layout."""


class DownstreamFormatError(DataFormatError):
    """An IU X-ray, MS-CXR or Medical-CXR-VQA file that does not follow its released layout."""


#: Integers beyond this magnitude are not exact in float64 (and overflow int64 far sooner
#: than they look): refused.
MAX_INT = 2 ** 53


def where(path: Path | str, row_pos: int, column: str) -> str:
    """``"<path>: row R (line L), column 'c'"`` for the 0-based data row position ``row_pos``
    (``L`` the physical line, :func:`line_of`)."""
    return f"{path}: row {row_pos + 1} (line {line_of(path, row_pos)}), column {column!r}"


def scan_table(path: Path | str, *, error: type[DataFormatError] = ReflacxFormatError,
               data: bytes | None = None) -> TableScan:
    """:func:`gazex_lib.data._scan.scan_table` with the REFLACX error class by default."""
    return _scan_table(path, error=error, data=data)


def require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{what}: expected file {path} does not exist")


#: Columns a file has beyond those its reader needs: ``{str(path): [names]}`` (tolerated; the
#: data check lists them, :mod:`gazex_lib.data.check`).
_EXTRA_COLUMNS: dict[str, list[str]] = {}


def extra_columns(path: Path | str) -> list[str]:
    """The columns of ``path`` that its reader did not need, as of its last read."""
    return list(_EXTRA_COLUMNS.get(str(path), []))


def _check_columns(path: Path, columns: Sequence[str], required: Sequence[str],
                   error: type[DataFormatError]) -> None:
    extra = [c for c in columns if c not in required]
    if extra:
        _EXTRA_COLUMNS[str(path)] = extra
    else:
        _EXTRA_COLUMNS.pop(str(path), None)
    missing = [c for c in required if c not in columns]
    if missing:
        raise error(f"{path}: missing column(s) {missing}; expected columns {list(required)} "
                    f"(any order), found {list(columns)}")


def _parse(scan: TableScan, **kwargs) -> pd.DataFrame:
    """pandas on the scanned bytes, then the structure confirmed (:class:`TableScan`)."""
    try:
        df = pd.read_csv(io.BytesIO(scan.data), **kwargs)
    except pd.errors.ParserError as exc:
        scan.exact()                          # names the line with the wrong field count
        raise scan.error(f"{scan.path}: not a readable CSV file: {exc}") from None
    scan.confirm(len(df))
    return df


def read_text_table(path: Path, required: Sequence[str], *,
                    error: type[DataFormatError] = ReflacxFormatError) -> pd.DataFrame:
    """Read a CSV with every cell as ``str`` (empty field -> ``""``), required columns only.

    The structure is checked (:func:`scan_table`). Returns the required columns, in
    ``required`` order, with a 0-based RangeIndex; data row ``i`` is on physical line
    :func:`line_of` ``(path, i)`` (``i + 2`` unless blank lines or multi-line fields shift it).
    """
    path = Path(path)
    scan = scan_table(path, error=error)
    _check_columns(path, scan.header, required, error)
    df = _parse(scan, dtype=str, keep_default_na=False, na_filter=False)
    df.columns = scan.header
    return df[list(required)].reset_index(drop=True)


def read_header(path: Path, *, error: type[DataFormatError] = ReflacxFormatError) -> list[str]:
    """The column names of a CSV, stripped (duplicates refused)."""
    return scan_table(Path(path), error=error).header


def read_numeric_table(path: Path, required: Sequence[str], *,
                       error: type[DataFormatError] = ReflacxFormatError,
                       ranges: Mapping[str, tuple] | None = None) -> pd.DataFrame:
    """Read the ``required`` columns of an all-numeric CSV as float64 (NaN = missing).

    The structure is checked (:func:`scan_table`; an extra or missing field is an error here
    too). Fast path: pandas' C parser straight to float64. If it refuses a cell (or yields an
    infinity), the file is re-read as text to raise an error naming the first bad cell.
    ``ranges``: ``{column: (low, high)}`` sanity bounds (inclusive), checked on every
    non-missing value.
    """
    path = Path(path)
    scan = scan_table(path, error=error)
    _check_columns(path, scan.header, required, error)
    df = None
    try:
        df = _parse(scan, dtype=np.float64, na_values=[""], keep_default_na=False)
        df.columns = scan.header
        df = df[list(required)].reset_index(drop=True)
        if np.isinf(df.to_numpy()).any():
            df = None
    except ValueError as exc:
        if isinstance(exc, DataFormatError):
            raise
        df = None
    if df is None:
        text = read_text_table(path, required, error=error)
        df = pd.DataFrame({c: parse_float(text[c], path, c, error=error) for c in required})
    for col, (low, high) in (ranges or {}).items():
        if col in df.columns:
            check_values(df[col].to_numpy(), path, col, low=low, high=high, error=error)
    return df


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def parse_float(s: pd.Series, path: Path, column: str, *, allow_missing: bool = True,
                error: type[DataFormatError] = ReflacxFormatError) -> np.ndarray:
    """Text column -> float64 array; raises at the first cell that is not a finite number."""
    vals = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
    na = np.isnan(vals)
    if na.any():
        text = s.to_numpy(dtype=object)
        idx = np.flatnonzero(na)
        for i in idx:
            cell = str(text[i]).strip()
            if cell not in MISSING_TEXT:
                raise error(f"{where(path, i, column)}: cannot parse {text[i]!r} as a number")
        if not allow_missing:
            raise error(f"{where(path, int(idx[0]), column)}: missing value (empty field); "
                        "a number is required")
    inf = np.isinf(vals)
    if inf.any():
        i = _first_bad(inf)
        raise error(f"{where(path, i, column)}: cannot parse {s.iloc[i]!r} as a finite number")
    return vals


def check_values(vals: np.ndarray, path: Path, column: str, *, allow_missing: bool = True,
                 integer: bool = False, low: float | None = None, high: float | None = None,
                 error: type[DataFormatError] = ReflacxFormatError) -> None:
    """Validate an already-parsed float column (missing / integral / range)."""
    na = np.isnan(vals)
    if not allow_missing and na.any():
        raise error(f"{where(path, _first_bad(na), column)}: missing value (empty field); "
                    "a number is required")
    ok = ~na
    if integer:
        bad = ok & (vals != np.round(vals))
        if bad.any():
            i = _first_bad(bad)
            raise error(f"{where(path, i, column)}: cannot parse '{vals[i]:g}' as an integer")
    if low is not None or high is not None:
        bad = ok & (((vals < low) if low is not None else False)
                    | ((vals > high) if high is not None else False))
        if np.any(bad):
            i = _first_bad(np.asarray(bad))
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            raise error(f"{where(path, i, column)}: value {vals[i]:g} outside the allowed range "
                        f"[{lo}, {hi}]")


def parse_int(s: pd.Series, path: Path, column: str, *, allow_missing: bool = False,
              low: float | None = None, high: float | None = None,
              error: type[DataFormatError] = ReflacxFormatError) -> np.ndarray:
    """Text column -> int64 array (float64 with NaN when ``allow_missing``); ``405.0`` is 405."""
    vals = parse_float(s, path, column, allow_missing=allow_missing, error=error)
    big = ~np.isnan(vals) & (np.abs(vals) > MAX_INT)
    if big.any():
        i = _first_bad(big)
        raise error(f"{where(path, i, column)}: value {s.iloc[i]!r} is too large for an integer "
                    f"column (|value| > 2**53)")
    check_values(vals, path, column, allow_missing=allow_missing, integer=True, low=low,
                 high=high, error=error)
    if allow_missing and np.isnan(vals).any():
        return vals
    return vals.astype(np.int64)


def parse_bool(s: pd.Series, path: Path, column: str, *, allow_missing: bool = False,
               error: type[DataFormatError] = ReflacxFormatError) -> pd.Series:
    """Text column -> bool Series (pandas ``boolean`` with <NA> when ``allow_missing``)."""
    key = s.astype(str).str.strip().str.lower()
    out = key.map(_BOOL_TEXT)
    na = out.isna().to_numpy()
    if na.any():
        for i in np.flatnonzero(na):
            cell = s.iloc[i]
            if str(cell).strip() in MISSING_TEXT:
                if allow_missing:
                    continue
                raise error(f"{where(path, i, column)}: missing value (empty field); "
                            "expected True or False")
            raise error(f"{where(path, i, column)}: cannot parse {cell!r} as a boolean "
                        "(expected True or False)")
    if allow_missing:
        return out.astype("boolean")
    return out.astype(bool)


def parse_text(s: pd.Series, *, missing_as_nan: bool = True) -> pd.Series:
    """Text column as object dtype, empty fields -> NaN (or kept as ``""``)."""
    out = s.astype(object)
    if missing_as_nan:
        out = out.where(out != "", np.nan)
    return out
