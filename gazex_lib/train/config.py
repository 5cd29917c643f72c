"""The configuration of a training run: :class:`TrainConfig` (every budget, validated) and
:func:`config_from_profile` (the ``train`` section of ``configs/<profile>.yaml``)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gazex_lib.sections import TrainSection, unknown_and_missing

MIXED_PRECISION = ("no", "bf16")


@dataclass(frozen=True)
class TrainConfig(TrainSection):
    """Every budget of a training run: the ``train`` section of ``configs/<profile>.yaml``
    (:class:`gazex_lib.sections.TrainSection`, no defaults here) plus ``output_dir`` and
    ``seed``. Build it with :func:`config_from_profile`, or :meth:`from_dict` with every key
    (unknown or missing keys are an error, so a typo never falls back to a default).

    * ``max_steps`` (optimiser steps) **or** ``epochs`` (may be fractional): exactly one.
    * ``warmup_steps`` (if set) **or** ``warmup_ratio`` of the total steps; then cosine decay
      to 0 (``transformers.get_cosine_schedule_with_warmup``).
    * ``batch_size``: samples per micro-batch per process; ``grad_accum``: micro-batches per
      optimiser step. Effective batch = batch_size × grad_accum × processes.
    * ``max_grad_norm``: gradient clipping (``None`` = off). ``weight_decay`` applies to
      trainable matrices only (parameters with ``ndim >= 2``).
    * ``mixed_precision``: ``"no"`` or ``"bf16"`` (accelerate autocast).
    * ``log_every`` / ``ckpt_every`` / ``eval_every``: in optimiser steps (``None`` or 0 = never;
      a final log line and, with ``eval_records``, a final evaluation always happen).
    * ``keep_checkpoints``: keep the newest N checkpoints (``None`` = all).
    * ``max_length``: the collator's per-sample token limit (``None`` = none; never truncates).
    """

    output_dir: str
    seed: int

    def __post_init__(self):
        object.__setattr__(self, "output_dir", str(self.output_dir))
        object.__setattr__(self, "adam_betas", tuple(float(b) for b in self.adam_betas))
        errors = []
        if (self.max_steps is None) == (self.epochs is None):
            errors.append(f"give exactly one of max_steps / epochs (got {self.max_steps!r} / "
                          f"{self.epochs!r})")
        if self.max_steps is not None and (int(self.max_steps) != self.max_steps
                                           or self.max_steps <= 0):
            errors.append(f"max_steps must be a positive integer, got {self.max_steps!r}")
        if self.epochs is not None and not self.epochs > 0:
            errors.append(f"epochs must be positive, got {self.epochs!r}")
        if not self.lr > 0:
            errors.append(f"lr must be positive, got {self.lr!r}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            errors.append(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            errors.append(f"warmup_steps must be >= 0, got {self.warmup_steps!r}")
        for name in ("batch_size", "grad_accum"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                errors.append(f"{name} must be a positive integer, got {v!r}")
        for name in ("log_every", "ckpt_every", "eval_every", "keep_checkpoints",
                     "eval_batch_size", "max_length"):
            v = getattr(self, name)
            if v is not None and (int(v) != v or v < 0):
                errors.append(f"{name} must be a non-negative integer or None, got {v!r}")
        if self.weight_decay < 0:
            errors.append(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            errors.append(f"max_grad_norm must be positive or None, got {self.max_grad_norm!r}")
        if self.mixed_precision not in MIXED_PRECISION:
            errors.append(f"mixed_precision must be one of {MIXED_PRECISION}, got "
                          f"{self.mixed_precision!r}")
        if len(self.adam_betas) != 2 or not all(0 <= b < 1 for b in self.adam_betas):
            errors.append(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        if self.num_workers < 0:
            errors.append(f"num_workers must be >= 0, got {self.num_workers!r}")
        if errors:
            raise ValueError("invalid TrainConfig: " + "; ".join(errors))

    @classmethod
    def from_dict(cls, values: dict, **overrides) -> "TrainConfig":
        """``TrainConfig(**values, **overrides)``, rejecting unknown and missing keys by name."""
        merged = {**dict(values or {}), **overrides}
        unknown, missing = unknown_and_missing(cls, merged)
        if unknown:
            known = sorted(f.name for f in dataclasses.fields(cls))
            raise ValueError(f"unknown TrainConfig keys {unknown}; known: {known}")
        if missing:
            raise ValueError(f"missing TrainConfig keys {missing} (configs/<profile>.yaml, "
                             "section train, holds every default: use config_from_profile)")
        return cls(**merged)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d


def config_from_profile(cfg, output_dir, **overrides) -> TrainConfig:
    """``TrainConfig`` from a loaded profile (:class:`gazex_lib.config.Config`): its ``train``
    section, the profile's ``seed``, and ``output_dir``; ``overrides`` (e.g. the run's
    ``seed``) win."""
    section = {**cfg.section_dict("train"), "seed": cfg.seed}
    return TrainConfig.from_dict(section, output_dir=str(output_dir), **overrides)


__all__ = ["TrainConfig", "config_from_profile", "MIXED_PRECISION"]
