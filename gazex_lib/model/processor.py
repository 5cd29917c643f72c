"""The standard Qwen2-VL processor (tokenizer + image processor + video processor, chat template).

Pixel budgets are in pixels (H × W of the resized image or frame); the processor resizes each
image / frame to multiples of 28 px (patch 14 × spatial merge 2) with H·W inside
``[min_pixels, max_pixels]``. One visual token covers 28 × 28 px, so an S × S image costs
``(S / 28)²`` ``<|image_pad|>`` tokens and a T-frame video ``ceil(T / 2) · (H / 28) · (W / 28)``
``<|video_pad|>`` tokens (odd T is padded by repeating the last frame).
"""
from __future__ import annotations

import os

#: The official Qwen2-VL-*-Instruct chat template (env2.md B.4). Its rendering reproduces the
#: ids of transformers' ``test_small_model_integration_test`` for Qwen2-VL.
QWEN2VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

PATCH_SIZE = 14          # px per ViT patch side
MERGE_SIZE = 2           # 2 × 2 patches merge into one LM token
TEMPORAL_PATCH_SIZE = 2  # frames per temporal patch
TOKEN_PIXELS = (PATCH_SIZE * MERGE_SIZE) ** 2  # 784 px² per visual token

#: Defaults (px): images up to 448 × 448 (256 tokens), video frames up to 224 × 224
#: (64 tokens per 2 frames); both at least 56 × 56. The profiles override these from configs/.
DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 448 * 448
DEFAULT_VIDEO_MIN_PIXELS = 56 * 56
DEFAULT_VIDEO_MAX_PIXELS = 224 * 224


def build_processor(tokenizer_dir_or_tokenizer=None, min_pixels: int = DEFAULT_MIN_PIXELS,
                    max_pixels: int = DEFAULT_MAX_PIXELS,
                    video_min_pixels: int = DEFAULT_VIDEO_MIN_PIXELS,
                    video_max_pixels: int = DEFAULT_VIDEO_MAX_PIXELS, *, padding_side: str = "right"):
    """A ``Qwen2VLProcessor`` with ``Qwen2VLImageProcessor``, ``Qwen2VLVideoProcessor`` and the
    official chat template.

    ``tokenizer_dir_or_tokenizer``: a tokenizer object, a directory holding one, or ``None`` for
    the rebuilt Qwen2 tokenizer (``gazex_lib.model.tokenizer.tokenizer_dir()``). Pixel budgets in
    px (see the module docstring); the video processor gets ``cap_pixels_per_frame=False`` and
    explicit budgets (its class default would upscale small frames to ≈ 100k px).
    ``padding_side``: ``"right"`` for training, ``"left"`` for batched generation.
    ``AutoProcessor.from_pretrained`` round-trips the result after ``save_pretrained``.
    """
    from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2VLVideoProcessor

    from gazex_lib.model.tokenizer import load_tokenizer

    common = dict(patch_size=PATCH_SIZE, temporal_patch_size=TEMPORAL_PATCH_SIZE,
                  merge_size=MERGE_SIZE)
    for name, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels),
                        ("video_min_pixels", video_min_pixels),
                        ("video_max_pixels", video_max_pixels)):
        if int(value) < TOKEN_PIXELS:
            raise ValueError(f"{name}={value} px is below one visual token ({TOKEN_PIXELS} px)")
    if min_pixels > max_pixels or video_min_pixels > video_max_pixels:
        raise ValueError("min_pixels must not exceed max_pixels")
    tok = tokenizer_dir_or_tokenizer
    if tok is None or isinstance(tok, (str, os.PathLike)):
        tok = load_tokenizer(tok)
    tok.padding_side = padding_side
    ip = Qwen2VLImageProcessor(min_pixels=int(min_pixels), max_pixels=int(max_pixels), **common)
    vp = Qwen2VLVideoProcessor(min_pixels=int(video_min_pixels), max_pixels=int(video_max_pixels),
                               cap_pixels_per_frame=False, **common)
    return Qwen2VLProcessor(image_processor=ip, tokenizer=tok, video_processor=vp,
                            chat_template=QWEN2VL_CHAT_TEMPLATE)


def n_visual_tokens(grid_thw, merge_size: int = MERGE_SIZE) -> int:
    """LM tokens of one image / video with grid ``(t, h, w)`` in patches: ``t·h·w / merge²``."""
    t, h, w = (int(x) for x in grid_thw)
    return t * h * w // (merge_size * merge_size)
