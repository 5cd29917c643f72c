"""Token budgets per record: counts that add up to the collator's, the projection to another
profile's pixel budgets (Qwen2-VL's resizing rule), and the implied cutoff."""
from __future__ import annotations

import pytest

from gazex_lib.model import build_processor
from gazex_lib.train import ChatCollator
from gazex_lib.train.budget import (budget_summary, implied_max_length, projected_visual_tokens,
                                    token_budget)
from tests.test_train import PIXELS, make_record


@pytest.fixture(scope="module")
def processor(qwen_tokenizer_dir):
    return build_processor(qwen_tokenizer_dir, **PIXELS)


def test_budget_columns_add_up_to_the_collators_sample(processor):
    recs = [make_record(0), make_record(1, answer="A much longer answer, " * 5)]
    df = token_budget(recs, processor)
    col = ChatCollator(processor)
    for rec, (_, row) in zip(recs, df.iterrows()):
        enc = col.encode(rec)
        assert row["total_tokens"] == int(enc["input_ids"].shape[0])
        assert row["target_tokens"] == int((enc["labels"] != -100).sum())
        # 56 px image: 2 × 2 tokens; two 56 px frames: one temporal patch of 2 × 2
        assert row["visual_tokens"] == 4 + 4
        assert row["text_tokens"] + row["visual_tokens"] + row["target_tokens"] == row["total_tokens"]
    assert df.loc[1, "target_tokens"] > df.loc[0, "target_tokens"]
    summary = budget_summary(df)
    assert summary.loc["fvp", "records"] == 1 and "total_tokens_max" in summary.columns


def test_projection_follows_qwen2vl_resizing(processor):
    big = dict(min_pixels=56 * 56, max_pixels=112 * 112, video_min_pixels=56 * 56,
               video_max_pixels=112 * 112)
    assert projected_visual_tokens({"images": [(112, 112)]}, big) == 16
    assert projected_visual_tokens({"images": [(448, 448)]}, big) == 16      # capped at 112²
    assert projected_visual_tokens({"videos": [(3, 112, 112)]}, big) == 2 * 16  # 3 frames -> 2
    df = token_budget([make_record(0)], processor, film_scale=2.0, project=big)
    row = df.iloc[0]
    assert row["projected_visual_tokens"] == 16 + 16       # 56 px media scaled to 112 px
    assert row["projected_total_tokens"] == row["total_tokens"] - row["visual_tokens"] + 32


def test_implied_max_length_rounds_up():
    assert implied_max_length([10, 700, 65]) == 704
    assert implied_max_length([64]) == 64
    assert implied_max_length([65], multiple=32) == 96
