"""The strict table reader against the one it replaced, on a REFLACX-size ``gaze.csv``.

Issue 10: the strict path (row shape, physical lines, header, encoding, line-break and range
checks, :func:`gazex_lib.data._csv.scan_table`) must stay fast: at most 1.5x the old reader.
Both sides read the same file in one process, alternating, best of ``--repeat``; the old side
is the previous fast path verbatim (pandas' C float parser on the required columns, then the
infinity check), which checked none of the above.

    python benchmarks/readers.py            # 100,000 rows x 16 columns, as one REFLACX reading
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gazex_lib.data import schema
from gazex_lib.data.reflacx import read_gaze


def old_read_numeric_table(path: Path, required) -> pd.DataFrame:
    """The reader before issue 10 (its fast path, which is what a clean file takes)."""
    raw = list(pd.read_csv(path, nrows=0).columns)
    use = {str(c).strip(): c for c in raw}
    df = pd.read_csv(path, usecols=[use[c] for c in required], dtype=np.float64,
                     na_values=[""], keep_default_na=False)
    df.columns = [str(c).strip() for c in df.columns]
    df = df[list(required)].reset_index(drop=True)
    assert not np.isinf(df.to_numpy()).any()
    return df


def write_gaze(path: Path, n: int, seed: int = 0) -> None:
    """A gaze.csv as the REFLACX writer formats it (CRLF, 3-decimal times, integer pixels,
    empty fields for blinks)."""
    rng = np.random.default_rng(seed)
    t = np.round(np.arange(n) / 1000.0 - 5.0, 3)
    x = rng.integers(0, 2544, n).astype(float)
    y = rng.integers(0, 3056, n).astype(float)
    blink = rng.random(n) < 0.03
    x[blink] = np.nan
    y[blink] = np.nan
    df = pd.DataFrame({"timestamp_sample": t, "x_position": x, "y_position": y,
                       "pupil_area_normalized": np.round(rng.random(n), 3),
                       "angular_resolution_x_pixels_per_degree": 94.0,
                       "angular_resolution_y_pixels_per_degree": 94.0,
                       "window_width": 0.99829, "window_level": 0.49841,
                       **{c: v for c, v in zip(schema.GAZE_COLUMNS[8:],
                                               (0, 0, 2544, 3056, 300, 0, 2100, 2160))}})
    with open(path, "w", newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\r\n", float_format="%.5g")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gaze.csv"
        write_gaze(path, args.rows)
        size = path.stat().st_size
        old, new = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            a = old_read_numeric_table(path, schema.GAZE_COLUMNS)
            old.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            b = read_gaze(path)
            new.append(time.perf_counter() - t0)
        pd.testing.assert_frame_equal(a, b)              # the same values, bit for bit
        o, s = min(old), min(new)
        print(f"gaze.csv: {args.rows:,} rows, {size / 1e6:.1f} MB; best of {args.repeat}")
        print(f"  old reader (no structure checks): {o * 1e3:7.1f} ms")
        print(f"  strict reader:                    {s * 1e3:7.1f} ms")
        print(f"  ratio strict / old: {s / o:.2f}x (goal: at most 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
