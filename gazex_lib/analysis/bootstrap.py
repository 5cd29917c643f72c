"""Confidence intervals for the held-out probe metrics: a paired bootstrap over **images**.

What is resampled, and why
    The unit is the **image** (REFLACX ``dicom_id``), not the record. Phase 1/2 images are read
    by five radiologists, so up to five records (one per reading) show the same film; their
    scores are not independent draws, a reading's five repeats move together. Resampling
    records would treat them as five independent observations and give an interval about
    ``sqrt(5)`` too narrow on such data. Each bootstrap resample therefore draws
    ``n_images`` images with replacement, and every record of a drawn image comes along (an
    image drawn twice counts its records twice).

What is estimated
    One formula for every metric, the headline one of :func:`gazex_lib.eval.summarize_scores`::

        estimate = sum over records of (sum  if the row has one, else value)
                   / sum over records of (n    if the row has a sum, else 1)

    For ``gtm_centroid_error_px`` (rows carry ``sum``, the summed per-sentence error, and ``n``
    sentences) this is the ratio of sums, the mean error over sentences; for ``fvp_iou`` and
    ``sda_order_accuracy`` (no ``sum``) it is the mean over records. A resample weights each
    image's summed numerator and denominator by how often it was drawn. Units are the
    metric's own: IoU (0..1), original image pixels, share of positions (0..1).

Intervals
    Percentile method: the ``(1 - ci) / 2`` and ``(1 + ci) / 2`` quantiles of the ``n_boot``
    resampled estimates (numpy's linear interpolation). A **difference** ``a - b`` of a pair
    of sources is computed on the *same* resampled images for both (paired), so what the two
    sources share (hard images, easy images) cancels; both sources must be scored on the same
    records.

Randomness
    The images of a metric are drawn from ``numpy.random.default_rng([seed, crc32(metric),
    crc32(image ids)])``: the same seed gives the same table, and a source's interval does not
    depend on which other sources or metrics are in the call. ``n_boot`` and ``ci`` are
    profile values (``configs/``) and have no default here.
"""
from __future__ import annotations

import numbers
import zlib
from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["image_bootstrap", "BOOTSTRAP_COLUMNS", "MIN_BOOT"]

#: Columns of the table :func:`image_bootstrap` returns, in order.
BOOTSTRAP_COLUMNS = ["metric", "kind", "source", "reference", "estimate", "ci_low", "ci_high",
                     "n_images", "n_records"]
#: Fewer resamples than this cannot place a 95 % percentile bound on more than a few draws.
MIN_BOOT = 100
_NEEDED = ("record_id", "metric", "value")


def _few(items, k: int = 5) -> str:
    items = sorted(map(str, items))
    return ", ".join(items[:k]) + (f" (+{len(items) - k} more)" if len(items) > k else "")


def _image_column(name: str, df: pd.DataFrame, image_of) -> pd.Series:
    """The image id of each row of one source's scores (ValueError naming unknown records)."""
    if isinstance(image_of, str):
        if image_of not in df.columns:
            raise ValueError(f"source {name!r}: no column {image_of!r} to take image ids from "
                             f"(columns: {list(df.columns)})")
        images = df[image_of]
    else:
        lookup = image_of.to_dict() if isinstance(image_of, pd.Series) else image_of
        images = df["record_id"].map(lambda r: lookup.get(r, None))
    unknown = df.loc[images.isna().to_numpy(), "record_id"]
    if len(unknown):
        raise ValueError(f"source {name!r}: {len(unknown)} record id(s) without an image "
                         f"({_few(unknown)})")
    return images


def _per_record(name: str, df: pd.DataFrame, image_of) -> pd.DataFrame:
    """``metric, record_id, image, num, den`` of one source: ``num``/``den`` are ``sum``/``n``
    for rows with a sum, else ``value``/1 (the one headline formula)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"source {name!r}: scores must be a DataFrame "
                        f"(gazex_lib.eval.score_answers), not {type(df).__name__}")
    missing = [c for c in _NEEDED if c not in df.columns]
    if missing:
        raise ValueError(f"source {name!r}: scores lack column(s) {missing}")
    if not len(df):
        raise ValueError(f"source {name!r}: no scored record")
    dup = df.loc[df.duplicated(["metric", "record_id"]), "record_id"]
    if len(dup):
        raise ValueError(f"source {name!r}: record id(s) scored twice for one metric "
                         f"({_few(dup)})")
    images = _image_column(name, df, image_of)
    nan = pd.Series(np.nan, index=df.index)
    sums, n = df.get("sum", nan), df.get("n", nan)
    has_sum = sums.notna()
    by_metric = has_sum.groupby(df["metric"])
    mixed = sorted(m for m, k in by_metric.sum().items() if 0 < k < by_metric.size()[m])
    if mixed:
        raise ValueError(f"source {name!r}: metric(s) {mixed} have a 'sum' on some rows only; a "
                         "ratio metric needs 'sum' and 'n' on every row")
    num = np.where(has_sum, sums, df["value"]).astype(float)
    den = np.where(has_sum, n, 1.0).astype(float)
    bad = ~np.isfinite(num) | ~np.isfinite(den) | (den <= 0)
    if bad.any():
        raise ValueError(f"source {name!r}: record(s) with a non-finite score or n <= 0 "
                         f"({_few(df.loc[bad, 'record_id'])})")
    return pd.DataFrame({"metric": df["metric"].to_numpy(), "record_id": df["record_id"].to_numpy(),
                         "image": images.to_numpy(), "num": num, "den": den})


def _draws(metric: str, images: list, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n_images)`` counts: how often each image is drawn in each resample."""
    key = [seed, zlib.crc32(metric.encode()),
           zlib.crc32("\x1f".join(map(str, images)).encode())]
    rng = np.random.default_rng(key)
    k = len(images)
    return rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot)


def _ratio(counts: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Estimate under each row of image counts (a row of ones: the point estimate)."""
    return (counts @ num) / (counts @ den)


def image_bootstrap(scores_by_source: Mapping[str, pd.DataFrame], image_of, *, n_boot: int,
                    seed: int, ci: float, pairs=None) -> pd.DataFrame:
    """Point estimates and percentile intervals of every probe metric, and of paired
    differences, from resampling images (module docstring).

    ``scores_by_source``: ``{source: scores}``, each a :func:`gazex_lib.eval.score_answers`
    table (``record_id``, ``metric``, ``value``; ``sum`` and ``n`` for ratio metrics).
    ``image_of``: ``{record_id: image_id}`` (a Mapping or a Series), or the name of a column of
    every scores table that holds the image id. ``n_boot`` resamples (at least
    :data:`MIN_BOOT`), ``seed``, ``ci`` the coverage in (0, 1) (0.95 for a 95 % interval), all
    from the profile's config. ``pairs``: ``[(a, b), ...]``, differences ``a - b`` to report;
    ``a`` and ``b`` must have scored the same records.

    Returns one row per (metric, source) with ``kind="value"`` and ``reference=None``, then one
    per (metric, pair) with ``kind="diff"``, ``source=a``, ``reference=b`` and ``estimate`` the
    difference; columns :data:`BOOTSTRAP_COLUMNS` (``n_images``: distinct images resampled,
    ``n_records``: records behind the estimate). ``attrs`` holds ``n_boot``, ``seed``, ``ci``.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < MIN_BOOT:
        raise ValueError(f"n_boot must be an integer >= {MIN_BOOT}, got {n_boot!r}")
    if isinstance(ci, bool) or not isinstance(ci, numbers.Real) or not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be a coverage strictly between 0 and 1 (0.95 for 95 %), "
                         f"got {ci!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(scores_by_source, Mapping) or not scores_by_source:
        raise ValueError("scores_by_source must be a non-empty {source: scores} mapping")
    if not isinstance(image_of, (str, Mapping, pd.Series)):
        raise TypeError("image_of must be a {record_id: image_id} mapping, a Series or a column "
                        f"name, not {type(image_of).__name__}")
    recs = {name: _per_record(name, df, image_of) for name, df in scores_by_source.items()}
    pairs = [tuple(p) for p in (pairs or [])]
    for p in pairs:
        if len(p) != 2:
            raise ValueError(f"pair {p!r}: give (source, reference)")
        unknown = [s for s in p if s not in recs]
        if unknown:
            raise ValueError(f"pair {p!r}: unknown source(s) {unknown}; sources: {list(recs)}")
        keys = [set(zip(recs[s]["metric"], recs[s]["record_id"])) for s in p]
        if keys[0] != keys[1]:
            only_a, only_b = keys[0] - keys[1], keys[1] - keys[0]
            raise ValueError(
                f"pair {p!r}: the sources scored different records (a paired difference needs "
                f"the same ones): only in {p[0]!r}: {len(only_a)} ({_few(r for _, r in only_a)}); "
                f"only in {p[1]!r}: {len(only_b)} ({_few(r for _, r in only_b)})")
        img_a = recs[p[0]].set_index(["metric", "record_id"])["image"]
        img_b = recs[p[1]].set_index(["metric", "record_id"])["image"].reindex(img_a.index)
        if (img_a.to_numpy() != img_b.to_numpy()).any():
            raise ValueError(f"pair {p!r}: the same record has different images in the two "
                             "sources")
    lo_q, hi_q = (1.0 - ci) / 2.0, (1.0 + ci) / 2.0
    rows, boot, draws = [], {}, {}
    metrics = sorted(set().union(*(set(r["metric"]) for r in recs.values())))
    for metric in metrics:
        for name, r in recs.items():
            r = r[r["metric"] == metric]
            if not len(r):
                continue
            per_image = r.groupby("image", sort=False)[["num", "den"]].sum()
            order = tuple(sorted(per_image.index, key=str))
            per_image = per_image.loc[list(order)]
            num, den = per_image["num"].to_numpy(), per_image["den"].to_numpy()
            if (metric, order) not in draws:   # paired sources share these counts
                draws[metric, order] = _draws(metric, list(order), int(n_boot), int(seed))
            est = float(_ratio(np.ones((1, len(order))), num, den)[0])
            boot[metric, name] = est, _ratio(draws[metric, order], num, den)
            lo, hi = np.quantile(boot[metric, name][1], [lo_q, hi_q])
            rows.append({"metric": metric, "kind": "value", "source": name, "reference": None,
                         "estimate": est, "ci_low": float(lo), "ci_high": float(hi),
                         "n_images": len(order), "n_records": len(r)})
        for a, b in pairs:
            if (metric, a) not in boot:
                continue
            (est_a, boot_a), (est_b, boot_b) = boot[metric, a], boot[metric, b]
            lo, hi = np.quantile(boot_a - boot_b, [lo_q, hi_q])
            value = next(x for x in rows if x["metric"] == metric and x["source"] == a)
            rows.append({"metric": metric, "kind": "diff", "source": a, "reference": b,
                         "estimate": est_a - est_b, "ci_low": float(lo), "ci_high": float(hi),
                         "n_images": value["n_images"], "n_records": value["n_records"]})
    table = pd.DataFrame(rows, columns=BOOTSTRAP_COLUMNS)
    # None on value rows, whatever pandas would infer from the mix (one dtype in every table).
    table["reference"] = pd.Series([x["reference"] for x in rows], dtype=object)
    table.attrs.update({"n_boot": int(n_boot), "seed": int(seed), "ci": float(ci)})
    return table
