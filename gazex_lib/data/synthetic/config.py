"""Settings of the synthetic REFLACX / MIMIC-CXR generator.

:class:`SyntheticConfig` mirrors the ``synthetic:`` section of ``configs/ci.yaml`` (same keys,
same defaults). The module constants below are fixed parameters of the *simulation model*
(how long a reader looks before dictating, how often they blink, ...): they shape the data but
are not budgets, so they are not in ``configs/``. Changing any of them changes the generated
bytes and must bump :data:`gazex_lib.data.synthetic.GENERATOR_VERSION`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class SyntheticConfig:
    """Generator settings: the ``synthetic`` section of ``configs/<profile>.yaml`` (the
    defaults named below are the ci profile's values, which live only in that file).

    Attributes:
        n_readings: total number of REFLACX readings (all phases; default 60). The
            ``n_readings`` argument of :func:`make_dataset` overrides it when given.
        image_size: ``(width, height)`` of every radiograph in original pixels (default
            ``(896, 1120)``). Gaze, fixations, ellipses and boxes use this pixel space.
        pixels_per_degree: nominal angular resolution in image pixels per degree of visual
            angle (default 30); each reading writes an integer close to it.
        sampling_rate_hz: raw gaze sampling rate in Hz (default 1000, EyeLink); at most 1000
            so that 3-decimal timestamps stay distinct.
        discard_fraction: share of readings flagged ``eye_tracking_data_discarded`` (default
            0.05). As in REFLACX, only multi-reader (phase 1/2) readings are discarded; at
            least one when ``n_readings >= 20``.
        jpeg_quality: PIL JPEG quality of the MIMIC-CXR-JPG images (default 90).
        multi_reader_images: ``(phase-1 images, phase-2 images)``, each read by all five
            readers (default ``(3, 3)``, as ci); ``None`` takes REFLACX's proportions of ``n_readings``
            (3032 -> 59, 50). Small datasets set it so that the multi-reader analyses have
            several images (ci: ``[3, 3]``). Phase 3 gets the remaining readings.
        split_fractions: ``(train, validate, test)`` shares of the images in each MIMIC-CXR
            split (REFLACX/MIMIC-like: ``(0.8, 0.1, 0.1)``): three non-negative numbers
            summing to 1. The phase-3 images and the multi-reader images are each split in
            these proportions (largest remainder, then shuffled), so the counts are exact;
            from ``MIN_READINGS_ALL_SPLITS`` readings on, every split with a positive share
            has at least one image.
        unlocated_fraction: share (in ``[0, 1]``) of the sentences about a finding that has a
            side or zone which are dictated without them ("There is a small nodule." instead of
            "There is a small nodule in the right upper lobe."), drawn per sentence from its own
            seeded stream, so that only the image or the gaze can locate those findings. The
            readers look and time their gaze exactly as for the located sentence (the gaze
            files do not depend on this value); the truth records ``located`` per sentence.
    """

    n_readings: int
    image_size: tuple[int, int]
    pixels_per_degree: float
    sampling_rate_hz: int
    discard_fraction: float
    jpeg_quality: int
    multi_reader_images: tuple[int, int] | None
    split_fractions: tuple[float, float, float]
    unlocated_fraction: float

    def __post_init__(self) -> None:
        if self.multi_reader_images is not None:
            k = tuple(int(v) for v in self.multi_reader_images)
            object.__setattr__(self, "multi_reader_images", k)
            if len(k) != 2 or min(k) < 0 or max(k) > 99:
                raise ValueError("multi_reader_images must be (phase-1 images, phase-2 images), each in "
                                 f"0..99, got {self.multi_reader_images!r}")
        size = tuple(int(v) for v in self.image_size)
        object.__setattr__(self, "image_size", size)
        if len(size) != 2 or min(size) < 128:
            raise ValueError(f"image_size must be (width, height), each >= 128, got {self.image_size!r}")
        if int(self.n_readings) < 1:
            raise ValueError(f"n_readings must be >= 1, got {self.n_readings!r}")
        if not 0 < float(self.pixels_per_degree) <= 1000:
            raise ValueError(f"pixels_per_degree must be in (0, 1000], got {self.pixels_per_degree!r}")
        if not 50 <= int(self.sampling_rate_hz) <= 1000:
            raise ValueError(f"sampling_rate_hz must be in [50, 1000], got {self.sampling_rate_hz!r}")
        if not 0 <= float(self.discard_fraction) < 0.5:
            raise ValueError(f"discard_fraction must be in [0, 0.5), got {self.discard_fraction!r}")
        if not 1 <= int(self.jpeg_quality) <= 100:
            raise ValueError(f"jpeg_quality must be in [1, 100], got {self.jpeg_quality!r}")
        try:
            fr = tuple(float(v) for v in self.split_fractions)
        except (TypeError, ValueError):
            fr = ()
        if len(fr) != 3 or not all(math.isfinite(v) and v >= 0 for v in fr) or abs(sum(fr) - 1) > 1e-6:
            raise ValueError("split_fractions must be three non-negative numbers (train, validate, test) "
                             f"summing to 1, got {self.split_fractions!r}")
        object.__setattr__(self, "split_fractions", fr)
        u = float(self.unlocated_fraction)
        if not 0 <= u <= 1:
            raise ValueError(f"unlocated_fraction must be in [0, 1], got {self.unlocated_fraction!r}")
        object.__setattr__(self, "unlocated_fraction", u)

    @classmethod
    def from_any(cls, config: "SyntheticConfig | Mapping[str, Any] | None") -> "SyntheticConfig":
        """``None`` -> the ``synthetic`` section of ``configs/ci.yaml``; a mapping -> that
        section with the mapping's keys replacing its values (unknown keys raise
        ``ValueError``)."""
        if config is None or isinstance(config, Mapping):
            from gazex_lib.config import load_config

            base = load_config("ci").synthetic
            if config is None:
                return base
        if isinstance(config, cls):
            return config
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a SyntheticConfig, a mapping or None, not {type(config).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown synthetic config keys {unknown}; known: {sorted(known)}")
        return dataclasses.replace(base, **dict(config))

    def to_dict(self) -> dict:
        """JSON-ready dict (``image_size`` as a list, as in the YAML)."""
        out = dataclasses.asdict(self)
        out["image_size"] = list(self.image_size)
        if self.multi_reader_images is not None:
            out["multi_reader_images"] = list(self.multi_reader_images)
        out["split_fractions"] = list(self.split_fractions)
        return out

    @property
    def width(self) -> int:
        return self.image_size[0]

    @property
    def height(self) -> int:
        return self.image_size[1]


# --- REFLACX proportions (3032 readings: 59 x 5 in phase 1, 50 x 5 in phase 2, 2487 in phase 3)
PHASE1_FRACTION = 295 / 3032   # ~ 9.7 %
PHASE2_FRACTION = 250 / 3032   # ~ 8.2 %
READERS_PER_MULTI_IMAGE = 5
MIN_READINGS_FOR_MULTI = 15    # below this, every reading is phase 3
MIN_READINGS_ALL_SPLITS = 30   # from here on, every split with a positive share has >= 1 image
MAX_DISCARDS_PER_IMAGE = 2     # a multi-reader image keeps >= 3 readings with gaze

# --- timeline of one reading (seconds, on the audio clock: 0 = start of dictation) ----
PRE_DICTATION_S = (5.0, 20.0)  # gaze starts at -U(5, 20) s
LOOK_S = (3.0, 7.0)            # gaze on a sentence's region before/while it is dictated
SPEECH_ONSET = (0.35, 0.9)     # the first word starts after this share of the look
COMPARE_PROB = 0.45           # a sentence's look is split with a comparison region (2 gaze foci)
COMPARE_SPLIT = (0.45, 0.7)    # share of the look spent on the sentence's own region first
PAUSE_S = (0.3, 1.5)           # after a sentence, before the next look begins
POST_DICTATION_S = (1.0, 4.0)  # gaze ends this long after the last word
MIN_SENTENCES = 3              # normal sentences fill up to this many

# --- words ------------------------------------------------------------------------
WORD_MS_MEDIAN = 280           # lognormal word duration (ms), sigma 0.3; with gaps ~2.5 words/s
WORD_GAP_MS = (20, 150)
MIN_READINGS_FOR_EDGE_CASES = 20  # from this size on, >= 1 reading with trailing words and one no-gaze sentence
TRAILING_WORDS_PROB = 0.04     # words after the last '.' (no closing period)
OTHER_FINDING_PROB = 0.04      # an "Other" free-text finding with its own sentence

# --- eye movements ----------------------------------------------------------------
SACCADE_MS = (20, 60)          # linear interpolation between fixations
BLINK_INTERVAL_S = (2.0, 6.0)
BLINK_MS = (80, 180)           # NaN rows in x, y and pupil
MIN_FIXATION_MS = 50           # shorter valid runs (split by a blink) are not fixations
TREMOR_DEG = 0.04              # per-sample jitter within a fixation (degrees)
DRIFT_DEG = 0.08               # drift over one fixation (degrees)
CALIBRATION_DEG = 0.15         # per-reading systematic offset (degrees)
OFF_IMAGE_GLANCES = (0, 3)     # fixations outside the image per reading (inclusive range)
NO_GAZE_SENTENCE_PROB = 0.05   # one sentence whose [start - lead, end] window has no valid gaze
NO_GAZE_LEAD_S = 2.0           # = data.window_lead_s of the configs (the paper's 2 s lead)
ZOOM_PROB = 0.05               # readings with a zoomed-in display segment
WINDOW_CHANGE_PROB = 0.10      # readings with a window width/level change

# --- screen (pixels) ----------------------------------------------------------------
SCREEN_SIZE = (3180, 2160)

# --- the MIMIC-CXR reports of the REFLACX images (the downstream corpus has its own, in configs/)
GAZE_REPORT_HEDGE_BELOW = 0.5   # a finding planted with a lower certainty (Beta(4, 1.5)) is dictated hedged (-1)
GAZE_REPORT_NEGATIONS = (1, 3)  # absent findings each report denies (inclusive range)
