"""Qwen2-VL configurations built in code: the tiny ci model and the published 2B architecture.

``tiny_config(tokenizer)`` keeps the real 151,657-token vocabulary (so prompts, special tokens
and token counts equal the real model's) and shrinks everything else; with tied embeddings it
has about 20 M parameters, almost all in the embedding. ``qwen2vl_2b_config()`` is the
Qwen2-VL-2B-Instruct architecture, for benchmarks with random weights (nothing downloaded).
"""
from __future__ import annotations

import copy

#: Qwen2-VL-2B-Instruct ``config.json`` as published on the Hub (flat, transformers 4.41 form).
#: Checked against a public copy: PaddlePaddle/PaddleMIX ``tests/models/test_qwen2vl.py``
#: (``Qwen2vlModelTester.get_config``, "Qwen/Qwen2-VL-2B-Instruct"), which lists the same values;
#: the module tree printed in acproject/duorou ``docs/new_feat.md`` (vision 32 × 1280,
#: Conv3d(3, 1280, (2, 14, 14)), merger 5120 -> hidden) agrees for the vision tower.
QWEN2VL_2B_INSTRUCT_CONFIG = {
    "architectures": ["Qwen2VLForConditionalGeneration"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "vision_start_token_id": 151652,
    "vision_end_token_id": 151653,
    "vision_token_id": 151654,
    "image_token_id": 151655,
    "video_token_id": 151656,
    "hidden_act": "silu",
    "hidden_size": 1536,
    "initializer_range": 0.02,
    "intermediate_size": 8960,
    "max_position_embeddings": 32768,
    "max_window_layers": 28,
    "model_type": "qwen2_vl",
    "num_attention_heads": 12,
    "num_hidden_layers": 28,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "sliding_window": 32768,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "use_sliding_window": False,
    "vision_config": {
        "depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16, "in_chans": 3,
        "hidden_size": 1536, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14,
        "temporal_patch_size": 2,
    },
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
    "vocab_size": 151936,
}

#: Shrunk sizes for ``tiny_config``: text hidden / layers / heads / kv heads / MLP, vision
#: depth / embed dim / heads. head_dim = hidden / heads; mrope sections sum to head_dim / 2.
TINY_SIZES = {
    "tiny": dict(hidden=128, layers=2, heads=4, kv_heads=2, intermediate=256,
                 vision_depth=2, vision_embed=64, vision_heads=4, mrope=[4, 6, 6]),
    "small": dict(hidden=256, layers=4, heads=4, kv_heads=2, intermediate=512,
                  vision_depth=4, vision_embed=128, vision_heads=4, mrope=[8, 12, 12]),
}
SIZES = (*TINY_SIZES, "2b")


def _special_ids(tokenizer) -> dict[str, int]:
    names = ("<|endoftext|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
             "<|image_pad|>", "<|video_pad|>")
    ids = {n: tokenizer.convert_tokens_to_ids(n) for n in names}
    missing = [n for n, i in ids.items() if i is None or i == tokenizer.unk_token_id]
    if missing:
        raise ValueError(f"tokenizer lacks the Qwen2-VL special tokens {missing}")
    return ids


#: Qwen2-VL's published RoPE base (every size); ``rope_theta`` of :func:`tiny_config` replaces it.
QWEN2VL_ROPE_THETA = 1e6


def tiny_config(tokenizer, size: str = "tiny", rope_theta: float | None = None):
    """A small ``Qwen2VLConfig`` with the tokenizer's full vocabulary (``len(tokenizer)`` ids).

    **Initialisation**: std ``hidden ** -0.5`` (0.0884 at hidden 128), the 2B's 0.02 ≈
    1536 ** -0.5 scaled to the tiny width. With transformers' default 0.02 the tied output
    embedding is so small that, after the final RMSNorm (weight 1, frozen under LoRA), no logit
    can rise more than ≈ 2.6 above the others: the loss can never fall far below ln(151,657) ≈
    11.9 and LoRA has nothing to learn with.

    ``size``: ``"tiny"`` (hidden 128, 2 layers, vision depth 2; ≈ 20 M params, 19.4 M of them
    the tied embedding) or ``"small"`` (hidden 256, 4 layers, vision depth 4; ≈ 40 M). Vision
    hidden (the merger output) equals the text hidden; M-RoPE sections sum to head_dim / 2;
    image / video / vision-start / vision-end ids come from the tokenizer.

    ``rope_theta``: the RoPE base (``None``: Qwen2-VL's 1e6). **ci-only switch**
    (``model.rope_theta``): at head_dim 32 with M-RoPE sections [4, 6, 6] the width section gets
    the lowest frequencies, ``θ^(-20/32)`` to ``θ^(-30/32)`` rad per position; at 1e6 that is
    1.8e-4 to 2.4e-6, so neighbouring image columns are indistinguishable, while at θ = 10 it is
    0.24 to 0.12 rad, so a 10-token-wide image spans 1–2 rad.
    """
    from transformers import Qwen2VLConfig

    if size not in TINY_SIZES:
        raise ValueError(f"tiny_config size must be one of {tuple(TINY_SIZES)}, got {size!r}")
    s = TINY_SIZES[size]
    head_dim = s["hidden"] // s["heads"]
    assert sum(s["mrope"]) == head_dim // 2
    ids = _special_ids(tokenizer)
    init_std = round(s["hidden"] ** -0.5, 4)
    text = dict(vocab_size=len(tokenizer), hidden_size=s["hidden"], initializer_range=init_std,
                intermediate_size=s["intermediate"], num_hidden_layers=s["layers"],
                num_attention_heads=s["heads"], num_key_value_heads=s["kv_heads"],
                max_position_embeddings=32768, rms_norm_eps=1e-6,
                rope_parameters={"rope_type": "default",
                                 "rope_theta": float(rope_theta or QWEN2VL_ROPE_THETA),
                                 "mrope_section": list(s["mrope"])},
                bos_token_id=None, eos_token_id=ids["<|im_end|>"],
                pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=True)
    vision = dict(depth=s["vision_depth"], embed_dim=s["vision_embed"], hidden_size=s["hidden"],
                  num_heads=s["vision_heads"], mlp_ratio=2, patch_size=14, spatial_merge_size=2,
                  temporal_patch_size=2)
    return Qwen2VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=True,
                         initializer_range=init_std,
                         image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                         vision_start_token_id=ids["<|vision_start|>"],
                         vision_end_token_id=ids["<|vision_end|>"])


def qwen2vl_2b_config():
    """``Qwen2VLConfig`` of Qwen2-VL-2B-Instruct (hidden 1536, 28 layers, 12 heads, 2 kv heads,
    MLP 8960, vocab 151,936, tied embeddings, M-RoPE [16, 24, 24], θ = 1e6; vision depth 32,
    width 1280, 16 heads, merger to 1536), parsed from the published flat ``config.json`` the
    way ``from_pretrained`` parses it. About 2.2 B parameters."""
    from transformers import Qwen2VLConfig

    cfg = copy.deepcopy(QWEN2VL_2B_INSTRUCT_CONFIG)
    cfg.pop("model_type")
    return Qwen2VLConfig(**cfg)


def config_for_size(size: str, tokenizer=None, rope_theta: float | None = None):
    """``tiny_config(tokenizer, size, rope_theta)`` for ``tiny``/``small``;
    ``qwen2vl_2b_config()`` for ``2b`` (which keeps its published θ; ``rope_theta`` must be
    None or 1e6 there)."""
    if size == "2b":
        if rope_theta not in (None, QWEN2VL_ROPE_THETA):
            raise ValueError("the 2b config keeps Qwen2-VL's rope_theta 1e6")
        return qwen2vl_2b_config()
    if tokenizer is None:
        raise ValueError(f"size {size!r} needs the tokenizer")
    return tiny_config(tokenizer, size, rope_theta)
