"""Reader for REFLACX v1.0.0 as PhysioNet ships it (``main_data/`` + ``gaze_data/``).

>>> ds = load_reflacx(root)                      # doctest: +SKIP
>>> ds.metadata.loc["P300R081391", "phase"]      # doctest: +SKIP
>>> ds.sentences("P300R081391")                  # doctest: +SKIP

Layout and formats: :mod:`gazex_lib.data.schema` and ``shared/research/reflacx_schema.md``.

Decisions:

* **Columns keep their REFLACX names** (units are in the names: ``timestamp_*`` seconds on the
  audio clock, negative before dictation; positions in original-image pixels;
  ``angular_resolution_*_pixels_per_degree``). Derived columns carry units too:
  fixations and words get ``duration_s``; words get ``sentence_index`` (-1 for dropped
  trailing words). Gaze is float64 with NaN kept (blinks, lost tracking): the quality
  report counts them, nothing is dropped here.
* **Metadata** is one row per reading, all phases found concatenated (phase, then file
  order) with a ``phase`` column; index = reading id (unnamed, so ``id`` is also a plain
  column without ambiguity). The label columns are the union of both label sets, sorted:
  certainties 0-5 as float64 (NaN where the phase lacks that label or the cell is empty),
  ``Support devices``/``Quality issue`` as pandas ``boolean`` (<NA> likewise), ``Other`` as
  text (NaN when empty). Extra columns in the files are ignored.
* **Discarded readings** (``eye_tracking_data_discarded``) have no gaze, fixations, words
  or transcript: asking for them raises :class:`DiscardedReadingError` (a ``LookupError``)
  naming the reading; their chest box and ellipses are readable.
* **Sentences** follow the official segmentation (:mod:`gazex_lib.data.sentences`):
  words up to and including ``'.'``, text ``' '.join(words)``, window
  ``[start - window_lead_s, end]``. Words after the last ``'.'`` are dropped
  (``trailing_words="drop"``, official) or kept as a final sentence flagged
  ``trailing=True`` (``"keep"``); either way they are counted by the quality report.
* **Validation** (issue 10's policy, :mod:`gazex_lib.data.faults`): a malformed file
  (structural damage: row shape, encoding, unparsable, overflowing or out-of-range numbers,
  missing columns) raises :class:`ReflacxFormatError` naming file, physical line and column
  (:mod:`gazex_lib.data._csv`). A file that parses but describes something impossible (words
  out of time order, a transcript that disagrees with its words, a fixation or word that ends
  before it starts, no fixation at all, an inverted box) is a **domain fault**: the reading is
  counted under its reason (:meth:`ReflacxDataset.reading_faults`, the quality report) and the
  accessors of the faulty file raise :class:`ReadingFaultError`, so nothing is built on it.
  ``strict=True`` makes domain faults errors too.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from gazex_lib.data import labels as _labels
from gazex_lib.data import schema
from gazex_lib.data._csv import (
    ReflacxFormatError, check_values, decode_utf8, line_of, parse_bool, parse_float, parse_int,
    parse_text, read_numeric_table, read_text_table, where,
)
from gazex_lib.data.faults import FaultChecks, ReadingFaultError
from gazex_lib.data.sentences import (
    TRAILING_MODES, segment_sentences, trailing_word_count, word_sentence_index,
)

__all__ = [
    "load_reflacx", "ReflacxDataset", "DiscardedReadingError", "ReflacxFormatError",
    "read_metadata_file", "read_fixations", "read_gaze", "read_words", "read_chest_box",
    "read_ellipses", "ALL_LABELS", "METADATA_OUTPUT_COLUMNS", "ReadingFaultError",
]

#: Every label column of either label set, sorted (the metadata's label columns).
ALL_LABELS = sorted(set(_labels.REFLACX_PHASE1_LABELS) | set(_labels.REFLACX_PHASE23_LABELS))
_BOOL_LABELS = sorted(set(_labels.BOOLEAN_LABELS[1]) | set(_labels.BOOLEAN_LABELS[2]))
_CERTAINTY_LABELS = [c for c in ALL_LABELS if c not in _BOOL_LABELS and c != _labels.FREE_TEXT_LABEL]

#: Columns of :attr:`ReflacxDataset.metadata`, in order.
METADATA_OUTPUT_COLUMNS = ["id", "phase", *schema.METADATA_COLUMNS[1:], *ALL_LABELS]


class DiscardedReadingError(LookupError):
    """Gaze-derived data requested for a reading with ``eye_tracking_data_discarded``."""

    def __init__(self, reading_id: str, what: str):
        self.reading_id = reading_id
        super().__init__(f"reading {reading_id!r} has eye_tracking_data_discarded=True: "
                         f"REFLACX ships no {what} for it")


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


# --- dataset ------------------------------------------------------------------------------

def _metadata_path(main_data: Path, phase: int) -> Path:
    return main_data / f"metadata_phase_{phase}.csv"


def load_metadata(main_data: Path) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """All ``metadata_phase_N.csv`` found under ``main_data``, concatenated and typed."""
    main_data = Path(main_data)
    frames, phases = [], []
    for phase in schema.PHASES:
        path = _metadata_path(main_data, phase)
        if path.is_file():
            frames.append(read_metadata_file(path, phase))
            phases.append(phase)
    if not frames:
        expected = [str(_metadata_path(main_data, p)) for p in schema.PHASES]
        raise FileNotFoundError(f"no REFLACX metadata file found; expected at least one of {expected}")
    meta = pd.concat([f.reindex(columns=METADATA_OUTPUT_COLUMNS) for f in frames],
                     ignore_index=True)
    dup = meta["id"].duplicated(keep=False)
    if dup.any():
        rid = meta.loc[dup, "id"].iloc[0]
        places = [f"{_metadata_path(main_data, ph)} row {i + 1} (line {line_of(_metadata_path(main_data, ph), i)})"
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


def _check_options(window_lead_s: float, trailing_words: str) -> None:
    if trailing_words not in TRAILING_MODES:
        raise ValueError(f"trailing_words must be one of {TRAILING_MODES}, got {trailing_words!r}")
    if not np.isfinite(window_lead_s) or window_lead_s < 0:
        raise ValueError(f"window_lead_s must be a finite number >= 0, got {window_lead_s!r}")


def load_reflacx(root, *, window_lead_s: float | None = None, trailing_words: str | None = None,
                 cache_size: int = 8, strict: bool = False) -> "ReflacxDataset":
    """Open a REFLACX tree: ``root/main_data/metadata_phase_{1,2,3}.csv`` (a subset of phases
    is allowed; see ``.phases``), ``root/main_data/<id>/`` and ``root/gaze_data/<id>/``.

    ``window_lead_s`` (s) and ``trailing_words`` set the defaults of
    :meth:`ReflacxDataset.sentences`; ``None`` takes them from the ``data`` section of
    ``configs/ci.yaml`` (paper: 2.0 s, ``drop``). ``gazex_lib.setup`` passes its profile's
    values. ``strict=True`` raises on domain faults too (module docstring). Raises
    ``FileNotFoundError`` naming the missing path when ``root``, ``root/main_data`` or every metadata file is absent.
    """
    if window_lead_s is None or trailing_words is None:
        from gazex_lib.config import load_config

        data = load_config("ci").data
        window_lead_s = data.window_lead_s if window_lead_s is None else window_lead_s
        trailing_words = data.trailing_words if trailing_words is None else trailing_words
    _check_options(window_lead_s, trailing_words)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"REFLACX root {root} is not a directory")
    main_data = root / "main_data"
    if not main_data.is_dir():
        hint = ""
        if (root / schema.REFLACX_DIR / "main_data").is_dir():
            hint = f" (did you mean {root / schema.REFLACX_DIR}?)"
        raise FileNotFoundError(f"REFLACX root {root} has no main_data/ folder: expected "
                                f"{main_data}{hint}")
    metadata, phases = load_metadata(main_data)
    return ReflacxDataset(root, metadata, phases, window_lead_s=window_lead_s,
                          trailing_words=trailing_words, cache_size=cache_size, strict=strict)


class ReflacxDataset(FaultChecks):
    """A REFLACX tree with typed, validated, lazily loaded per-reading tables.

    Per-reading tables are cached (LRU, ``cache_size`` readings per kind); every accessor
    returns a fresh copy, so callers may modify what they get.
    """

    def __init__(self, root: Path, metadata: pd.DataFrame, phases: tuple[int, ...], *,
                 window_lead_s: float, trailing_words: str, cache_size: int = 8,
                 strict: bool = False):
        _check_options(window_lead_s, trailing_words)
        self.strict = bool(strict)
        self._faults: dict[tuple[str, str], dict] = {}
        self.root = Path(root)
        self.main_data = self.root / "main_data"
        self.gaze_data = self.root / "gaze_data"
        self.metadata = metadata
        self.phases = tuple(phases)
        self.window_lead_s = float(window_lead_s)
        self.trailing_words = trailing_words
        cache = functools.lru_cache(maxsize=cache_size)
        self._load_fixations = cache(lambda i: read_fixations(self._file(i, "fixations")))
        self._load_gaze = cache(lambda i: read_gaze(self.gaze_path(i)))
        self._load_words = cache(lambda i: read_words(self._file(i, "words")))
        self._load_chest_box = cache(lambda i: read_chest_box(self._file(i, "chest_box")))
        self._load_ellipses = cache(
            lambda i: read_ellipses(self._file(i, "ellipses"), int(self.metadata.at[i, "phase"])))
        self._labels: pd.DataFrame | None = None

    # -- metadata ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.metadata)

    def __contains__(self, reading_id) -> bool:
        return reading_id in self.metadata.index

    def __repr__(self) -> str:
        n_disc = int(self.metadata["eye_tracking_data_discarded"].sum())
        return (f"ReflacxDataset(root={str(self.root)!r}, phases={self.phases}, "
                f"readings={len(self)}, discarded={n_disc})")

    @property
    def has_gaze_data(self) -> bool:
        """Whether ``gaze_data/`` is present (it is large; main_data alone is readable)."""
        return self.gaze_data.is_dir()

    @property
    def labels(self) -> pd.DataFrame:
        """The 14 CheXbert labels per reading (1/0/NaN), row-aligned with ``metadata``."""
        if self._labels is None:
            self._labels = _labels.to_chexbert(self.metadata)
        return self._labels

    def reading(self, reading_id: str) -> pd.Series:
        """The metadata row of one reading. Unknown id -> ``KeyError`` naming it."""
        self._check_id(reading_id)
        return self.metadata.loc[reading_id]

    def is_discarded(self, reading_id: str) -> bool:
        self._check_id(reading_id)
        return bool(self.metadata.at[reading_id, "eye_tracking_data_discarded"])

    def ids(self, phase: int | None = None, discarded: bool | None = False) -> list[str]:
        """Reading ids in metadata order.

        ``phase``: keep one phase (or an iterable of phases); ``None`` = all.
        ``discarded``: ``False`` (default) = only readings with eye-tracking data,
        ``True`` = only discarded readings, ``None`` = both.
        """
        m = self.metadata
        keep = np.ones(len(m), dtype=bool)
        if phase is not None:
            wanted = [phase] if np.isscalar(phase) else list(phase)
            keep &= m["phase"].isin(wanted).to_numpy()
        if discarded is not None:
            keep &= (m["eye_tracking_data_discarded"].to_numpy() == bool(discarded))
        return m.index[keep].tolist()

    def iter_readings(self, phase: int | None = None,
                      discarded: bool | None = False) -> Iterator[tuple[str, pd.Series]]:
        """``(id, metadata row)`` for :meth:`ids` with the same filters."""
        for reading_id in self.ids(phase=phase, discarded=discarded):
            yield reading_id, self.metadata.loc[reading_id]

    # -- paths ------------------------------------------------------------------------------
    def _check_id(self, reading_id) -> None:
        if reading_id not in self.metadata.index:
            raise KeyError(f"unknown REFLACX reading id {reading_id!r}: not in the metadata "
                           f"files of {self.main_data} (phases {self.phases})")

    def _check_gaze_recorded(self, reading_id: str, what: str) -> None:
        if self.is_discarded(reading_id):
            raise DiscardedReadingError(reading_id, what)

    def reading_dir(self, reading_id: str) -> Path:
        self._check_id(reading_id)
        return self.main_data / reading_id

    def _file(self, reading_id: str, kind: str) -> Path:
        path = self.reading_dir(reading_id) / schema.READING_FILES[kind]
        if not path.is_file():
            raise FileNotFoundError(f"reading {reading_id!r}: expected file {path} does not exist")
        return path

    def gaze_path_exists(self, reading_id: str) -> bool:
        """Whether ``gaze_data/<id>/gaze.csv`` is there."""
        self._check_id(reading_id)
        return (self.gaze_data / reading_id / schema.GAZE_FILE).is_file()

    def gaze_path(self, reading_id: str) -> Path:
        self._check_id(reading_id)
        path = self.gaze_data / reading_id / schema.GAZE_FILE
        if not path.is_file():
            raise FileNotFoundError(f"reading {reading_id!r}: expected file {path} does not exist")
        return path

    # -- per-reading tables -----------------------------------------------------------------
    def fixations(self, reading_id: str) -> pd.DataFrame:
        """EyeLink fixations (REFLACX columns, float64) + ``duration_s``."""
        self._check_gaze_recorded(reading_id, "fixations.csv")
        self._check_usable(reading_id, "fixations")
        return self._load_fixations(reading_id).copy()

    def gaze(self, reading_id: str) -> pd.DataFrame:
        """Raw 1000 Hz gaze samples (REFLACX columns, float64, NaN kept)."""
        self._check_gaze_recorded(reading_id, "gaze.csv")
        return self._load_gaze(reading_id).copy()

    def words(self, reading_id: str) -> pd.DataFrame:
        """Timestamped words + ``duration_s`` + ``sentence_index`` (-1: dropped trailing word)."""
        self._check_gaze_recorded(reading_id, "timestamps_transcription.csv")
        self._check_usable(reading_id, "words")
        words = self._load_words(reading_id).copy()
        words["sentence_index"] = word_sentence_index(words, self.trailing_words)
        return words

    def trailing_word_count(self, reading_id: str) -> int:
        """Words after the last ``'.'`` (dropped by the official segmentation)."""
        self._check_gaze_recorded(reading_id, "timestamps_transcription.csv")
        self._check_usable(reading_id, "words")
        return trailing_word_count(self._load_words(reading_id))

    def sentences(self, reading_id: str, *, window_lead_s: float | None = None,
                  trailing_words: str | None = None) -> pd.DataFrame:
        """Sentences with their gaze windows (see :mod:`gazex_lib.data.sentences`).

        Columns: ``sentence_index, text, timestamp_start_s, timestamp_end_s, window_start_s,
        window_end_s, n_words, first_word_index, last_word_index, trailing``. A sentence is
        the words up to and including ``'.'``; ``text = ' '.join(words)``; the window is
        ``[start - window_lead_s, end]``. Trailing words after the last ``'.'`` are dropped
        (``"drop"``, the official behaviour) or returned as a last sentence with
        ``trailing=True`` (``"keep"``). Defaults come from :func:`load_reflacx`.
        """
        lead = self.window_lead_s if window_lead_s is None else window_lead_s
        mode = self.trailing_words if trailing_words is None else trailing_words
        _check_options(lead, mode)
        self._check_gaze_recorded(reading_id, "timestamps_transcription.csv")
        self._check_usable(reading_id, "words")
        return segment_sentences(self._load_words(reading_id), window_lead_s=lead,
                                 trailing_words=mode)

    def transcription(self, reading_id: str) -> str:
        """``transcription.txt`` as written (no trailing newline in the real files)."""
        self._check_gaze_recorded(reading_id, "transcription.txt")
        self._check_usable(reading_id, "words")
        return self._read_transcription(reading_id)

    def _read_transcription(self, reading_id: str) -> str:
        path = self._file(reading_id, "transcription")
        return decode_utf8(path, path.read_bytes(), ReflacxFormatError)

    def chest_box(self, reading_id: str) -> pd.DataFrame:
        """One row, int64 ``xmin, ymin, xmax, ymax`` in original pixels (present even if discarded)."""
        self._check_id(reading_id)
        self._check_usable(reading_id, "chest_box")
        return self._load_chest_box(reading_id).copy()

    def ellipses(self, reading_id: str) -> pd.DataFrame:
        """Anomaly ellipses (bounding boxes, certainty, one bool per label of the phase)."""
        self._check_id(reading_id)
        self._check_usable(reading_id, "ellipses")
        return self._load_ellipses(reading_id).copy()
