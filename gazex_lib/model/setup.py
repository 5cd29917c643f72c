"""The pretraining model from a profile: ``configs/<profile>.yaml`` section ``model``.

>>> model, processor = load_for_pretraining(config.model, model_path=None, train_records=records)  # doctest: +SKIP

Every function takes the ``model`` section object (:class:`gazex_lib.sections.ModelSection`);
its keys (all required, so a typo never falls back to a default):

``size``                 ``tiny`` / ``small`` / ``2b``, used only when ``model_path`` is None
``min_pixels`` ...       the processor's image and video pixel budgets (px)
``gradient_checkpointing``  on with ``use_reentrant=False`` (GPU profiles)
``lora_r`` / ``lora_alpha`` / ``lora_dropout`` / ``lora_targets``  LoRA on the LM projections
``train_merger``         train the vision -> LM merger in full (saved with the adapter)
``train_vision``         ci only: train the whole (random) vision tower in full
``rope_theta``           ci only: the RoPE base of a random config (used when model_path is None)
``trainable_tokens``     ``none``, ``answers`` or ``records``: also train the embedding rows of the
                         tokens the training answers use (``records``: and their prompts'
                         words) (:func:`gazex_lib.model.lora.answer_token_ids`; the ci
                         profile's random tiny model needs it, see :mod:`.lora`)
"""
from __future__ import annotations

from gazex_lib.model.loading import load_model
from gazex_lib.model.lora import answer_token_ids, apply_lora

__all__ = ["processor_kwargs", "lora_kwargs", "load_base", "add_adapters", "load_for_pretraining",
           "merged_copy", "load_trained"]

PIXEL_KEYS = ("min_pixels", "max_pixels", "video_min_pixels", "video_max_pixels")
TRAINABLE_TOKENS = ("none", "answers", "records")


def _checked(model_cfg):
    """The ``model`` section (:class:`gazex_lib.sections.ModelSection`), its choices checked."""
    if model_cfg.trainable_tokens not in TRAINABLE_TOKENS:
        raise ValueError(f"model.trainable_tokens must be one of {TRAINABLE_TOKENS}, "
                         f"got {model_cfg.trainable_tokens!r}")
    return model_cfg


def processor_kwargs(model_cfg) -> dict:
    """The pixel budgets of a ``model`` section, as ``load_model(processor_kwargs=...)`` takes them."""
    return {k: int(getattr(model_cfg, k)) for k in PIXEL_KEYS}


def load_base(model_cfg, model_path=None, *, seed: int = 0, device=None):
    """``(model, processor)`` without adapters: the checkpoint at ``model_path``, or the
    section's ``size`` with random weights drawn from ``seed``."""
    m = _checked(model_cfg)
    return load_model(model_path, size=m.size, seed=seed, device=device,
                      gradient_checkpointing=bool(m.gradient_checkpointing),
                      processor_kwargs=processor_kwargs(m),
                      rope_theta=None if model_path is not None else m.rope_theta)


def add_adapters(model, processor, model_cfg, train_records=None):
    """LoRA (and, with ``trainable_tokens: answers``, the answer-token rows of
    ``train_records``) on ``model`` as the ``model`` section says. Returns the peft model."""
    m = _checked(model_cfg)
    token_ids = None
    if m.trainable_tokens in ("answers", "records"):
        if not train_records:
            raise ValueError(f"model.trainable_tokens={m.trainable_tokens} needs the training "
                             "records")
        roles = ("assistant",) if m.trainable_tokens == "answers" else ("user", "assistant")
        token_ids = answer_token_ids(train_records, processor.tokenizer, roles=roles)
    return apply_lora(model, **lora_kwargs(m), train_merger=bool(m.train_merger),
                      train_vision=bool(m.train_vision), trainable_token_ids=token_ids)


def lora_kwargs(model_cfg) -> dict:
    """``r``, ``alpha``, ``dropout`` and ``target`` of :func:`~gazex_lib.model.lora.apply_lora`
    from a ``model`` section."""
    return dict(r=int(model_cfg.lora_r), alpha=int(model_cfg.lora_alpha),
                dropout=float(model_cfg.lora_dropout), target=tuple(model_cfg.lora_targets))


def load_for_pretraining(model_cfg, model_path=None, *, seed: int = 0, train_records=None,
                         device=None):
    """:func:`load_base` then :func:`add_adapters`: ``(peft_model, processor)``."""
    model, processor = load_base(model_cfg, model_path, seed=seed, device=device)
    return add_adapters(model, processor, model_cfg, train_records), processor


def load_trained(model_cfg, model_path, adapter_dir, *, seed: int = 0, device=None):
    """``(peft_model, processor)``: the base model (as :func:`load_base`) with the adapter
    saved in ``adapter_dir`` (LoRA, merger and token rows) loaded, in eval mode."""
    from peft import PeftModel

    base, processor = load_base(model_cfg, model_path, seed=seed, device=device)
    return PeftModel.from_pretrained(base, str(adapter_dir)).eval(), processor


def merged_copy(model):
    """A plain (non-peft) copy of ``model`` with its adapters merged in, for fast generation
    (peft's trainable-token layer rebuilds the whole embedding at every decoding step); the
    model itself is untouched. A model without adapters is returned as is."""
    import copy

    if not hasattr(model, "merge_and_unload"):
        return model
    return copy.deepcopy(model).merge_and_unload()
