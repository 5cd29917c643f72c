"""The per-file readers of REFLACX v1.0.0 (pure functions of a path) and the metadata loader.

Each returns typed columns or raises :class:`~gazex_lib.data._csv.ReflacxFormatError` naming the
file, the physical line and the column (structural damage, :mod:`gazex_lib.data._csv`). Domain
faults (a word or fixation that ends before it starts, ...) are not errors here: the dataset
counts them (:mod:`gazex_lib.data.faults`). :mod:`gazex_lib.data.reflacx` re-exports them all.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gazex_lib.data import labels as _labels
from gazex_lib.data import schema
from gazex_lib.data._csv import (
    ReflacxFormatError, check_values, line_of, parse_bool, parse_float, parse_int, parse_text,
    read_numeric_table, read_text_table, where,
)

__all__ = ["ALL_LABELS", "METADATA_OUTPUT_COLUMNS", "read_metadata_file", "read_fixations",
           "read_gaze", "read_words", "read_chest_box", "read_ellipses", "load_metadata",
           "metadata_path"]

#: Every label column of either label set, sorted (the metadata's label columns).
ALL_LABELS = sorted(set(_labels.REFLACX_PHASE1_LABELS) | set(_labels.REFLACX_PHASE23_LABELS))
_BOOL_LABELS = sorted(set(_labels.BOOLEAN_LABELS[1]) | set(_labels.BOOLEAN_LABELS[2]))
_CERTAINTY_LABELS = [c for c in ALL_LABELS if c not in _BOOL_LABELS and c != _labels.FREE_TEXT_LABEL]

#: Columns of :attr:`ReflacxDataset.metadata`, in order.
METADATA_OUTPUT_COLUMNS = ["id", "phase", *schema.METADATA_COLUMNS[1:], *ALL_LABELS]

# --- per-file readers (pure functions of a path) -------------------------------------------

def read_metadata_file(path: Path, phase: int) -> pd.DataFrame:
    """Parse ``metadata_phase_{phase}.csv`` into typed columns (this phase's labels only)."""
    path = Path(path)
    phase_labels = list(_labels.phase_labels(phase))
    text = read_text_table(path, [*schema.METADATA_COLUMNS, *phase_labels])
    out = pd.DataFrame(index=text.index)
    for col in ("id", "split", "image", "dicom_id"):
        empty = (text[col].str.strip() == "").to_numpy()
        if empty.any():
            raise ReflacxFormatError(f"{where(path, int(np.flatnonzero(empty)[0]), col)}: "
                                     "missing value (empty field)")
    out["id"] = text["id"].str.strip().astype(object)
    out["phase"] = np.int64(phase)
    bad_split = ~text["split"].isin(schema.SPLITS).to_numpy()
    if bad_split.any():
        i = int(np.flatnonzero(bad_split)[0])
        raise ReflacxFormatError(f"{where(path, i, 'split')}: {text['split'].iloc[i]!r} is not a "
                                 f"MIMIC split; expected one of {list(schema.SPLITS)}")
    out["split"] = text["split"].astype(object)
    out["eye_tracking_data_discarded"] = parse_bool(text["eye_tracking_data_discarded"], path,
                                                    "eye_tracking_data_discarded")
    out["image"] = text["image"].astype(object)
    out["dicom_id"] = text["dicom_id"].astype(object)
    out["subject_id"] = parse_int(text["subject_id"], path, "subject_id", low=0)
    for col in ("image_size_x", "image_size_y"):
        out[col] = parse_int(text[col], path, col, low=schema.IMAGE_SIZE_RANGE[0],
                             high=schema.IMAGE_SIZE_RANGE[1])
    for col in phase_labels:
        if col in _BOOL_LABELS:
            out[col] = parse_bool(text[col], path, col, allow_missing=True)
        elif col == _labels.FREE_TEXT_LABEL:
            out[col] = parse_text(text[col])
        else:
            out[col] = parse_int(text[col], path, col, allow_missing=True, low=0,
                                 high=max(schema.CERTAINTY)).astype(np.float64)
    dup = out["id"].duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ReflacxFormatError(f"{where(path, i, 'id')}: duplicate reading id {out['id'].iloc[i]!r}")
    return out


def read_fixations(path: Path) -> pd.DataFrame:
    """``fixations.csv`` -> float64 REFLACX columns + ``duration_s`` (end - start; negative
    durations are a domain fault, :mod:`gazex_lib.data.faults`)."""
    path = Path(path)
    df = read_numeric_table(path, schema.FIXATION_COLUMNS, ranges=schema.SANITY_RANGES)
    for col in ("timestamp_start_fixation", "timestamp_end_fixation"):
        check_values(df[col].to_numpy(), path, col, allow_missing=False)
    df["duration_s"] = df["timestamp_end_fixation"] - df["timestamp_start_fixation"]
    return df


def read_gaze(path: Path) -> pd.DataFrame:
    """``gaze.csv`` -> float64 REFLACX columns, NaN kept (raw 1000 Hz samples)."""
    return read_numeric_table(Path(path), schema.GAZE_COLUMNS, ranges=schema.SANITY_RANGES)


def read_words(path: Path) -> pd.DataFrame:
    """``timestamps_transcription.csv`` -> ``word`` (str) + float64 timestamps + ``duration_s``."""
    path = Path(path)
    text = read_text_table(path, schema.WORD_COLUMNS)
    df = pd.DataFrame({"word": text["word"].astype(object)})
    for col in schema.WORD_COLUMNS[1:]:
        df[col] = parse_float(text[col], path, col, allow_missing=False)
        check_values(df[col].to_numpy(), path, col, low=schema.SANITY_RANGES[col][0],
                     high=schema.SANITY_RANGES[col][1])
    df["duration_s"] = df["timestamp_end_word"] - df["timestamp_start_word"]
    return df


def read_chest_box(path: Path) -> pd.DataFrame:
    """``chest_bounding_box.csv`` -> exactly one row of int64 ``xmin, ymin, xmax, ymax``."""
    path = Path(path)
    text = read_text_table(path, schema.CHEST_BOX_COLUMNS)
    if len(text) != 1:
        raise ReflacxFormatError(f"{path}: expected exactly one data row (the chest bounding "
                                 f"box), found {len(text)}")
    lo, hi = schema.BOX_RANGE
    return pd.DataFrame({c: parse_int(text[c], path, c, low=lo, high=hi)
                         for c in schema.CHEST_BOX_COLUMNS})


def read_ellipses(path: Path, phase: int) -> pd.DataFrame:
    """``anomaly_location_ellipses.csv`` -> int64 box + ``certainty`` + one bool per label.

    The label columns are those of the phase's label set; every row must have at least one
    True label (the writer asserts it). Zero rows (no ellipse drawn) is valid.
    """
    path = Path(path)
    phase_labels = list(_labels.phase_labels(phase))
    text = read_text_table(path, [*schema.ELLIPSE_COLUMNS, *phase_labels])
    lo, hi = schema.BOX_RANGE
    df = pd.DataFrame({c: parse_int(text[c], path, c, low=lo, high=hi)
                       for c in schema.ELLIPSE_COLUMNS[:4]})
    df["certainty"] = parse_int(text["certainty"], path, "certainty", low=0,
                                high=max(schema.CERTAINTY))
    for col in phase_labels:
        df[col] = parse_bool(text[col], path, col)
    none = ~df[phase_labels].to_numpy(dtype=bool).any(axis=1)
    if none.any():
        i = int(np.flatnonzero(none)[0])
        raise ReflacxFormatError(f"{path}: row {i + 1} (line {i + 2}): ellipse has no label set to "
                                 f"True; expected at least one of {phase_labels}")
    return df


def metadata_path(main_data: Path, phase: int) -> Path:
    return main_data / f"metadata_phase_{phase}.csv"


def load_metadata(main_data: Path) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """All ``metadata_phase_N.csv`` found under ``main_data``, concatenated and typed."""
    main_data = Path(main_data)
    frames, phases = [], []
    for phase in schema.PHASES:
        path = metadata_path(main_data, phase)
        if path.is_file():
            frames.append(read_metadata_file(path, phase))
            phases.append(phase)
    if not frames:
        expected = [str(metadata_path(main_data, p)) for p in schema.PHASES]
        raise FileNotFoundError(f"no REFLACX metadata file found; expected at least one of {expected}")
    meta = pd.concat([f.reindex(columns=METADATA_OUTPUT_COLUMNS) for f in frames],
                     ignore_index=True)
    dup = meta["id"].duplicated(keep=False)
    if dup.any():
        rid = meta.loc[dup, "id"].iloc[0]
        places = [f"{metadata_path(main_data, ph)} row {i + 1} (line {line_of(metadata_path(main_data, ph), i)})"
                  for ph, f in zip(phases, frames) for i in np.flatnonzero(f["id"].to_numpy() == rid)]
        n = int(meta.loc[dup, "id"].nunique())
        raise ReflacxFormatError(f"reading id {rid!r} is listed in several metadata files: "
                                 f"{' and '.join(places)}" + (f" ({n - 1} more id(s) too)" if n > 1 else ""))
    meta = meta.astype({"phase": np.int64, "eye_tracking_data_discarded": bool,
                        "subject_id": np.int64, "image_size_x": np.int64, "image_size_y": np.int64,
                        **{c: "boolean" for c in _BOOL_LABELS},
                        **{c: np.float64 for c in _CERTAINTY_LABELS},
                        _labels.FREE_TEXT_LABEL: object})
    meta.index = pd.Index(meta["id"].to_numpy(dtype=object), name=None)
    return meta, tuple(phases)
