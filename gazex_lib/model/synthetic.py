"""Synthetic Qwen2-VL training samples for tests and benchmarks (not for the real pipeline,
whose collator lives in ``gazex_lib.train``).

The GazeX case: one user turn with an attention video and the film (``<video>`` then
``<image>``), a question, then an answer whose tokens carry the loss (``<|im_end|>`` included).
"""
from __future__ import annotations

import numpy as np

IGNORE_INDEX = -100


def random_image(size: int | tuple[int, int], seed: int = 0) -> np.ndarray:
    """A grey (replicated to RGB) uint8 image of ``size`` = side or ``(height, width)`` px."""
    h, w = (size, size) if isinstance(size, int) else size
    g = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def random_video(n_frames: int, size: int | tuple[int, int], seed: int = 0) -> list[np.ndarray]:
    """``n_frames`` grey RGB uint8 frames of ``size`` px."""
    return [random_image(size, seed=seed + 1 + i) for i in range(n_frames)]


def gaze_messages(question: str = "Which regions did the radiologist look at, in order?",
                  video: bool = True, image: bool = True) -> list[dict]:
    """One user turn: ``[video], [image], text`` (the order of the GazeX prompts)."""
    content = ([{"type": "video"}] if video else []) + ([{"type": "image"}] if image else [])
    return [{"role": "user", "content": content + [{"type": "text", "text": question}]}]


def synthetic_sample(processor, *, image_size=448, n_frames: int = 8, frame_size=224,
                     n_target_tokens: int = 32, question: str | None = None, seed: int = 0,
                     return_tensors: str = "pt") -> dict:
    """One encoded training sample (batch of 1) with ``labels``.

    The prompt (chat template, generation prompt) is encoded by the processor with the image
    and video; then ``n_target_tokens`` random ordinary-token ids plus ``<|im_end|>\\n`` are
    appended as the answer. ``labels`` are ``-100`` on the prompt and the ids on the answer.
    ``image_size`` / ``frame_size``: px (side or (h, w)); ``n_frames=0`` / ``image_size=None``
    drop the video / image.
    """
    import torch

    tok = processor.tokenizer
    msgs = gaze_messages(question or gaze_messages()[0]["content"][-1]["text"],
                         video=n_frames > 0, image=image_size is not None)
    text = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    kw = {}
    if image_size is not None:
        kw["images"] = [random_image(image_size, seed)]
    if n_frames > 0:
        kw["videos"] = [random_video(n_frames, frame_size, seed)]
    enc = dict(processor(text=[text], return_tensors=return_tensors, **kw))
    rng = np.random.default_rng(seed)
    answer = rng.integers(1_000, 100_000, n_target_tokens).tolist()
    answer += [tok.convert_tokens_to_ids("<|im_end|>")] + tok("\n")["input_ids"]
    ans = torch.tensor([answer], dtype=enc["input_ids"].dtype)
    n_prompt = enc["input_ids"].shape[1]
    enc["input_ids"] = torch.cat([enc["input_ids"], ans], dim=1)
    enc["attention_mask"] = torch.cat([enc["attention_mask"], torch.ones_like(ans)], dim=1)
    if "mm_token_type_ids" in enc:
        enc["mm_token_type_ids"] = torch.cat(
            [enc["mm_token_type_ids"], torch.zeros_like(ans, dtype=enc["mm_token_type_ids"].dtype)],
            dim=1)
    labels = enc["input_ids"].clone()
    labels[:, :n_prompt] = IGNORE_INDEX
    enc["labels"] = labels
    return enc
