"""Analysis: statistics over scored results (layer after :mod:`gazex_lib.eval`).

* :mod:`.bootstrap`: :func:`image_bootstrap`, percentile intervals of the probe metrics and of
  paired differences between sources, resampling images (not records).
"""
from gazex_lib.analysis.bootstrap import BOOTSTRAP_COLUMNS, MIN_BOOT, image_bootstrap

__all__ = ["BOOTSTRAP_COLUMNS", "MIN_BOOT", "image_bootstrap"]
