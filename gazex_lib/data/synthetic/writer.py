"""Byte-level writers for the PhysioNet layouts (REFLACX CSVs, MIMIC tables, JPEGs).

REFLACX files are written the way ``create_main_table.save_csv`` wrote them: pandas
``to_csv(f, index=False)`` into a file opened with ``newline='\\r\\n'`` (CRLF). The large
per-sample files go through :func:`save_csv_fast`, which produces the *same bytes* as pandas
for already formatted columns (floats as ``numpy.astype(str)``, which is what pandas uses,
NaN as ``''``) about ten times faster; ``tests/test_synthetic.py`` checks the equality.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd


def save_csv(df: pd.DataFrame, path: Path) -> int:
    """REFLACX's ``save_csv``: CRLF, header, no index. Returns bytes written."""
    with open(path, mode="w", newline="\r\n", encoding="utf-8") as f:
        df.to_csv(f, index=False)
    return os.path.getsize(path)


def _by_unique(values: np.ndarray, fmt) -> np.ndarray:
    """Format each distinct value once (gaze columns repeat a few hundred values)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 1000:
        return fmt(values)
    uniq, inv = np.unique(values, return_inverse=True)
    if len(uniq) > len(values) // 2:
        return fmt(values)
    return fmt(uniq)[inv.ravel()]


def _float_fmt(values: np.ndarray) -> np.ndarray:
    out = values.astype(str).astype(object)
    out[np.isnan(values)] = ""
    return out


def _int_fmt(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    ok = ~np.isnan(values)
    out[ok] = values[ok].astype(np.int64).astype(str)
    return out


def float_strings(values: np.ndarray) -> np.ndarray:
    """Floats as pandas' ``to_csv`` writes them (``astype(str)``), NaN as ``''``."""
    return _by_unique(values, _float_fmt)


def int_strings(values: np.ndarray) -> np.ndarray:
    """The writer's 0-decimal format ``str(int(x))``, NaN as ``''``."""
    return _by_unique(values, _int_fmt)


def save_csv_fast(path: Path, header: Sequence[str], columns: Sequence[np.ndarray]) -> int:
    """CRLF CSV from string columns (no quoting needed: numbers and empty fields only).

    A column may hold several already comma-joined fields (e.g. constant display settings).
    """
    lines = [",".join(header)]
    lines += [",".join(row) for row in zip(*columns)]
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)


def frame_strings(df: pd.DataFrame) -> list[np.ndarray]:
    """String columns of a frame of floats / preformatted strings (for :func:`save_csv_fast`)."""
    out = []
    for c in df.columns:
        col = df[c]
        if col.dtype.kind == "f":
            out.append(float_strings(col.to_numpy()))
        else:
            out.append(col.astype(object).to_numpy())
    return out


def save_text(path: Path, text: str) -> int:
    """``transcription.txt``: the text, no trailing newline."""
    data = text.encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)


def save_bytes(path: Path, data: bytes) -> int:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(data)
    return len(data)


def save_csv_gz(df: pd.DataFrame, path: Path) -> int:
    """A gzipped LF CSV (MIMIC tables) with a fixed header (mtime 0, no file name)."""
    payload = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                compresslevel=6) as gz:
        gz.write(payload)
    return os.path.getsize(path)


def save_csv_lf(df: pd.DataFrame, path: Path) -> int:
    """A plain LF CSV (MIMIC-CXR sectioned reports)."""
    with open(path, mode="w", newline="", encoding="utf-8") as f:
        df.to_csv(f, index=False, lineterminator="\n")
    return os.path.getsize(path)
