"""The typed sections of ``configs/<profile>.yaml``: one frozen dataclass per YAML section.

No field has a default: every value is read from the profile's YAML file, so the paper's
numbers (and our budgets) are written once, in ``configs/``. :func:`build_section` turns a
YAML mapping into its section object; a missing or unknown key, or a value of the wrong type,
is a :class:`ConfigError` that names the file and the dotted key.

Sections whose objects the library already had keep them: ``synthetic`` is
:class:`gazex_lib.data.synthetic.config.SyntheticConfig`. The others are declared here and
taken as they are by the functions that need them (``load_base(config.model, ...)``).

Units are in the key names or in the comments of ``configs/ci.yaml``.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Mapping


class ConfigError(ValueError):
    """A configuration file or override that cannot be used as it is (names file and key)."""


# --- sections -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DataSection:
    """Reading REFLACX: ``window_lead_s`` (s before a sentence's first word that its gaze
    window starts; paper 2.0), ``trailing_words`` (``drop``: official; ``keep``), and
    ``check_before_run`` (validate every file under ``data_root`` once per data fingerprint
    before anything else, :mod:`gazex_lib.data.check`)."""
    window_lead_s: float
    trailing_words: str
    check_before_run: bool


@dataclass(frozen=True)
class ExploreSection:
    """Chapter 01: ``example_reading`` (``None``: picked by a rule) and
    ``max_gaze_points_plotted`` (count)."""
    example_reading: str | None
    max_gaze_points_plotted: int


@dataclass(frozen=True)
class GazeSection:
    """The key-frame recipe (paper values; see ``configs/ci.yaml`` for each key's meaning and
    the official value of every switch). Scales are fractions of the original film, sigma
    factors multiply ``px/deg × scale``, percents are in %."""
    recipe: str
    trim: tuple[float, float] | None
    scale: float
    cluster_sigma_factor: float
    render_sigma_factor: float
    threshold: float
    eps: float
    min_samples: int
    intensity_weight: float
    dbscan_method: str
    cluster_weighting: str
    min_clusters_for_frames: int
    darkness: float
    cluster_box_threshold: float
    holistic_top_percent: float
    holistic_nonzero_floor: bool
    shrink: str
    shrink_cluster: float
    shrink_holistic: float
    skip_empty_sentences: bool
    frame_fit: str
    frame_multiple: int


@dataclass(frozen=True)
class KeyframesSection:
    """The key-frame table stage: ``n_jobs`` (processes), ``save_frames`` (keep the uint8
    frames for the pretraining tasks), ``example_reading`` (chapter 02's example)."""
    n_jobs: int
    save_frames: bool
    example_reading: str | None


@dataclass(frozen=True)
class ModelSection:
    """The pretraining model (``gazex_lib.model.setup``): ``size`` (``tiny``/``small``/``2b``,
    only when ``model_path`` is None), the processor's pixel budgets (px), gradient
    checkpointing, LoRA (rank, alpha, dropout, target projections), ``train_merger`` and
    ``trainable_tokens`` (``none``/``answers``/``records``)."""
    size: str
    min_pixels: int
    max_pixels: int
    video_min_pixels: int
    video_max_pixels: int
    gradient_checkpointing: bool
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    lora_targets: tuple[str, ...]
    train_merger: bool
    train_vision: bool
    rope_theta: float
    trainable_tokens: str


@dataclass(frozen=True)
class TasksSection:
    """The pretraining mix (``gazex_lib.tasks.build_pretraining_records``)."""
    names: tuple[str, ...]
    ratios: dict | None
    n_records: int | None
    prompt_style: str
    coords: str | None
    holdout_phases: tuple[int, ...]
    split: str


@dataclass(frozen=True)
class HeldoutSection:
    """Chapter 03's held-out probes: records per task and split (``None``: every record),
    records per ``generate`` call, the generation budget factor (× the longest training answer, + 8 tokens), the
    MIMIC-CXR split names of the phase-3 validation and test readings (the multi-reader phases
    held out of pretraining join the test split), the image bootstrap (resamples, level), the
    power of the ceiling analysis's detectable difference, and whether the image-blind control
    (the same recipe trained on blanked media) runs."""
    max_per_task: int | None
    batch_size: int
    new_tokens_factor: float
    validation_split: str
    test_split: str
    n_boot: int
    ci_level: float
    power: float
    image_blind: bool


@dataclass(frozen=True)
class TrainSection:
    """The training loop's budgets (``gazex_lib.train.TrainConfig`` minus ``output_dir`` and
    ``seed``, which come from the run). Steps are optimiser steps."""
    lr: float
    max_steps: int | None
    epochs: float | None
    warmup_ratio: float
    warmup_steps: int | None
    batch_size: int
    grad_accum: int
    weight_decay: float
    max_grad_norm: float | None
    adam_betas: tuple[float, float]
    adam_eps: float
    mixed_precision: str
    log_every: int | None
    ckpt_every: int | None
    keep_checkpoints: int | None
    eval_every: int | None
    eval_batch_size: int | None
    max_length: int | None
    shuffle: bool
    drop_last: bool
    num_workers: int
    deterministic: bool


@dataclass(frozen=True)
class SyntheticDownstreamSection:
    """The synthetic downstream corpus (``gazex_lib.data.synthetic.downstream``), generated
    with the REFLACX data but from its own random stream: MIMIC-CXR studies without gaze
    (``n_studies``, split by patient in ``split_fractions``), the share of them of a REFLACX
    patient (``shared_patient_fraction``: the leakage audit has something to find), normal
    studies (``no_finding_fraction``), studies with a lateral film too (``lateral_fraction``), the
    planted certainty below which a finding is dictated hedged (``hedge_below``, label -1), how
    many absent findings a report denies (``negations``: inclusive range), MS-CXR-like pairs whose
    released split disagrees with MIMIC's (``ms_cxr_inconsistent_fraction``) or whose phrase does
    not locate the finding (``ms_cxr_unlocated_fraction``), VQA questions per study
    (``vqa_per_study``) and the share with an empty released split (``vqa_blank_split_fraction``),
    and IU X-ray reports (``n_iu``) with their films' size (``iu_image_size``, px)."""
    n_studies: int
    split_fractions: tuple[float, float, float]
    shared_patient_fraction: float
    no_finding_fraction: float
    lateral_fraction: float
    hedge_below: float
    negations: tuple[int, int]
    ms_cxr_inconsistent_fraction: float
    ms_cxr_unlocated_fraction: float
    vqa_per_study: int
    vqa_blank_split_fraction: float
    n_iu: int
    iu_image_size: tuple[int, int]


@dataclass(frozen=True)
class DownstreamSection:
    """How the downstream readers (``gazex_lib.data.downstream``) read the evaluation data:
    the MIMIC-CXR report text (``findings_or_impression``, ``findings``, ``impression``,
    ``findings_and_impression``) and its cleaning (``none`` or ``r2gen``), which IU X-ray image
    is the frontal film, the MS-CXR split policy (``consistent``, ``mimic``, ``released``), the
    VQA split policy (``released``, ``mimic``), and the fewest MS-CXR test pairs an analysis
    accepts."""
    report_section: str
    report_cleaning: str
    iu_frontal_index: int
    ms_cxr_split: str
    vqa_split: str
    min_test_pairs: int


@dataclass(frozen=True)
class LabellerSection:
    """The report labeller (``gazex_lib.eval.labellers.get_labeller``): CheXbert when
    ``chexbert_path`` names the public ``chexbert.pth`` (with ``tokenizer_path``, a local
    ``bert-base-uncased`` folder), the rule-based fallback when it is null; texts per CheXbert
    forward pass; ``device`` ``auto`` (CUDA when available), ``cpu`` or ``cuda``."""
    chexbert_path: str | None
    tokenizer_path: str | None
    batch_size: int
    device: str


@dataclass(frozen=True)
class StagesSection:
    """Cached stages (``gazex_lib.stages``): ``force`` lists stage names rebuilt on purpose
    even when an output with the same key exists (``[all]`` rebuilds every stage)."""
    force: tuple[str, ...]


def _synthetic_type():
    from gazex_lib.data.synthetic.config import SyntheticConfig

    return SyntheticConfig


#: YAML section name -> its type (a callable, so heavy imports stay lazy).
SECTION_TYPES = {
    "synthetic": _synthetic_type,
    "synthetic_downstream": lambda: SyntheticDownstreamSection,
    "data": lambda: DataSection,
    "explore": lambda: ExploreSection,
    "gaze": lambda: GazeSection,
    "keyframes": lambda: KeyframesSection,
    "model": lambda: ModelSection,
    "tasks": lambda: TasksSection,
    "heldout": lambda: HeldoutSection,
    "train": lambda: TrainSection,
    "downstream": lambda: DownstreamSection,
    "labeller": lambda: LabellerSection,
    "stages": lambda: StagesSection,
}


# --- building and checking ------------------------------------------------------------------------

#: Scalar annotations -> (accepted Python types, the word an error uses). ``bool`` is never
#: accepted for ``int`` or ``float`` (YAML's ``true`` is not a number).
_SCALARS = {bool: (bool, "true or false"), int: (int, "an integer"),
            float: ((int, float), "a number"), str: (str, "a string")}


def unknown_and_missing(cls, keys) -> tuple[list[str], list[str]]:
    """``(unknown, missing)``: ``keys`` that are not fields of dataclass ``cls`` (sorted), and
    its fields that ``keys`` lacks (in field order)."""
    fields = [f.name for f in dataclasses.fields(cls)]
    return sorted(set(keys) - set(fields)), [f for f in fields if f not in set(keys)]


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """``value`` as ``annotation`` says (YAML lists become tuples; an int is a valid float);
    anything else is a :class:`ConfigError` naming ``where``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: got {value!r}")
    if annotation is Any:
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if annotation is dict or origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if annotation in _SCALARS:
        accepted, word = _SCALARS[annotation]
        if not isinstance(value, accepted) or (annotation is not bool and isinstance(value, bool)):
            raise ConfigError(f"{where}: expected {word}, got {value!r}")
        return float(value) if annotation is float else value
    raise TypeError(f"{where}: unsupported annotation {annotation!r}")


def build_section(cls, values: Any, *, source: str, name: str):
    """``cls`` from the YAML mapping ``values`` of section ``name`` in file ``source``.

    Every field is required; unknown keys, missing keys and wrong types raise
    :class:`ConfigError` with ``source`` and the dotted key. The class's own
    ``__post_init__`` checks (ranges, choices) run too, and their errors are re-raised with
    the file and section named.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"{source}: section {name!r} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown, missing = unknown_and_missing(cls, values)
    if unknown:
        raise ConfigError(f"{source}: unknown key {name}.{unknown[0]} (known: {', '.join(fields)})")
    if missing:
        raise ConfigError(f"{source}: missing key {name}.{missing[0]}")
    kwargs = {f: _coerce(values[f], hints[f], f"{source}: {name}.{f}") for f in fields}
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: section {name!r}: {exc}") from exc


def section_dict(section) -> dict:
    """A section as plain JSON-able data (tuples as lists), for keys and result files."""
    def plain(v):
        if isinstance(v, (tuple, list)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return {f.name: plain(getattr(section, f.name)) for f in dataclasses.fields(section)}


__all__ = ["ConfigError", "DataSection", "ExploreSection", "GazeSection", "KeyframesSection",
           "ModelSection", "TasksSection", "HeldoutSection", "TrainSection", "SyntheticDownstreamSection", "DownstreamSection", "LabellerSection",
           "StagesSection",
           "SECTION_TYPES", "build_section", "section_dict", "unknown_and_missing"]
