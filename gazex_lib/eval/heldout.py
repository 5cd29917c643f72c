"""Gaze probes on held-out readings: does pretraining teach where and in what order to look?

Three probe tasks, one number each (what ``03_pretraining.json`` reports under ``heldout``):

``fvp_iou`` (FVP, higher is better)
    IoU of the answer's **observation** box with the true holistic box, both on the film grid
    (¼-scale px, :func:`gazex_lib.tasks.fvp_to_grid`; q1000 numbers clipped to [0, 1000],
    the grid they are written on). An answer without an observation box
    scores 0. Mean over records.
``gtm_centroid_error_px`` (``gtm_path``, lower is better)
    Euclidean distance in **original image pixels** between the answer's point for a sentence
    and the true gaze centroid of that sentence (the holistic map's intensity-weighted
    centroid; numbers clipped to [0, 1000]). A missing point (short, empty or unparseable
    answer) scores the largest error possible for that sentence, the distance from the true
    centroid to the farthest image corner, just as a missing FVP box scores IoU 0 and a
    missing order scores 0; extra points are ignored. Mean over sentences. (The error over
    the points that were answered, and how many were missing, are kept next to it.)
``sda_order_accuracy`` (``sda_global`` + ``sda_finding``, higher is better)
    Share of positions of the true order that the answer gets right
    (:func:`gazex_lib.tasks.order_accuracy`; missing = wrong). Mean over records.

Every record's score, and whether its answer parsed, is kept (:func:`score_answers`), so a
summary can always be traced back to its answers.

**Trivial baselines** (:class:`TrivialBaseline`, fitted on the *training* records): FVP: the
mean training observation box, no clues; GTM path: the mean training point at each sentence
position (later positions: the overall mean); SDA: the identity order. They answer in the
task's own format and go through the same scorer. Note for SDA: identity shuffles are
re-drawn (:mod:`gazex_lib.tasks.order`), so the identity answer is never exactly right and
scores *below* a random permutation (``sda_chance``, the expected accuracy ``1/n`` of a
uniformly random order, is reported next to it).

**Held-out readings** (:func:`heldout_records`): every reading of the key-frame table that no
training record comes from and whose image no training record shows.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from gazex_lib.tasks import (build_pretraining_records, decode_order, encode_order, format_boxes,
                             format_path, fvp_to_grid, order_accuracy, order_truth, parse_fvp,
                             parse_path)
from gazex_lib.tasks.fvp import box_iou
from gazex_lib.tasks.records import RecordList

__all__ = ["PROBE_TASKS", "PROBE_METRICS", "score_fvp", "score_path", "score_sda",
           "score_answers", "summarize_scores", "TrivialBaseline", "heldout_records",
           "sda_chance", "compare_sources", "path_details"]

#: The probe tasks and the metric each feeds.
PROBE_TASKS = {"fvp": "fvp_iou", "gtm_path": "gtm_centroid_error_px",
               "sda_global": "sda_order_accuracy", "sda_finding": "sda_order_accuracy"}
#: Metric -> True when higher is better.
PROBE_METRICS = {"fvp_iou": True, "gtm_centroid_error_px": False, "sda_order_accuracy": True}
_CENTRE_BOX = [250, 250, 750, 750, 500, 500]


def score_fvp(record: dict, answer: str) -> dict:
    """``{"value": IoU, "parsed": bool, "n": 1}`` of one FVP answer (module docstring)."""
    meta = record["meta"]
    obs = parse_fvp(answer or "")["observation"]
    if obs is None:
        return {"value": 0.0, "parsed": False, "n": 1}
    if meta["coords"] == "q1000":
        obs = tuple(min(max(v, 0.0), 1000.0) for v in obs)
    pred = fvp_to_grid(obs, meta["coords"], meta["film_size"])
    iou = box_iou(pred, meta["observation_grid"])
    return {"value": 0.0 if math.isnan(iou) else iou, "parsed": True, "n": 1}


def score_path(record: dict, answer: str) -> dict:
    """``{"value": mean error px, "sum": .., "n": sentences, "parsed": bool, "missing": k,
    "answered_sum": .., "answered_n": ..}`` of one ``gtm_path`` answer (q1000 points ->
    original px; a missing point scores the distance to the farthest image corner)."""
    meta = record["meta"]
    if "image_size" not in meta:
        raise KeyError(f"record {record.get('id')!r} has no meta['image_size'] (original px); "
                       "build it with gazex_lib.tasks.build_pretraining_records")
    w, h = meta["image_size"]
    truth = np.asarray(meta["points_orig"], dtype=float)
    pred = parse_path(answer or "")
    errors, answered = [], []
    for i, (tx, ty) in enumerate(truth):
        if i < len(pred):
            qx, qy = (min(max(v, 0.0), 1000.0) for v in pred[i])
            err = math.hypot(qx / 1000 * w - tx, qy / 1000 * h - ty)
            answered.append(err)
        else:
            err = max(math.hypot(cx - tx, cy - ty) for cx in (0, w) for cy in (0, h))
        errors.append(err)
    return {"value": float(np.mean(errors)), "sum": float(np.sum(errors)), "n": len(errors),
            "parsed": bool(pred), "missing": len(errors) - len(answered),
            "answered_sum": float(np.sum(answered)), "answered_n": len(answered)}


def score_sda(record: dict, answer: str) -> dict:
    """``{"value": position accuracy, "parsed": bool, "exact": bool, "n": frames}``."""
    meta = record["meta"]
    fmt = meta.get("order_format", "ranks")
    truth = meta["order"]
    pred = decode_order(answer or "", fmt)
    return {"value": order_accuracy(pred, truth), "parsed": bool(pred),
            "exact": list(pred) == list(truth), "n": len(truth)}


_SCORERS = {"fvp": score_fvp, "gtm_path": score_path, "sda_global": score_sda,
            "sda_finding": score_sda}


def score_answers(records, answers) -> pd.DataFrame:
    """One row per record: ``record_id, task, reading_id, metric, value, parsed, n`` (+ the
    scorer's extras). Records of non-probe tasks are an error."""
    records, answers = list(records), list(answers)
    if len(records) != len(answers):
        raise ValueError(f"{len(records)} records but {len(answers)} answers")
    rows = []
    for rec, ans in zip(records, answers):
        task = rec["task"]
        if task not in _SCORERS:
            raise ValueError(f"record {rec.get('id')!r}: {task!r} is not a probe task "
                             f"{tuple(_SCORERS)}")
        rows.append({"record_id": rec["id"], "task": task, "reading_id": rec["reading_id"],
                     "metric": PROBE_TASKS[task], **_SCORERS[task](rec, ans), "answer": ans})
    return pd.DataFrame(rows)


def summarize_scores(scores: pd.DataFrame) -> dict:
    """``{metric: value}`` for the three probe metrics (NaN when a metric has no record):
    record means for FVP and SDA, the mean over sentences for the GTM path."""
    out = {}
    for metric in PROBE_METRICS:
        s = scores[scores["metric"] == metric] if len(scores) else scores
        if not len(s):
            out[metric] = float("nan")
        elif metric == "gtm_centroid_error_px":
            out[metric] = float(s["sum"].sum() / s["n"].sum())
        else:
            out[metric] = float(s["value"].mean())
    return out


class TrivialBaseline:
    """Answers that use no input but the prompt's counts (module docstring), fitted on the
    training records. ``answer(record) -> str``."""

    def __init__(self, fvp_box=None, path_points=None, path_mean=None):
        self.fvp_box = list(fvp_box) if fvp_box is not None else list(_CENTRE_BOX)
        self.path_points = [list(p) for p in (path_points or [])]
        self.path_mean = list(path_mean) if path_mean is not None else [500, 500]

    @classmethod
    def fit(cls, train_records) -> "TrivialBaseline":
        fvp = [r["meta"]["observation"] for r in train_records if r["task"] == "fvp"
               and r["meta"].get("coords") == "q1000"]
        paths = [r["meta"]["points"] for r in train_records if r["task"] == "gtm_path"]
        box = np.rint(np.mean(fvp, axis=0)).astype(int).tolist() if fvp else None
        if not paths:
            return cls(box)
        longest = max(len(p) for p in paths)
        by_pos = [[p[i] for p in paths if len(p) > i] for i in range(longest)]
        points = [np.rint(np.mean(v, axis=0)).astype(int).tolist() for v in by_pos]
        mean = np.rint(np.mean([pt for p in paths for pt in p], axis=0)).astype(int).tolist()
        return cls(box, points, mean)

    def answer(self, record: dict) -> str:
        task, meta = record["task"], record["meta"]
        if task == "fvp":
            if meta.get("coords", "q1000") != "q1000":
                raise ValueError("the trivial FVP answer is fitted in q1000 coordinates")
            return format_boxes([], self.fvp_box, "clean")
        if task == "gtm_path":
            n = int(meta["n_points"])
            pts = [self.path_points[i] if i < len(self.path_points) else self.path_mean
                   for i in range(n)]
            return format_path(pts)
        if task in ("sda_global", "sda_finding"):
            fmt = meta.get("order_format", "ranks")
            return encode_order(order_truth(list(range(int(meta["n_frames"]))), fmt), fmt)
        raise ValueError(f"no trivial answer for task {task!r}")

    def answers(self, records) -> list[str]:
        return [self.answer(r) for r in records]

    def to_dict(self) -> dict:
        return {"fvp_box_q1000": self.fvp_box, "path_points_q1000": self.path_points,
                "path_mean_q1000": self.path_mean}


def path_details(scores: pd.DataFrame) -> dict:
    """GTM-path detail: the error over answered points only, and the share of points missing."""
    s = scores[scores["metric"] == "gtm_centroid_error_px"] if len(scores) else scores
    if not len(s):
        return {"answered_error_px": float("nan"), "missing_points_share": float("nan")}
    n = float(s["n"].sum())
    answered = float(s["answered_n"].sum())
    return {"answered_error_px": float(s["answered_sum"].sum() / answered) if answered
            else float("nan"), "missing_points_share": 1.0 - answered / n}


def sda_chance(records) -> float:
    """Expected SDA position accuracy of a uniformly random order: mean of ``1/n``."""
    n = [int(r["meta"]["n_frames"]) for r in records if r["task"] in ("sda_global", "sda_finding")]
    return float(np.mean([1.0 / k for k in n])) if n else float("nan")


def heldout_records(kt, ds, train_records, *, tasks=tuple(PROBE_TASKS),
                    max_per_task: int | None = None, seed: int = 0, **task_options) -> RecordList:
    """Probe records from the readings no training record comes from, and whose image no
    training record shows (module docstring), every phase and split.

    ``max_per_task``: keep at most that many records per task (a seeded sample, in the built
    order). ``task_options`` go to :func:`gazex_lib.tasks.build_pretraining_records` (use the
    training run's, e.g. ``order_format``). ``summary`` counts readings and records."""
    meta = ds.metadata if hasattr(ds, "metadata") else ds
    table = kt.table if hasattr(kt, "table") else kt
    trained = {r["reading_id"] for r in train_records}
    images = set(meta.loc[sorted(trained & set(meta.index)), "dicom_id"]) \
        if "dicom_id" in meta.columns else set()
    candidates = sorted(set(table["reading_id"]))
    same_image = [r for r in candidates if r not in trained and "dicom_id" in meta.columns
                  and meta.at[r, "dicom_id"] in images]
    ids = [r for r in candidates if r not in trained and r not in same_image]
    if not ids:
        raise ValueError("no held-out reading: every reading of the table was trained on")
    built = build_pretraining_records(kt, ds, tasks=tuple(tasks), holdout_phases=(), split=None,
                                      reading_ids=ids, seed=seed, shuffle=False, **task_options)
    rng = np.random.default_rng(seed)
    kept, per_task = [], {}
    for task in tasks:
        recs = [r for r in built if r["task"] == task]
        if max_per_task is not None and len(recs) > max_per_task:
            pick = np.sort(rng.choice(len(recs), size=max_per_task, replace=False))
            recs = [recs[i] for i in pick]
        per_task[task] = {"built": built.summary["tasks"][task]["built"], "kept": len(recs),
                          "skipped": built.summary["tasks"][task]["skipped"]}
        kept.extend(recs)
    phases = Counter(int(meta.at[r, "phase"]) for r in ids)
    summary = {"readings": len(ids), "readings_by_phase": {str(k): v for k, v in
                                                           sorted(phases.items())},
               "excluded_trained": len(trained & set(candidates)),
               "excluded_same_image": len(same_image), "tasks": per_task,
               "max_per_task": max_per_task, "n_records": len(kept)}
    return RecordList(kept, summary)


def compare_sources(scores_by_source: dict) -> pd.DataFrame:
    """Rows = probe metrics, columns = sources (``trained``, ``untrained``, ``trivial``, ...),
    plus ``better_than_untrained`` / ``better_than_trivial`` for the trained column (using the
    metric's direction, :data:`PROBE_METRICS`)."""
    summary = {k: summarize_scores(v) for k, v in scores_by_source.items()}
    df = pd.DataFrame(summary)
    if "trained" in df.columns:
        for other in ("untrained", "trivial"):
            if other in df.columns:
                df[f"better_than_{other}"] = [
                    (df.at[m, "trained"] > df.at[m, other]) if PROBE_METRICS[m]
                    else (df.at[m, "trained"] < df.at[m, other]) for m in df.index]
    parsed = {k: v.groupby("metric")["parsed"].mean() for k, v in scores_by_source.items()}
    for k, p in parsed.items():
        df[f"parsed_{k}"] = [float(p.get(m, float("nan"))) for m in df.index]
    return df
