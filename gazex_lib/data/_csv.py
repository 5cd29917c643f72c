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
* Column order is free and extra columns are ignored silently; every required column must
  be present (column names are stripped of surrounding spaces, as the official code does).

Numeric files (``gaze.csv`` has ~100k rows x 16 columns per reading) take a fast path
(pandas' C float parser); only when that fails is the file re-read as text and converted
column by column to find the first bad cell. Both paths give bit-identical values.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

#: Text read as a missing value (besides the empty field).
MISSING_TEXT = frozenset({"", "nan", "NaN", "NAN"})

_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


class DataFormatError(ValueError):
    """A data file that exists but does not follow its documented format."""


class ReflacxFormatError(DataFormatError):
    """A REFLACX file that does not follow the PhysioNet layout (message names file/row/column)."""


class MimicFormatError(DataFormatError):
    """A MIMIC-CXR(-JPG) table that does not follow the PhysioNet layout."""


def where(path: Path | str, row_pos: int, column: str) -> str:
    """``"<path>: row R (line L), column 'c'"`` for the 0-based data row position ``row_pos``."""
    return f"{path}: row {row_pos + 1} (line {row_pos + 2}), column {column!r}"


def require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{what}: expected file {path} does not exist")


def _check_columns(path: Path, columns: Sequence[str], required: Sequence[str],
                   error: type[DataFormatError]) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise error(f"{path}: missing column(s) {missing}; expected columns {list(required)} "
                    f"(any order), found {list(columns)}")


def read_text_table(path: Path, required: Sequence[str], *,
                    error: type[DataFormatError] = ReflacxFormatError) -> pd.DataFrame:
    """Read a CSV with every cell as ``str`` (empty field -> ``""``), required columns only.

    Returns the required columns, in ``required`` order, with a 0-based RangeIndex whose
    position ``i`` is data row ``i + 1`` (line ``i + 2``).
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise
    except pd.errors.EmptyDataError:
        raise error(f"{path}: empty file; expected a header row with columns "
                    f"{list(required)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not a readable CSV file: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    _check_columns(path, list(df.columns), required, error)
    df = df.loc[:, ~df.columns.duplicated()]
    return df[list(required)].reset_index(drop=True)


def _raw_header(path: Path, error: type[DataFormatError]) -> list:
    try:
        return list(pd.read_csv(path, nrows=0).columns)
    except pd.errors.EmptyDataError:
        raise error(f"{path}: empty file; expected a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not a readable CSV file: {exc}") from None


def read_header(path: Path, *, error: type[DataFormatError] = ReflacxFormatError) -> list[str]:
    """The column names of a CSV, stripped."""
    return [str(c).strip() for c in _raw_header(path, error)]


def read_numeric_table(path: Path, required: Sequence[str], *,
                       error: type[DataFormatError] = ReflacxFormatError) -> pd.DataFrame:
    """Read the ``required`` columns of an all-numeric CSV as float64 (NaN = missing).

    Fast path: pandas' C parser straight to float64. If it refuses a cell (or yields an
    infinity), the file is re-read as text to raise an error naming the first bad cell.
    """
    raw = _raw_header(path, error)
    stripped = [str(c).strip() for c in raw]
    _check_columns(path, stripped, required, error)
    use = {}
    for name, raw_name in zip(stripped, raw):
        use.setdefault(name, raw_name)
    try:
        df = pd.read_csv(path, usecols=[use[c] for c in required], dtype=np.float64,
                         na_values=[""], keep_default_na=False)
        df.columns = [str(c).strip() for c in df.columns]
        df = df[list(required)].reset_index(drop=True)
        if not np.isinf(df.to_numpy()).any():
            return df
    except (ValueError, pd.errors.ParserError):
        pass
    text = read_text_table(path, required, error=error)
    return pd.DataFrame({c: parse_float(text[c], path, c, error=error) for c in required})


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
