"""Token budgets: how long each training sample is, and what ``max_length`` a profile needs.

:func:`token_budget` renders every record exactly as the collator does (the processor's chat
template, the real Qwen2 tokenizer, the processor's own image / video resizing) and counts,
per record: text tokens of the prompt, visual tokens (``<|image_pad|>`` + ``<|video_pad|>``),
target tokens (the answer plus its ``<|im_end|>``, the tokens that carry labels), and the
total. :func:`projected_visual_tokens` gives the visual tokens the same record would take
under another profile's pixel budgets, from the image / frame sizes alone (Qwen2-VL's
``smart_resize``: sides rounded to multiples of 28 px, area kept inside ``[min_pixels,
max_pixels]``; a video of T frames costs ``ceil(T / 2)`` temporal patches). Text tokens do
not depend on the pixel budgets, so the total under the other profile is exact, not a guess,
for the same films; :func:`implied_max_length` rounds the largest total up.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gazex_lib.model.processor import MERGE_SIZE, PATCH_SIZE, TEMPORAL_PATCH_SIZE
from gazex_lib.train.collator import ChatCollator

__all__ = ["token_budget", "projected_visual_tokens", "implied_max_length", "budget_summary",
           "REFLACX_IMAGE_PX"]

#: A typical MIMIC-CXR JPG of REFLACX (width, height px; research/paper.md §1.5): its ¼-scale
#: film is ≈ 636 × 764 px. Used to project synthetic (smaller) films to the real size.
REFLACX_IMAGE_PX = (2544, 3056)

PIXEL_KEYS = ("min_pixels", "max_pixels", "video_min_pixels", "video_max_pixels")


def _visual_tokens(height: int, width: int, frames: int, min_pixels: int, max_pixels: int) -> int:
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    factor = PATCH_SIZE * MERGE_SIZE
    h, w = smart_resize(int(height), int(width), factor=factor, min_pixels=int(min_pixels),
                        max_pixels=int(max_pixels))
    t = max(1, math.ceil(frames / TEMPORAL_PATCH_SIZE))
    return t * (h // factor) * (w // factor)


def projected_visual_tokens(media: dict, pixels: dict) -> int:
    """Visual tokens of one record's media (``{"images": [(h, w)], "videos": [(T, h, w)]}``)
    under the pixel budgets ``pixels`` (:data:`PIXEL_KEYS`)."""
    n = sum(_visual_tokens(h, w, 1, pixels["min_pixels"], pixels["max_pixels"])
            for h, w in media.get("images", []))
    n += sum(_visual_tokens(h, w, t, pixels["video_min_pixels"], pixels["video_max_pixels"])
             for t, h, w in media.get("videos", []))
    return int(n)


def token_budget(records, processor, *, resolve=None, film_scale: float = 1.0,
                 project: dict | None = None) -> pd.DataFrame:
    """One row per record: ``record_id, task, text_tokens, visual_tokens, target_tokens,
    total_tokens`` (this processor), plus ``projected_visual_tokens`` and
    ``projected_total_tokens`` when ``project`` holds another profile's pixel budgets.

    ``film_scale``: multiply the image / frame sides by this before projecting (e.g. the
    ratio of a REFLACX film to the synthetic one), so the projection answers "how long would
    this sample be on the real films"."""
    collator = ChatCollator(processor)           # media resolved once per record, here
    pad_ids = {collator.ids["<|image_pad|>"], collator.ids["<|video_pad|>"]}
    rows = []
    for i, rec in enumerate(records):
        m = resolve(rec) if resolve is not None else rec
        enc = collator.encode(m, i)
        ids = enc["input_ids"]
        visual = int(sum(int((ids == p).sum()) for p in pad_ids))
        target = int((enc["labels"] != -100).sum())
        row = {"record_id": rec.get("id", str(i)), "task": rec.get("task", ""),
               "text_tokens": int(ids.shape[0]) - visual - target, "visual_tokens": visual,
               "target_tokens": target, "total_tokens": int(ids.shape[0])}
        if project is not None:
            media = {"images": [_scaled(img.shape[:2], film_scale) for img in m["images"]],
                     "videos": [(len(v), *_scaled(v[0].shape[:2], film_scale))
                                for v in m["videos"]]}
            row["projected_visual_tokens"] = projected_visual_tokens(media, project)
            row["projected_total_tokens"] = (row["text_tokens"] + row["target_tokens"]
                                             + row["projected_visual_tokens"])
        rows.append(row)
    return pd.DataFrame(rows)


def _scaled(hw, scale: float) -> tuple[int, int]:
    return int(round(hw[0] * scale)), int(round(hw[1] * scale))


def implied_max_length(totals, multiple: int = 64) -> int:
    """The largest total, rounded up to a multiple of ``multiple`` tokens."""
    return int(math.ceil(max(totals) / multiple) * multiple)


def budget_summary(budget: pd.DataFrame) -> pd.DataFrame:
    """Per task: records, and mean / max of each token column."""
    cols = [c for c in budget.columns if c.endswith("_tokens")]
    agg = budget.groupby("task")[cols].agg(["mean", "max"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    agg.insert(0, "records", budget.groupby("task").size())
    return agg.round(1).astype({c: int for c in agg.columns if c.endswith("_max")})
