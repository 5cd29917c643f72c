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
from gazex_lib.data._csv import ReflacxFormatError
from gazex_lib.data._scan import decode_utf8
from gazex_lib.data.reflacx_files import (
    ALL_LABELS, METADATA_OUTPUT_COLUMNS, load_metadata, read_chest_box, read_ellipses,
    read_fixations, read_gaze, read_metadata_file, read_words,
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


class DiscardedReadingError(LookupError):
    """Gaze-derived data requested for a reading with ``eye_tracking_data_discarded``."""

    def __init__(self, reading_id: str, what: str):
        self.reading_id = reading_id
        super().__init__(f"reading {reading_id!r} has eye_tracking_data_discarded=True: "
                         f"REFLACX ships no {what} for it")


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
