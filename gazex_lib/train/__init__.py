"""Training: the chat collator (per-turn label masking, no truncation, visual-token checks) and
the accelerate training loop (checkpoints with exact resume, per-task losses).

* :class:`ChatCollator`, :func:`collate_for_generation`, :func:`split_batch`,
  :func:`check_vision_tokens`, :class:`SampleTooLongError`, :class:`VisionTokenMismatchError`
* :class:`TrainConfig`, :func:`config_from_profile` (``config.py``), :class:`EpochSampler`
  (``sampler.py``), :func:`train` -> :class:`TrainResult`, :func:`evaluate` (``loop.py``),
  :func:`read_log`, :func:`list_checkpoints`, :func:`resolve_checkpoint` (``checkpoints.py``)

Importing this package does not import torch, transformers or accelerate; the functions do.
"""
from gazex_lib.train.checkpoints import list_checkpoints, read_log, resolve_checkpoint
from gazex_lib.train.collator import (IGNORE_INDEX, ChatCollator, RecordFormatError,
                                      SampleTooLongError, VisionTokenMismatchError,
                                      assistant_spans, check_vision_tokens,
                                      collate_for_generation, special_token_ids, split_batch)
from gazex_lib.train.config import TrainConfig, config_from_profile
from gazex_lib.train.loop import TrainResult, evaluate, train
from gazex_lib.train.losses import token_losses
from gazex_lib.train.sampler import EpochSampler

__all__ = [
    "IGNORE_INDEX", "ChatCollator", "RecordFormatError", "SampleTooLongError",
    "VisionTokenMismatchError", "assistant_spans", "check_vision_tokens",
    "collate_for_generation", "special_token_ids", "split_batch",
    "EpochSampler", "TrainConfig", "TrainResult", "config_from_profile", "evaluate",
    "list_checkpoints", "read_log", "resolve_checkpoint", "token_losses", "train",
]
