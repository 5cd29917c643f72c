"""The pretraining model from a profile: ``configs/<profile>.yaml`` section ``model``.

>>> model, processor = load_for_pretraining(cfg, model_path=None, train_records=records)  # doctest: +SKIP

Keys of the ``model`` section (all required, so a typo never falls back to a default):

``size``                 ``tiny`` / ``small`` / ``2b``, used only when ``model_path`` is None
``min_pixels`` ...       the processor's image and video pixel budgets (px)
``gradient_checkpointing``  on with ``use_reentrant=False`` (GPU profiles)
``lora_r`` / ``lora_alpha`` / ``lora_dropout`` / ``lora_targets``  LoRA on the LM projections
``train_merger``         train the vision -> LM merger in full (saved with the adapter)
``trainable_tokens``     ``none`` or ``answers``: also train the embedding rows of the tokens the
                         training answers use (:func:`gazex_lib.model.lora.answer_token_ids`;
                         the ci profile's random tiny model needs it, see :mod:`.lora`)
"""
from __future__ import annotations

from gazex_lib.model.loading import load_model
from gazex_lib.model.lora import answer_token_ids, apply_lora

__all__ = ["MODEL_KEYS", "processor_kwargs", "load_base", "add_adapters", "load_for_pretraining",
           "merged_copy"]

PIXEL_KEYS = ("min_pixels", "max_pixels", "video_min_pixels", "video_max_pixels")
MODEL_KEYS = ("size", *PIXEL_KEYS, "gradient_checkpointing", "lora_r", "lora_alpha",
              "lora_dropout", "lora_targets", "train_merger", "trainable_tokens")
TRAINABLE_TOKENS = ("none", "answers")


def _section(cfg: dict) -> dict:
    m = dict(cfg.get("model") or {})
    missing = [k for k in MODEL_KEYS if k not in m]
    unknown = sorted(set(m) - set(MODEL_KEYS))
    if missing or unknown:
        raise KeyError(f"configs 'model' section: missing {missing}, unknown {unknown}")
    if m["trainable_tokens"] not in TRAINABLE_TOKENS:
        raise ValueError(f"model.trainable_tokens must be one of {TRAINABLE_TOKENS}, "
                         f"got {m['trainable_tokens']!r}")
    return m


def processor_kwargs(cfg: dict) -> dict:
    """The pixel budgets of the profile, as ``load_model(processor_kwargs=...)`` takes them."""
    m = _section(cfg)
    return {k: int(m[k]) for k in PIXEL_KEYS}


def load_base(cfg: dict, model_path=None, *, seed: int = 0, device=None):
    """``(model, processor)`` without adapters: the checkpoint at ``model_path``, or the
    profile's ``size`` with random weights drawn from ``seed``."""
    m = _section(cfg)
    return load_model(model_path, size=m["size"], seed=seed, device=device,
                      gradient_checkpointing=bool(m["gradient_checkpointing"]),
                      processor_kwargs=processor_kwargs(cfg))


def add_adapters(model, processor, cfg: dict, train_records=None):
    """LoRA (and, with ``trainable_tokens: answers``, the answer-token rows of
    ``train_records``) on ``model`` as the profile says. Returns the peft model."""
    m = _section(cfg)
    token_ids = None
    if m["trainable_tokens"] == "answers":
        if not train_records:
            raise ValueError("model.trainable_tokens=answers needs the training records")
        token_ids = answer_token_ids(train_records, processor.tokenizer)
    return apply_lora(model, r=int(m["lora_r"]), alpha=int(m["lora_alpha"]),
                      dropout=float(m["lora_dropout"]), target=tuple(m["lora_targets"]),
                      train_merger=bool(m["train_merger"]), trainable_token_ids=token_ids)


def load_for_pretraining(cfg: dict, model_path=None, *, seed: int = 0, train_records=None,
                         device=None):
    """:func:`load_base` then :func:`add_adapters`: ``(peft_model, processor)``."""
    model, processor = load_base(cfg, model_path, seed=seed, device=device)
    return add_adapters(model, processor, cfg, train_records), processor


def merged_copy(model):
    """A plain (non-peft) copy of ``model`` with its adapters merged in, for fast generation
    (peft's trainable-token layer rebuilds the whole embedding at every decoding step); the
    model itself is untouched. A model without adapters is returned as is."""
    import copy

    if not hasattr(model, "merge_and_unload"):
        return model
    return copy.deepcopy(model).merge_and_unload()
