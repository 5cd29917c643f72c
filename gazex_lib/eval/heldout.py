"""Gaze probes on held-out readings: does pretraining teach where and in what order to look?

Three probe tasks, one number each (what ``03_pretraining.json`` reports under ``heldout``):

``fvp_iou`` (FVP, higher is better)
    IoU (unitless, in [0, 1]) of the answer's **observation** box with the record's **own
    target** observation box, both mapped to the film grid (¼-scale px,
    :func:`gazex_lib.tasks.fvp_to_grid`; ``q<N>`` answer numbers clipped to [0, N], the grid
    they are written on, ``q1000`` by default). The truth is ``meta["observation"]`` (:func:`fvp_truth_grid`): the
    box written in the target, after the record's ``shrink`` and in its ``coords``, i.e. what
    the model was trained to write, so a perfect copy of the target scores exactly 1. (It
    used to be ``meta["observation_grid"]``, the table's box *before* the shrink: a model
    trained on shrunk boxes was scored against unshrunk ones.) An answer without an
    observation box scores 0. Mean over records.
``gtm_centroid_error_px`` (``gtm_path``, lower is better)
    Euclidean distance in **original image pixels** between the answer's point for a sentence
    and the true gaze centroid of that sentence (the holistic map's intensity-weighted
    centroid, as the target writes it on its 0-N grid, :func:`path_truth_orig`; answer
    numbers clipped to [0, N]). Points are matched **by their labels**
    (``<path>2:(x,y),1:(x,y)</path>``: the number before the colon names the sentence, as
    the target writes it; :func:`gazex_lib.tasks.path.parse_path_labelled`), not by their
    position. A sentence without a usable point (no point labelled with its number; points
    without a label, with a label out of ``1..n`` or with a label already used, the first
    one kept, are not usable) scores the largest error possible for that sentence, the
    distance from the true centroid to the farthest image corner, just as a missing FVP box
    scores IoU 0 and an invalid order scores 0. Mean over sentences. (The error over the
    points that were answered, how many were missing, and how many written points had an
    unusable label, ``label_errors``, are kept next to it.)
``sda_order_accuracy`` (``sda_global`` + ``sda_finding``, higher is better)
    Share (unitless, in [0, 1]) of positions of the true order that the answer gets right
    (:func:`gazex_lib.tasks.order_accuracy`). An answer that is not a **permutation** of the
    numbers a correct answer uses (``1..n`` for ``order_format="ranks"``, ``0..n-1`` for
    ``"official"``; wrong length, repeats, numbers out of range, nothing parsed) scores 0 and
    is flagged ``invalid``. (``"official"`` with more than 10 frames cannot be decoded one
    digit per index; there only the exact target string is valid.) Mean over records.

Every record's score, whether its answer parsed and, for SDA, whether it was invalid, is kept
(:func:`score_answers`), so a summary can always be traced back to its answers.

**Trivial baselines** (:class:`TrivialBaseline`, fitted on the *training* records; the
``trivial`` key of the chapter): FVP: the mean training observation box, no clues; GTM path:
the mean training point at each sentence position (later positions: the overall mean); SDA:
the identity order. Identity shuffles are re-drawn (:mod:`gazex_lib.tasks.order`), so the
identity answer is never exactly right and scores *below* a random permutation
(``sda_chance``, the expected accuracy ``1/n`` of a uniformly random order). The baselines a
reviewer should compare against, input-ignoring (with the best constant SDA order) and
text-only, are in :mod:`gazex_lib.eval.baselines`.

**Held-out readings** (:func:`heldout_records`): every reading of the key-frame table that no
training record comes from and whose image no training record shows.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from gazex_lib.eval.baselines import (CENTRE_BOX, SDA_TASKS, box_out, box_q1000,
                                      mean_path_by_position, path_out, path_q1000,
                                      rounded_mean)
from gazex_lib.tasks import (build_pretraining_records, decode_order, encode_order,
                             format_boxes, format_path, fvp_to_grid, order_accuracy,
                             order_truth, parse_fvp)
from gazex_lib.tasks.fvp import box_iou
from gazex_lib.tasks.coords import grid_steps
from gazex_lib.tasks.path import parse_path_labelled
from gazex_lib.tasks.records import RecordList

__all__ = ["PROBE_TASKS", "PROBE_METRICS", "score_fvp", "score_path", "score_sda",
           "score_answers", "summarize_scores", "TrivialBaseline", "heldout_records",
           "sda_chance", "compare_sources", "path_details", "sda_details", "fvp_truth_grid",
           "path_truth_orig"]

#: The probe tasks and the metric each feeds.
PROBE_TASKS = {"fvp": "fvp_iou", "gtm_path": "gtm_centroid_error_px",
               "sda_global": "sda_order_accuracy", "sda_finding": "sda_order_accuracy"}
#: Metric -> True when higher is better.
PROBE_METRICS = {"fvp_iou": True, "gtm_centroid_error_px": False, "sda_order_accuracy": True}


def fvp_truth_grid(record: dict) -> tuple:
    """The scored truth of an FVP record, on the film grid (¼-scale px): its own target
    observation box ``meta["observation"]`` (after the record's shrink, in its ``coords``)
    mapped back with :func:`gazex_lib.tasks.fvp_to_grid`. Not ``meta["observation_grid"]``,
    the table's box before the shrink (module docstring)."""
    meta = record["meta"]
    return fvp_to_grid(meta["observation"], meta["coords"], meta["film_size"])


def score_fvp(record: dict, answer: str) -> dict:
    """``{"value": IoU, "parsed": bool, "n": 1}`` of one FVP answer against
    :func:`fvp_truth_grid` (module docstring)."""
    meta = record["meta"]
    obs = parse_fvp(answer or "")["observation"]
    if obs is None:
        return {"value": 0.0, "parsed": False, "n": 1}
    steps = grid_steps(meta["coords"])
    if steps is not None:
        obs = tuple(min(max(v, 0.0), float(steps)) for v in obs)
    pred = fvp_to_grid(obs, meta["coords"], meta["film_size"])
    iou = box_iou(pred, fvp_truth_grid(record))
    return {"value": 0.0 if math.isnan(iou) else iou, "parsed": True, "n": 1}


def path_steps(meta: dict) -> int:
    """``N`` of a path record's ``q<N>`` grid (records without ``coords``: 1000)."""
    return grid_steps(meta.get("coords", "q1000"))


def path_truth_orig(record: dict) -> np.ndarray:
    """The scored truth of a ``gtm_path`` record, ``(n, 2)`` in original image px: its own
    target points ``meta["points"]`` (on its 0-N grid, ``q1000`` by default) times
    ``image_size / N``. They differ from the centroids ``meta["points_orig"]`` by the grid's
    rounding only (up to ``image size / 2N`` px per axis), and a perfect copy of the target
    scores error 0."""
    w, h = record["meta"]["image_size"]
    steps = path_steps(record["meta"])
    return np.asarray(record["meta"]["points"], dtype=float).reshape(-1, 2) / steps * [w, h]


def score_path(record: dict, answer: str) -> dict:
    """``{"value": mean error px, "sum": .., "n": sentences, "parsed": bool, "missing": k,
    "answered_sum": .., "answered_n": .., "label_errors": j}`` of one ``gtm_path`` answer.

    Points are matched to sentences by their labels (module docstring); grid numbers are
    clipped to [0, N] (1000 for ``q1000``) and mapped to original px; a sentence without a usable point scores
    the distance to the farthest image corner. ``label_errors``: written points not used
    (no label, a label out of ``1..n``, or a repeated label)."""
    meta = record["meta"]
    if "image_size" not in meta:
        raise KeyError(f"record {record.get('id')!r} has no meta['image_size'] (original px); "
                       "build it with gazex_lib.tasks.build_pretraining_records")
    w, h = meta["image_size"]
    truth = path_truth_orig(record)
    steps = float(path_steps(meta))
    points = parse_path_labelled(answer or "")
    by_label = {}
    for label, x, y in points:
        if label is not None and 1 <= label <= len(truth) and label not in by_label:
            by_label[label] = (x, y)
    errors, answered = [], []
    for i, (tx, ty) in enumerate(truth):
        if i + 1 in by_label:
            qx, qy = (min(max(v, 0.0), steps) for v in by_label[i + 1])
            err = math.hypot(qx / steps * w - tx, qy / steps * h - ty)
            answered.append(err)
        else:
            err = max(math.hypot(cx - tx, cy - ty) for cx in (0, w) for cy in (0, h))
        errors.append(err)
    return {"value": float(np.mean(errors)), "sum": float(np.sum(errors)), "n": len(errors),
            "parsed": bool(points), "missing": len(errors) - len(answered),
            "answered_sum": float(np.sum(answered)), "answered_n": len(answered),
            "label_errors": len(points) - len(by_label)}


def score_sda(record: dict, answer: str) -> dict:
    """``{"value": position accuracy, "parsed": bool, "invalid": bool, "exact": bool,
    "n": frames}``: an answer that is not a permutation of the truth's numbers scores 0 and
    is ``invalid`` (module docstring)."""
    meta = record["meta"]
    fmt = meta.get("order_format", "ranks")
    truth = [int(v) for v in meta["order"]]
    pred = decode_order(answer or "", fmt)
    if fmt == "official" and len(truth) > 10 and "".join(map(str, pred)) == "".join(
            map(str, truth)):
        pred = list(truth)       # one digit per index cannot read 10+ frames: exact text only
    valid = sorted(pred) == sorted(truth)
    return {"value": order_accuracy(pred, truth) if valid else 0.0, "parsed": bool(pred),
            "invalid": not valid, "exact": pred == truth, "n": len(truth)}


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
    """The chapter's ``trivial`` answers, fitted on the training records (on the 0-1000 grid,
    answered in each record's ``coords``): FVP the mean training observation box (no clues), GTM path the mean point by sentence position,
    SDA the **identity** order (penalised by the identity re-draw; see
    :mod:`gazex_lib.eval.heldout`). ``answer(record) -> str``."""

    def __init__(self, fvp_box=None, path_points=None, path_mean=None):
        self.fvp_box = list(fvp_box) if fvp_box is not None else list(CENTRE_BOX)
        self.path_points = [list(p) for p in (path_points or [])]
        self.path_mean = list(path_mean) if path_mean is not None else [500, 500]

    @classmethod
    def fit(cls, train_records) -> "TrivialBaseline":
        fvp = [box_q1000(r["meta"]) for r in train_records if r["task"] == "fvp"]
        points, mean = mean_path_by_position(
            [path_q1000(r["meta"]) for r in train_records if r["task"] == "gtm_path"])
        return cls(rounded_mean(fvp) if fvp else None, points, mean)

    def answer(self, record: dict) -> str:
        task, meta = record["task"], record["meta"]
        if task == "fvp":
            return format_boxes([], box_out(self.fvp_box, meta), "clean")
        if task == "gtm_path":
            n = int(meta["n_points"])
            return format_path(path_out([self.path_points[i] if i < len(self.path_points)
                                         else self.path_mean for i in range(n)], meta))
        if task in SDA_TASKS:
            fmt = meta.get("order_format", "ranks")
            return encode_order(order_truth(list(range(int(meta["n_frames"]))), fmt), fmt)
        raise ValueError(f"no trivial answer for task {task!r}")

    def answers(self, records) -> list[str]:
        return [self.answer(r) for r in records]

    def to_dict(self) -> dict:
        return {"fvp_box_q1000": self.fvp_box, "path_points_q1000": self.path_points,
                "path_mean_q1000": self.path_mean}


def sda_details(scores: pd.DataFrame) -> dict:
    """SDA detail: the order accuracy of ``sda_global`` and ``sda_finding`` on their own (the
    headline pools them), and the share of SDA answers that were not a permutation."""
    s = scores[scores["metric"] == "sda_order_accuracy"] if len(scores) else scores
    by_task = {t: float(s.loc[s["task"] == t, "value"].mean()) if (s["task"] == t).any()
               else float("nan") for t in ("sda_global", "sda_finding")}
    invalid = float(s["invalid"].astype(bool).mean()) if len(s) and "invalid" in s else float("nan")
    return {"by_task": by_task, "invalid_share": invalid}


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
                    max_per_task: int | None = None, seed: int = 0, readings=None,
                    **task_options) -> RecordList:
    """Probe records from the readings no training record comes from, and whose image no
    training record shows (module docstring), every phase and split, or only those of them
    in ``readings`` (a collection of reading ids: a validation or test split).

    ``max_per_task``: keep at most that many records per task (a seeded sample, in the built
    order). ``task_options`` go to :func:`gazex_lib.tasks.build_pretraining_records` (use the
    training run's, e.g. ``order_format``). ``summary`` counts readings and records."""
    meta = ds.metadata if hasattr(ds, "metadata") else ds
    table = kt.table if hasattr(kt, "table") else kt
    trained = {r["reading_id"] for r in train_records}
    images = set(meta.loc[sorted(trained & set(meta.index)), "dicom_id"]) \
        if "dicom_id" in meta.columns else set()
    candidates = sorted(set(table["reading_id"]))
    if readings is not None:
        candidates = sorted(set(candidates) & set(readings))
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
    """Rows = probe metrics, columns = sources (``trained``, ``untrained``, ``trivial``,
    ``input_ignoring``, ...), plus ``better_than_<source>`` for the trained column against
    every other source (using the metric's direction, :data:`PROBE_METRICS`),
    ``parsed_<source>`` (share of answers that parsed) and ``invalid_<source>`` (share of SDA
    answers that were not a permutation; NaN on the other metrics)."""
    summary = {k: summarize_scores(v) for k, v in scores_by_source.items()}
    df = pd.DataFrame(summary)
    if "trained" in df.columns:
        for other in [c for c in summary if c != "trained"]:
            df[f"better_than_{other}"] = [
                (df.at[m, "trained"] > df.at[m, other]) if PROBE_METRICS[m]
                else (df.at[m, "trained"] < df.at[m, other]) for m in df.index]
    for k, v in scores_by_source.items():
        p = v.groupby("metric")["parsed"].mean()
        df[f"parsed_{k}"] = [float(p.get(m, float("nan"))) for m in df.index]
    for k, v in scores_by_source.items():
        sda = v[v["metric"] == "sda_order_accuracy"] if "invalid" in v.columns else v.iloc[:0]
        share = float(sda["invalid"].astype(bool).mean()) if len(sda) else float("nan")
        df[f"invalid_{k}"] = [share if m == "sda_order_accuracy" else float("nan")
                              for m in df.index]
    return df
