"""Intraclass correlation (Shrout & Fleiss 1979; McGraw & Wong 1996) and Bland-Altman agreement.

:func:`icc` wraps ``pingouin.intraclass_corr`` and returns one row per Shrout-Fleiss form:

==========  ======================  =================================================
form        pingouin 0.7's name     what it measures
==========  ======================  =================================================
``ICC1``    ``ICC(1,1)``            one-way random effects, one rater
``ICC2``    ``ICC(A,1)``            two-way random effects, absolute agreement, one rater
``ICC3``    ``ICC(C,1)``            two-way mixed effects, consistency, one rater
``ICC1k``   ``ICC(1,k)``            as ICC1, mean of k raters
``ICC2k``   ``ICC(A,k)``            as ICC2, mean of k raters
``ICC3k``   ``ICC(C,k)``            as ICC3, mean of k raters
==========  ======================  =================================================

with ``ICC``, ``F``, ``df1``, ``df2``, ``pval`` and pingouin's F-based 95 % interval
(``CI95`` as pingouin writes it, and ``ci_low``, ``ci_high``). **Input** is long: one row per (target, rater) with the rating.
pingouin refuses a target with a missing rater (``nan_policy="raise"``) or drops it
(``"omit"``); :func:`icc` drops such targets itself, counts them (``attrs["targets_dropped"]``)
and reports the complete-case analysis.

Gaze centroids are compared as absolute positions, so the book's headline form is ``ICC2``
(ICC(2,1): absolute agreement of single raters, raters a random sample); the paper does not say
which form it used, so every form is shown.

:func:`icc_bootstrap` adds a bootstrap interval over **targets** (``scipy.stats.bootstrap``,
percentile method by default, named in the output), computed with :func:`icc_from_matrix`, the
ANOVA formulas on the targets x raters matrix (equal to pingouin's to 1e-12, tested), because
pingouin is too slow to call 2,000 times. **It is conditional on the raters**: it resamples
targets, not raters, so for ICC(2,1), whose denominator holds the rater variance, it is too
narrow. Measured under the variance model (40 targets, 5 raters, population ICC(2,1) 0.66,
200 seeds): the F-based interval covers 95 %, the bootstrap over targets 81 %. The F-based
interval is the headline; the bootstrap is shown beside it, with this caveat.

:func:`bland_altman` gives the bias, the 95 % limits of agreement, and their confidence
intervals (Bland & Altman 1999: SE(bias) = s / sqrt(n), SE(limit) = s * sqrt(3 / n)).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["FORMS", "icc", "icc_from_matrix", "icc_bootstrap", "bland_altman", "long_to_matrix"]

#: Shrout-Fleiss form -> pingouin 0.7's ``Type`` label.
FORMS = {"ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)", "ICC1k": "ICC(1,k)",
         "ICC2k": "ICC(A,k)", "ICC3k": "ICC(C,k)"}


def long_to_matrix(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> tuple[pd.DataFrame, int]:
    """``(matrix, dropped)``: the targets x raters table of ``ratings`` over the targets that every
    rater rated, and how many targets were dropped for a missing rating. A (target, rater) pair
    given twice raises ``ValueError``."""
    for col in (targets, raters, ratings):
        if col not in data.columns:
            raise ValueError(f"icc: no column {col!r} in the data (columns: {list(data.columns)})")
    dup = data.duplicated([targets, raters])
    if dup.any():
        r = data[dup].iloc[0]
        raise ValueError(f"icc: target {r[targets]} has rater {r[raters]} twice")
    wide = data.pivot(index=targets, columns=raters, values=ratings).astype(float)
    complete = wide.notna().all(axis=1)
    return wide[complete], int((~complete).sum())


def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> pd.DataFrame:
    """Every Shrout-Fleiss form of the long-format ``data`` (module docstring), one row each.
    Columns: ``form`` (ICC1 .. ICC3k), ``Type`` (pingouin's label), ``ICC``, ``F``, ``df1``,
    ``df2``, ``pval``, ``CI95``, ``ci_low``, ``ci_high``; attrs ``n_targets``, ``n_raters``,
    ``targets_dropped``."""
    import pingouin as pg

    wide, dropped = long_to_matrix(data, targets, raters, ratings)
    if len(wide) < 2 or wide.shape[1] < 2:
        raise ValueError(f"icc needs at least 2 complete targets and 2 raters, got {len(wide)} x {wide.shape[1]}")
    long = wide.stack().rename("rating").reset_index()
    long.columns = ["target", "rater", "rating"]
    with warnings.catch_warnings():    # pingouin 0.7 calls a pandas API that pandas 3 deprecates
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        res = pg.intraclass_corr(long, targets="target", raters="rater", ratings="rating")
    by_type = res.set_index("Type")
    rows = []
    for form, name in FORMS.items():
        r = by_type.loc[name]
        lo, hi = (float(v) for v in r["CI95"])
        rows.append({"form": form, "Type": name, "ICC": float(r["ICC"]), "F": float(r["F"]),
                     "df1": int(r["df1"]), "df2": int(r["df2"]), "pval": float(r["pval"]),
                     "CI95": [lo, hi], "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows)
    out.attrs.update(n_targets=len(wide), n_raters=wide.shape[1], targets_dropped=dropped)
    return out


def icc_from_matrix(x: np.ndarray, form: str = "ICC2") -> float:
    """One ICC form of a complete ``(n targets, k raters)`` matrix, from the two-way ANOVA mean
    squares (McGraw & Wong 1996): MSR (targets), MSC (raters), MSE (residual), MSW (within)."""
    x = np.asarray(x, dtype=np.float64)
    n, k = x.shape
    grand = x.mean()
    ss_r = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_c = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_t = ((x - grand) ** 2).sum()
    ss_e = ss_t - ss_r - ss_c
    msr, msc = ss_r / (n - 1), ss_c / (k - 1)
    mse = ss_e / ((n - 1) * (k - 1))
    msw = (ss_c + ss_e) / (n * (k - 1))
    if form == "ICC1":
        return (msr - msw) / (msr + (k - 1) * msw)
    if form == "ICC2":
        return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    if form == "ICC3":
        return (msr - mse) / (msr + (k - 1) * mse)
    if form == "ICC1k":
        return (msr - msw) / msr
    if form == "ICC2k":
        return (msr - mse) / (msr + (msc - mse) / n)
    if form == "ICC3k":
        return (msr - mse) / msr
    raise ValueError(f"form must be one of {list(FORMS)}, got {form!r}")


def icc_bootstrap(data: pd.DataFrame, targets: str, raters: str, ratings: str, *, form: str = "ICC2",
                  n_boot: int, level: float, seed: int, method: str = "percentile") -> dict:
    """A bootstrap interval of one ICC form, resampling **targets** with replacement
    (``scipy.stats.bootstrap``; ``method`` ``percentile``, ``basic`` or ``BCa``). Returns
    ``{"form", "ICC", "ci_low", "ci_high", "method", "n_boot", "n_targets"}``."""
    from scipy.stats import bootstrap

    wide, _ = long_to_matrix(data, targets, raters, ratings)
    x = wide.to_numpy()
    est = icc_from_matrix(x, form)
    res = bootstrap((np.arange(len(x)),), lambda idx: icc_from_matrix(x[idx.astype(int)], form),
                    n_resamples=n_boot, confidence_level=level, method=method, vectorized=False,
                    rng=np.random.default_rng(seed))
    return {"form": form, "ICC": float(est), "ci_low": float(res.confidence_interval.low),
            "ci_high": float(res.confidence_interval.high), "method": method, "n_boot": int(n_boot),
            "n_targets": len(x)}


def bland_altman(a, b, *, level: float = 0.95) -> dict:
    """Bland-Altman agreement of paired measurements ``a`` and ``b`` (same unit): ``n``,
    ``bias`` (mean of ``a - b``), ``sd`` of the differences, the limits of agreement
    ``loa_low``, ``loa_high`` (bias -+ z * sd, z the normal quantile of ``level``: 1.96), and
    ``level`` intervals of the bias and of each limit (t quantile with n - 1 df; Bland & Altman
    1999). Pairs with a NaN are dropped and counted (``dropped``)."""
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"bland_altman: a and b differ in shape {a.shape} vs {b.shape}")
    ok = ~(np.isnan(a) | np.isnan(b))
    d = a[ok] - b[ok]
    n = len(d)
    if n < 3:
        raise ValueError(f"bland_altman needs at least 3 complete pairs, got {n}")
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    z = float(stats.norm.ppf(0.5 + level / 2))
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    se_bias, se_loa = sd / np.sqrt(n), sd * np.sqrt(3.0 / n)
    lo, hi = bias - z * sd, bias + z * sd
    return {"n": n, "dropped": int((~ok).sum()), "bias": bias, "sd": sd,
            "bias_ci": (bias - t * se_bias, bias + t * se_bias), "loa_low": lo, "loa_high": hi,
            "loa_low_ci": (lo - t * se_loa, lo + t * se_loa), "loa_high_ci": (hi - t * se_loa, hi + t * se_loa),
            "level": level}
