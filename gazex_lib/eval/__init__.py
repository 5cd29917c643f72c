"""Evaluation: answers generated from chat records, and their scores.

* :mod:`.generate`: :func:`generate_answers`, greedy batched generation from records;
* :mod:`.heldout`: the gaze probes of pretraining (FVP box IoU, GTM-path centroid error, SDA
  order accuracy) on held-out readings, the trivial baselines, and their summary.

Report-generation, VQA and grounding metrics (``gazex_lib.eval.metrics``) come with the
evaluation notebook.
"""
from gazex_lib.eval.generate import answer_budgets, generate_answers
from gazex_lib.eval.heldout import (PROBE_METRICS, PROBE_TASKS, TrivialBaseline, compare_sources,
                                    heldout_records, score_answers, score_fvp, score_path,
                                    score_sda, sda_chance, summarize_scores,
                                    path_details)

__all__ = ["path_details", "generate_answers", "answer_budgets", "compare_sources", "sda_chance", "PROBE_TASKS", "PROBE_METRICS", "TrivialBaseline",
           "heldout_records", "score_answers", "score_fvp", "score_path", "score_sda",
           "summarize_scores"]
