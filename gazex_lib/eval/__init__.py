"""Evaluation: answers generated from chat records, and their scores.

* :mod:`.generate`: :func:`generate_answers`, greedy batched generation from records;
* :mod:`.heldout`: the gaze probes of pretraining (FVP box IoU, GTM-path centroid error, SDA
  order accuracy) on held-out readings, the strict scorers, and their summary;
* :mod:`.baselines`: the baselines fitted on the training records: ``input_ignoring`` (mean
  box, mean path by position, best constant SDA order per frame count), ``text_only`` (mean
  box / point per finding parsed from the sentence) (:func:`fit_baselines`), and the
  chapter's ``trivial`` answers (:class:`TrivialBaseline`).

Report-generation, VQA and grounding metrics are in :mod:`gazex_lib.eval.metrics`, and the
report labellers (CheXbert on a local checkpoint, a rule-based fallback) in
:mod:`gazex_lib.eval.labellers`.
"""
from gazex_lib.eval.baselines import (InputIgnoringBaseline, TextOnlyBaseline,
                                      best_constant_order, fit_baselines, parse_finding)
from gazex_lib.eval.generate import answer_budgets, generate_answers
from gazex_lib.eval.heldout import (PROBE_METRICS, PROBE_TASKS, TrivialBaseline, compare_sources,
                                    fvp_truth_grid, heldout_records, path_details, sda_details, score_answers,
                                    score_fvp, score_path, score_sda, sda_chance,
                                    summarize_scores, path_truth_orig)

__all__ = ["path_details", "sda_details", "generate_answers", "answer_budgets", "compare_sources", "sda_chance",
           "PROBE_TASKS", "PROBE_METRICS", "TrivialBaseline", "heldout_records", "score_answers",
           "score_fvp", "score_path", "score_sda", "summarize_scores", "fvp_truth_grid",
           "InputIgnoringBaseline", "TextOnlyBaseline", "best_constant_order", "fit_baselines",
           "parse_finding", "path_truth_orig"]
