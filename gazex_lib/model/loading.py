"""Load Qwen2-VL: a local checkpoint directory as is, or a model built from a config.

``load_model(None)`` is the ci default of the notebook contract (``model_path=None``): the tiny
Qwen2-VL with deterministic random weights (``seed``) and the real Qwen2 tokenizer rebuilt
offline. ``load_model("/models/Qwen2-VL-2B-Instruct")`` is the full profile. Nothing is ever
downloaded (``local_files_only=True``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from gazex_lib.model.architecture import SIZES, config_for_size
from gazex_lib.model.processor import build_processor

#: ``config.json`` ``model_type`` -> transformers class name.
MODEL_CLASSES = {
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
}


def resolve_device(device=None):
    """``None``/``"auto"`` -> ``cuda`` when available, else ``cpu``; returns a ``torch.device``."""
    import torch

    if device is None or device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def resolve_dtype(dtype, device):
    """``None`` -> bfloat16 on CUDA, float32 elsewhere; strings such as ``"bfloat16"`` accepted."""
    import torch

    if dtype is None:
        return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype.replace("torch.", ""))
    return dtype


def checkpoint_model_type(model_path: str | os.PathLike) -> str:
    """The ``model_type`` of a local checkpoint, with clear errors for a missing directory, a
    directory without ``config.json`` and an unsupported model type."""
    path = Path(model_path).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"model_path {path} is not a directory (expected a local "
                                "Qwen2-VL checkpoint such as Qwen2-VL-2B-Instruct)")
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise FileNotFoundError(f"model_path {path} has no config.json: not a transformers "
                                "checkpoint directory")
    model_type = json.loads(cfg_file.read_text()).get("model_type")
    if model_type not in MODEL_CLASSES:
        raise ValueError(f"{cfg_file}: unsupported model_type {model_type!r}; "
                         f"supported: {sorted(MODEL_CLASSES)}")
    return model_type


def model_class(model_type: str):
    """The transformers ``...ForConditionalGeneration`` class of a supported ``model_type``."""
    import transformers

    return getattr(transformers, MODEL_CLASSES[model_type])


def set_pixel_budget(processor, min_pixels=None, max_pixels=None, video_min_pixels=None,
                     video_max_pixels=None):
    """Override the image / video pixel budgets (px) of a loaded Qwen2-VL processor in place."""
    for sub, lo, hi in ((processor.image_processor, min_pixels, max_pixels),
                        (getattr(processor, "video_processor", None), video_min_pixels,
                         video_max_pixels)):
        if sub is None or (lo is None and hi is None):
            continue
        size = {"shortest_edge": int(lo if lo is not None else sub.size["shortest_edge"]),
                "longest_edge": int(hi if hi is not None else sub.size["longest_edge"])}
        sub.size = size
        for attr, val in (("min_pixels", size["shortest_edge"]), ("max_pixels", size["longest_edge"])):
            if hasattr(sub, attr):
                setattr(sub, attr, val)
    return processor


def enable_lm_input_require_grads(model) -> None:
    """``enable_input_require_grads`` restricted to the language model's token embeddings.

    transformers' own version hooks every ``PreTrainedModel`` inside, the vision tower included
    (its ``get_input_embeddings`` is the patch embedding), so a frozen vision tower then runs a
    full backward pass for nothing: it doubled the LoRA step of the 2B on an H200 (benchmark,
    batch 4, checkpointing: 1.12 s -> 0.53 s with this hook).
    peft's ``get_peft_model`` calls it again under checkpointing; ``apply_lora`` re-applies this.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    base.disable_input_require_grads()

    def make_inputs_require_grads(module, inputs, output):
        output.requires_grad_(True)

    hook = base.get_input_embeddings().register_forward_hook(make_inputs_require_grads)
    base._require_grads_hooks = [hook]
    base._require_grads_hook = hook


def configure_training(model, gradient_checkpointing: bool = False):
    """Gradient checkpointing the LoRA-safe way: ``use_reentrant=False`` plus input grads on the
    LM token embeddings (otherwise LoRA weights can silently stay at zero), and the KV cache
    off. A no-op when ``gradient_checkpointing`` is False."""
    if gradient_checkpointing:
        kwargs = {"use_reentrant": False}
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.2x name
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
        enable_lm_input_require_grads(model)
        model.config.use_cache = False
        if getattr(model.config, "text_config", None) is not None:
            model.config.text_config.use_cache = False
    return model


def build_model(config, *, dtype=None, device=None, attn_implementation=None, seed: int = 0):
    """A ``Qwen2VLForConditionalGeneration`` from ``config`` with random weights drawn after
    ``torch.manual_seed(seed)``: the same seed gives identical weights. Built directly on
    ``device`` (default: CUDA when available) in ``dtype`` (default bf16 on CUDA, fp32 on CPU)."""
    import torch
    from transformers import Qwen2VLForConditionalGeneration

    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device)
    attn = attn_implementation or "sdpa"
    torch.manual_seed(seed)
    with torch.device(device):
        model = Qwen2VLForConditionalGeneration._from_config(config, dtype=dtype,
                                                              attn_implementation=attn)
    return model


def _set_generation_defaults(model, tokenizer) -> None:
    gc = model.generation_config
    eos = [tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    gc.eos_token_id = eos
    gc.pad_token_id = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    gc.bos_token_id = None


def load_model(model_path=None, *, size: str = "tiny", dtype=None, device=None,
               attn_implementation=None, seed: int = 0, gradient_checkpointing: bool = False,
               processor_kwargs: dict | None = None, rope_theta: float | None = None):
    """``(model, processor)``.

    * ``model_path``: a local checkpoint directory (Qwen2-VL, or Qwen2.5-VL by its
      ``config.json`` ``model_type``) loaded as is, with ``AutoProcessor`` from the same
      directory; or ``None`` to build a model from a config with random weights
      (``torch.manual_seed(seed)``) and the rebuilt Qwen2 tokenizer.
    * ``size`` (only with ``model_path=None``): ``"tiny"`` (ci, ≈ 20 M params), ``"small"``
      (≈ 40 M) or ``"2b"`` (the full Qwen2-VL-2B-Instruct architecture, ≈ 2.2 B).
    * ``dtype``: default bfloat16 on CUDA, float32 on CPU. ``device``: default CUDA when
      available. ``attn_implementation``: default ``"sdpa"``.
    * ``gradient_checkpointing``: on with ``use_reentrant=False`` + input grads (LoRA-safe).
    * ``rope_theta`` (only with ``model_path=None``): the RoPE base of a random tiny config
      (``None``: Qwen2-VL's 1e6; see :func:`~gazex_lib.model.architecture.tiny_config`).
    * ``processor_kwargs``: pixel budgets in px (``min_pixels``, ``max_pixels``,
      ``video_min_pixels``, ``video_max_pixels``), e.g. from ``configs/<profile>.yaml``.
    The model comes back in ``eval()`` mode; call ``model.train()`` before training.
    """
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device)
    pk = dict(processor_kwargs or {})
    if model_path is not None:
        from transformers import AutoProcessor

        model_type = checkpoint_model_type(model_path)
        path = str(Path(model_path).expanduser())
        model = model_class(model_type).from_pretrained(
            path, dtype=dtype, attn_implementation=attn_implementation or "sdpa",
            local_files_only=True).to(device)
        if not any((Path(path) / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")):
            raise FileNotFoundError(f"{path} has no tokenizer files: save the processor with the "
                                    "model (processor.save_pretrained(model_dir))")
        processor = AutoProcessor.from_pretrained(path, local_files_only=True)
        set_pixel_budget(processor, **pk)
    else:
        if size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}, got {size!r}")
        processor = build_processor(None, **pk)
        config = config_for_size(size, processor.tokenizer, rope_theta)
        model = build_model(config, dtype=dtype, device=device,
                            attn_implementation=attn_implementation, seed=seed)
        _set_generation_defaults(model, processor.tokenizer)
    model.eval()
    configure_training(model, gradient_checkpointing)
    return model, processor


def count_parameters(model, trainable_only: bool = False) -> int:
    """Number of (unique) parameters; tied weights count once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
