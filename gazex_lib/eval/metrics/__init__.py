"""Evaluation metrics of the downstream tasks (issue 11).

* :mod:`.clinical`: :func:`clinical_f1` (14 or 5 CheXbert labels; micro, macro or example
  averages; uncertain as negative or positive) and :func:`clinical_f1_table`, every published
  convention in one table; per-report counts for resampling;
* :mod:`.boxes`: :func:`box_iou` (pairwise, torchvision's definition) and
  :func:`grounding_scores` (mIoU, accuracy at IoU 0.5 and 0.3);
* :mod:`.vqa`: :func:`vqa_accuracy` (normalised exact match, lists as sets; closed, open and per
  question type);
* :mod:`.nlg`: :func:`nlg_scores` (pycocoevalcap: corpus BLEU-1..4, METEOR 1.5, ROUGE-L,
  CIDEr-D), :func:`nlg_statistics` and :func:`rescore` for resampling without Java.

The report labellers that make the 14-label frames are in :mod:`gazex_lib.eval.labellers`.
"""
from gazex_lib.eval.metrics.boxes import IOU_THRESHOLDS, box_iou, grounding_scores
from gazex_lib.eval.metrics.clinical import (CONVENTIONS, FIVE_LABELS, binarize, clinical_counts,
                                             clinical_f1, clinical_f1_table, f1_from_counts)
from gazex_lib.eval.metrics.nlg import NLG_KEYS, nlg_scores, nlg_statistics, rescore
from gazex_lib.eval.metrics.vqa import answer_set, normalize_answer, vqa_accuracy

__all__ = ["box_iou", "grounding_scores", "IOU_THRESHOLDS", "clinical_f1", "clinical_f1_table",
           "clinical_counts", "f1_from_counts", "binarize", "CONVENTIONS", "FIVE_LABELS",
           "vqa_accuracy", "normalize_answer", "answer_set", "nlg_scores", "nlg_statistics",
           "rescore", "NLG_KEYS"]
