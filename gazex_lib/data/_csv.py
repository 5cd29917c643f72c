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

import codecs
import csv
import io
from pathlib import Path
from typing import Mapping, Sequence

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


#: Physical line numbers of the data rows of files whose rows are not simply on lines 2, 3, ...
#: (blank lines, multi-line quoted fields): ``{str(path): array}``, set by :func:`scan_table`.
_IRREGULAR_LINES: dict[str, np.ndarray] = {}
#: Integers beyond this magnitude are not exact in float64 (and overflow int64 far sooner
#: than they look): refused.
MAX_INT = 2 ** 53


def line_of(path: Path | str, row_pos: int) -> int:
    """The physical (1-based) line of the 0-based data row ``row_pos`` of ``path``."""
    lines = _IRREGULAR_LINES.get(str(path))
    if lines is not None and 0 <= row_pos < len(lines):
        return int(lines[row_pos])
    return row_pos + 2


def where(path: Path | str, row_pos: int, column: str) -> str:
    """``"<path>: row R (line L), column 'c'"`` for the 0-based data row position ``row_pos``
    (``L`` the physical line, :func:`line_of`)."""
    return f"{path}: row {row_pos + 1} (line {line_of(path, row_pos)}), column {column!r}"


class TableScan:
    """What :func:`scan_table` learned of a file: its bytes (``data``, BOM removed), the
    ``header`` (stripped names) on physical line ``head_line``, and, once known, ``lines`` (the
    physical line of each data row; ``None`` while the rows are simply on lines 2, 3, ...).

    Unquoted files (the REFLACX writer quotes only a ``","`` token) are checked in two cheap
    steps: pandas parses the rows (it refuses a row with *more* fields than the header), then
    :meth:`confirm` compares the file's delimiter and line counts with what a well-formed file
    of that many rows has (so no row has *fewer* fields either, and no blank line moved the
    line numbers). Only when they disagree is every line counted, to name the bad one.
    """

    def __init__(self, path: Path, data: bytes, header: list[str], head_line: int,
                 lines: np.ndarray | None, error: type[DataFormatError]):
        self.path, self.data, self.header, self.head_line = path, data, header, head_line
        self.lines, self.error = lines, error

    def exact(self) -> np.ndarray:
        """Count the fields of every line; raise at the first row whose count differs from the
        header's; return (and register) the data rows' physical lines."""
        fields, lines = _shape(self.data)
        n = len(self.header)
        bad = np.flatnonzero(fields[1:] != n)
        if len(bad):
            i = int(bad[0])
            got = int(fields[1:][i])
            hint = ("a decimal comma, an unquoted comma inside a value or a stray delimiter?"
                    if got > n else "a row cut short or a missing delimiter?")
            raise self.error(f"{self.path}: line {int(lines[1:][i])}: {got} fields, the header "
                             f"(line {self.head_line}) has {n} ({hint})")
        self.lines = lines[1:]
        _register_lines(self.path, self.lines)
        return self.lines

    def confirm(self, n_rows: int) -> None:
        """After pandas parsed ``n_rows`` data rows: the structure holds (class docstring)."""
        if self.lines is not None:                           # quoted: counted already
            if len(self.lines) != n_rows:
                raise self.error(f"{self.path}: {n_rows} rows parsed where the structure check "
                                 f"found {len(self.lines)}; the file is not plain CSV")
            return
        buf = np.frombuffer(self.data, dtype=np.uint8)
        n_lines = int(np.count_nonzero(buf == 10)) + (0 if self.data.endswith(b"\n") else 1)
        n_commas = int(np.count_nonzero(buf == 44))
        if n_lines != n_rows + 1 or n_commas != (len(self.header) - 1) * (n_rows + 1):
            self.exact()
        else:
            _IRREGULAR_LINES.pop(str(self.path), None)


def _register_lines(path: Path, lines: np.ndarray) -> None:
    """Remember the data rows' physical lines when they are not simply 2, 3, ..."""
    key = str(path)
    if len(lines) and (lines[0] != 2 or lines[-1] != len(lines) + 1):
        _IRREGULAR_LINES[key] = lines.copy()
    else:
        _IRREGULAR_LINES.pop(key, None)


def decode_utf8(path: Path, data: bytes, error: type[DataFormatError]) -> str:
    """``data`` as UTF-8 text, or ``error`` naming the file, the line and the byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(f"{path}: line {line}, byte {col}: not valid UTF-8 "
                    f"({data[exc.start:exc.start + 1]!r}); the readers expect UTF-8 text (was "
                    "the file re-saved in another encoding?)") from None


def _fast_shape(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(field counts, 1-based line numbers)`` of the non-blank lines of unquoted CSV bytes."""
    if not len(buf):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nl = np.flatnonzero(buf == 10)
    ends = nl if buf[-1] == 10 else np.append(nl, len(buf))
    starts = np.concatenate([[0], nl + 1])[:len(ends)]
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    keep = (ends - starts - cr) > 0
    # commas per line: one pass over the bytes (reduceat sums each line's segment)
    commas = np.add.reduceat((buf == 44).view(np.uint8), starts[keep], dtype=np.int64)
    # reduceat runs each segment to the next start: a blank line skipped in between has no comma
    return commas + 1, np.flatnonzero(keep) + 1


def _slow_shape(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The same with Python's csv module (quoted fields, lone CR line ends): a record's line
    is the one it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    fields, lines, start = [], [], 1
    for row in reader:
        if row:
            fields.append(len(row))
            lines.append(start)
        start = reader.line_num + 1
    return np.asarray(fields, dtype=np.int64), np.asarray(lines, dtype=np.int64)


def _shape(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    if b'"' in data or (b"\r" in data and b"\n" not in data):
        return _slow_shape(data.decode("utf-8"))
    return _fast_shape(np.frombuffer(data, dtype=np.uint8))


def _header_fields(text: str) -> list[str]:
    """The fields of the first non-blank record (the header), parsed by the csv module."""
    reader = csv.reader(io.StringIO(text[:1 << 16] if '"' not in text[:1 << 16] else text,
                                    newline=""))
    for row in reader:
        if row:
            return row
    return []


def scan_table(path: Path | str, *, error: type[DataFormatError] = ReflacxFormatError,
               data: bytes | None = None) -> TableScan:
    """Check a CSV's structure (module docstring) and return its :class:`TableScan`; the
    reader then parses it and calls :meth:`TableScan.confirm` with the rows it got.

    Raises ``error`` naming the file and the physical line for: bytes that are not UTF-8, an
    empty file, duplicate header names, a row whose field count differs from the header's
    (here for quoted files, in ``confirm`` otherwise), a last line without a line break.
    ``data``: the file's bytes when already read (e.g. decompressed)."""
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    buf = np.frombuffer(data, dtype=np.uint8)
    if len(buf) and buf.max() >= 128:            # not ASCII: it must be valid UTF-8
        text = decode_utf8(path, data, error)
    else:
        text = data[:1 << 16].decode("ascii")     # ASCII is UTF-8; the header is all we need
    header = [str(c).strip() for c in _header_fields(text)]
    if not header:
        raise error(f"{path}: empty file; expected a header row")
    quoted = b'"' in data or (b"\r" in data and b"\n" not in data)
    lines = None
    head_line = data[:len(data) - len(data.lstrip(b"\r\n"))].count(b"\n") + 1
    scan = TableScan(path, data, header, head_line, None, error)
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen:
            raise error(f"{path}: line {head_line}: column {name!r} appears twice in the header "
                        f"(fields {seen[name] + 1} and {k + 1}); which one holds the data is "
                        "ambiguous")
        seen[name] = k
    if quoted:
        lines = scan.exact()
    has_rows = (len(lines) > 0) if lines is not None else \
        bool(data[data.find(b"\n") + 1:].strip()) if b"\n" in data else False
    if has_rows and not data.endswith(b"\n") and not data.endswith(b"\r"):
        last = data.rstrip(b"\r\n").count(b"\n") + 1
        raise error(f"{path}: line {last}: the file does not end with a line break; its last "
                    "line may be cut short (a partial copy?)")
    return scan


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
