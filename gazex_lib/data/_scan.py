"""The structure check of a CSV file, before anything is parsed (issue 10's policy).

:func:`scan_table` checks what pandas would otherwise forgive or hide: rows whose field count
differs from the header's (on the fast path too), duplicate header names, bytes that are not
UTF-8, a last line without a line break, and it maps data rows to **physical** lines (blank
lines and multi-line quoted fields counted), which :func:`line_of` reports. The readers of
:mod:`gazex_lib.data._csv` build on it; see that module for the whole policy.
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np

__all__ = ["TableScan", "scan_table", "line_of", "decode_utf8"]

#: Physical line numbers of the data rows of files whose rows are not simply on lines 2, 3, ...
#: (blank lines, multi-line quoted fields): ``{str(path): array}``, set by :func:`scan_table`.
_IRREGULAR_LINES: dict[str, np.ndarray] = {}


def line_of(path: Path | str, row_pos: int) -> int:
    """The physical (1-based) line of the 0-based data row ``row_pos`` of ``path``."""
    lines = _IRREGULAR_LINES.get(str(path))
    if lines is not None and 0 <= row_pos < len(lines):
        return int(lines[row_pos])
    return row_pos + 2


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

    def __init__(self, path: Path, data: bytes, header: list[str], head_line: int, error: type):
        self.path, self.data, self.header, self.head_line = path, data, header, head_line
        self.lines: np.ndarray | None = None
        self.error = error

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


def decode_utf8(path: Path, data: bytes, error: type) -> str:
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


def _needs_csv_module(data: bytes) -> bool:
    """Quoted fields or lone-CR line ends: the byte counts of the fast path do not apply."""
    return b'"' in data or (b"\r" in data and b"\n" not in data)


def _shape(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    if _needs_csv_module(data):
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


def scan_table(path: Path | str, *, error: type,
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
    head_line = data[:len(data) - len(data.lstrip(b"\r\n"))].count(b"\n") + 1
    scan = TableScan(path, data, header, head_line, error)
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen:
            raise error(f"{path}: line {head_line}: column {name!r} appears twice in the header "
                        f"(fields {seen[name] + 1} and {k + 1}); which one holds the data is "
                        "ambiguous")
        seen[name] = k
    if _needs_csv_module(data):
        scan.exact()
    has_rows = b"\n" in data.strip(b"\r\n")     # a non-blank line after the header's
    if has_rows and not data.endswith(b"\n") and not data.endswith(b"\r"):
        last = data.rstrip(b"\r\n").count(b"\n") + 1
        raise error(f"{path}: line {last}: the file does not end with a line break; its last "
                    "line may be cut short (a partial copy?)")
    return scan
