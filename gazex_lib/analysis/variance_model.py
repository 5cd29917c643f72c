"""The variance model of gaze centroids behind the planted inter-reader agreement (issue 13).

Per axis, reader ``j``'s measured centroid of finding ``i`` is::

    x_ij = mu_i + b_j + e_ij,     e_ij ~ N(0, s_j^2)

``mu_i`` the finding's true location (spread ``target_sd`` px across findings), ``b_j`` reader
``j``'s systematic bias (fixed for the dataset: the same five readers read every multi-reader
image), ``s_j`` its measurement noise (px; readers differ). With many findings, the two-way
ICC(2,1) of this model tends to the **closed form**::

    ICC(2,1) = target_sd^2 / (target_sd^2 + var(b, ddof=1) + mean(s_j^2))

(:meth:`CentroidVarianceModel.icc2`; the rater mean square over k - 1 degrees of freedom is
what brings ``ddof=1``). The generator's planted value replaces ``s_j`` by what the gaze
pipeline measures (simulated through the same measurement); this module is the cheap level at
which interval coverage is checked over many seeds, without films.

**Measured here** (``tests/test_variance_model.py``): with the readers' biases fixed, as in
the data, pingouin's F-based interval is *conservative*: it allows for raters drawn afresh,
which fixed readers are not (coverage about 98-99 % for a nominal 95 %). With 20 findings the
estimate is biased low by about 0.02. A planted check that puts the planted value inside that
interval is therefore a check that can fail (a wrong measurement moves the estimate far more),
but not a 1-in-20 lottery.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CentroidVarianceModel"]


@dataclass(frozen=True)
class CentroidVarianceModel:
    """One axis of the model (module docstring): ``target_sd`` (px), ``bias_px`` and
    ``noise_px`` per reader (px, same length)."""
    target_sd: float
    bias_px: tuple[float, ...]
    noise_px: tuple[float, ...]

    def __post_init__(self):
        if len(self.bias_px) != len(self.noise_px) or len(self.bias_px) < 2:
            raise ValueError("bias_px and noise_px need one value per reader, at least 2 readers")
        if self.target_sd <= 0 or min(self.noise_px) < 0:
            raise ValueError("target_sd must be positive and noise_px non-negative")

    @property
    def n_readers(self) -> int:
        return len(self.bias_px)

    def icc2(self) -> float:
        """The closed-form ICC(2,1) (module docstring)."""
        t2 = self.target_sd ** 2
        return t2 / (t2 + float(np.var(self.bias_px, ddof=1)) + float(np.mean(np.square(self.noise_px))))

    def simulate(self, rng: np.random.Generator, n_targets: int) -> pd.DataFrame:
        """Long-format measurements (``target``, ``rater``, ``rating``) of ``n_targets`` findings
        drawn from the model: fresh true locations and noise, the fixed reader biases."""
        mu = rng.normal(0.0, self.target_sd, n_targets)
        x = mu[:, None] + np.asarray(self.bias_px)[None, :] \
            + rng.normal(0.0, 1.0, (n_targets, self.n_readers)) * np.asarray(self.noise_px)[None, :]
        t, r = np.meshgrid(np.arange(n_targets), np.arange(self.n_readers), indexing="ij")
        return pd.DataFrame({"target": t.ravel(), "rater": [f"R{j + 1}" for j in r.ravel()],
                             "rating": x.ravel()})

    def scaled_noise(self, factor: float) -> "CentroidVarianceModel":
        """The same model with every reader's noise multiplied by ``factor``."""
        return CentroidVarianceModel(self.target_sd, self.bias_px, tuple(factor * s for s in self.noise_px))
