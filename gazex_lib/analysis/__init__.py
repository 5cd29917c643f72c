"""Analysis: statistics over scored results (layer after :mod:`gazex_lib.eval`).

* :mod:`.bootstrap`: :func:`image_bootstrap`, percentile intervals of the probe metrics and of
  paired differences between sources, resampling images (not records).
* :mod:`.ceiling`: :class:`PlantedOracle`, a perfect image reader of the synthetic truth, and
  :func:`detectable_difference`, what the test split can detect (measured before tuning).
* :mod:`.planted`: :func:`planted_effect`, chapter 03's trained model against its strongest
  baseline on the test split, and :func:`goal_met`.
* :mod:`.agreement`: :func:`icc` (every Shrout-Fleiss form, pingouin), :func:`icc_bootstrap`
  (an interval over targets), :func:`bland_altman`.
* :mod:`.variance_model`: :class:`CentroidVarianceModel`, the variance model of gaze centroids
  behind the planted inter-reader ICC (closed form, simulation).
* :mod:`.pairing`: sentence gaze centroids (the holistic key frame's) and the targets that match
  them across readers (by planted finding, or by image and positive label).
* :mod:`.per_disease`: :func:`per_disease_table`, model against radiologist gaze per CheXbert
  label (n, dwell, clusters, centroid error in px and degrees, per-axis ICC; no number for a
  category too small to carry one).
* :mod:`.map_similarity`: :func:`box_map` (the model's map from its predicted boxes) and
  :func:`cosine_similarity` of attention maps.
* :mod:`.consensus`: :func:`detection_vs_consensus` (each reader against the other readers'
  consensus, or the official all-readers one), :func:`candidate_vs_consensus`.
"""
from gazex_lib.analysis.agreement import FORMS, bland_altman, icc, icc_bootstrap, icc_from_matrix
from gazex_lib.analysis.bootstrap import BOOTSTRAP_COLUMNS, MIN_BOOT, image_bootstrap
from gazex_lib.analysis.variance_model import CentroidVarianceModel
from gazex_lib.analysis.consensus import candidate_vs_consensus, detection_vs_consensus
from gazex_lib.analysis.ceiling import (PlantedOracle, ceiling_frame, ceiling_report,
                                        detectable_difference, planted_finding)
from gazex_lib.analysis.planted import goal_met, planted_effect

__all__ = ["BOOTSTRAP_COLUMNS", "MIN_BOOT", "image_bootstrap", "planted_effect", "goal_met",
           "PlantedOracle", "planted_finding", "detectable_difference", "ceiling_report",
           "ceiling_frame", "icc", "icc_bootstrap", "icc_from_matrix", "bland_altman", "FORMS",
           "detection_vs_consensus", "candidate_vs_consensus", "CentroidVarianceModel"]
