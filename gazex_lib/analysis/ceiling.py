"""The ceiling of chapter 03's probes, measured before any model is tuned.

Issue 9 asks two questions of the data first. Is there room between the strongest baseline
that does not look at the film and an answer that does? And how large a difference can the
test split's images detect at all? Both come from answers that need no training:

``planted_oracle`` (:class:`PlantedOracle`, synthetic data only)
    A *perfect image reader*: it knows where every planted finding lies (the generator's
    truth, ``synthetic_truth_*.jsonl``), but not where the radiologist looked. For a sentence
    about a planted finding it answers the finding's ellipse centre plus the mean offset,
    fitted on the training records per finding kind, from that centre to the gaze target
    (FVP: the observation box's corners and centroid; path: the point). Every other sentence
    gets the text-only answer, and SDA the best constant order: the image says nothing about
    them. Fitted on training records only, like every baseline, and scored by the same scorer.
``planted_ellipse``
    The same reader answering the finding's ellipse bounding box itself (FVP; its centre on
    the path), with no fitted offset: what a detector of the planted finding would write.

Numbers are on the 0-1000 grid internally and written in each record's ``coords``.

:func:`detectable_difference` turns the width of a paired image-bootstrap interval into the
smallest true difference the split detects with the given power at the interval's level
(normal approximation): ``(z_(1+ci)/2 + z_power) * SE``, with ``SE = (hi - lo) / (2 z_(1+ci)/2)``.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
from scipy import stats

from gazex_lib.eval.baselines import (TextOnlyBaseline, box_out, box_q1000, parse_finding,
                                      path_out, path_q1000)
from gazex_lib.tasks import format_boxes, format_path

__all__ = ["PlantedOracle", "planted_finding", "detectable_difference", "ceiling_report",
           "ceiling_frame"]


def _norm_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def planted_finding(truth: dict, reading_id: str, sentence_index: int, sentence: str):
    """The planted finding (a truth ``findings`` entry) that sentence ``sentence_index`` of
    ``reading_id`` describes, or ``None`` (a normal statement, or a reading without truth).

    ``sentence`` is the record's text; it must match the truth's sentence at that index
    (ignoring case, spaces and punctuation), else a ValueError names both: a misaligned
    oracle would score another sentence's finding."""
    rd = truth["readings"].get(reading_id)
    if rd is None:
        raise ValueError(f"reading {reading_id!r} is not in the synthetic truth")
    sents = rd["sentences"]
    if not 0 <= sentence_index < len(sents):
        raise ValueError(f"reading {reading_id!r}: sentence {sentence_index} out of range "
                         f"(the truth has {len(sents)})")
    s = sents[sentence_index]
    if _norm_text(s["text"]) != _norm_text(sentence):
        raise ValueError(f"reading {reading_id!r} sentence {sentence_index}: the record says "
                         f"{sentence!r}, the truth {s['text']!r}")
    if s.get("finding") is None:
        return None
    by_id = {f["finding"]: f for f in rd["findings"]}
    return by_id[s["finding"]]


def _centre_q(finding: dict, image_size) -> np.ndarray:
    w, h = image_size
    cx, cy = finding["center_px"]
    return np.array([cx / w * 1000, cy / h * 1000])


def _ellipse_q(finding: dict, image_size) -> np.ndarray:
    w, h = image_size
    x0, y0, x1, y1 = finding["ellipse_px"]
    c = _centre_q(finding, image_size)
    return np.array([x0 / w * 1000, y0 / h * 1000, x1 / w * 1000, y1 / h * 1000, *c])


class PlantedOracle(TextOnlyBaseline):
    """The perfect image reader of the module docstring. ``PlantedOracle.fit(train_records,
    truth=truth, mode="offset")``; ``mode="ellipse"`` answers the bare ellipse box
    (``name`` ``planted_ellipse``)."""
    MODES = ("offset", "ellipse")

    def __init__(self, truth: dict | None = None, mode: str = "offset"):
        if truth is None:
            raise ValueError("PlantedOracle needs the synthetic truth (gazex_lib.data."
                             "synthetic.load_truth): real data has no planted findings")
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.truth, self.mode = truth, mode
        self.name = "planted_oracle" if mode == "offset" else "planted_ellipse"

    def _fit(self, train_records) -> None:
        super()._fit(train_records)
        fvp, path = defaultdict(list), defaultdict(list)
        for r in train_records:
            meta = r["meta"]
            if r["task"] == "fvp":
                f = self._finding(r["reading_id"], meta["sentence_index"], meta["sentence"])
                if f is not None:
                    c = _centre_q(f, meta["image_size"])
                    fvp[f["kind"]].append(box_q1000(meta) - np.tile(c, 3))
            elif r["task"] == "gtm_path":
                pts = path_q1000(meta)
                for sidx, sent, p in zip(meta["sentence_index"], meta["sentences"], pts):
                    f = self._finding(r["reading_id"], sidx, sent)
                    if f is not None:
                        path[f["kind"]].append(np.asarray(p) - _centre_q(f, meta["image_size"]))
        self.fvp_offsets = {k: np.mean(v, axis=0) for k, v in fvp.items()}
        self.path_offsets = {k: np.mean(v, axis=0) for k, v in path.items()}
        every = [o for v in fvp.values() for o in v]
        self.fvp_offset_all = np.mean(every, axis=0) if every else np.zeros(6)
        every = [o for v in path.values() for o in v]
        self.path_offset_all = np.mean(every, axis=0) if every else np.zeros(2)

    def _finding(self, reading_id, sentence_index, sentence):
        return planted_finding(self.truth, reading_id, int(sentence_index), sentence)

    def _fvp(self, record: dict) -> str:
        meta = record["meta"]
        f = self._finding(record["reading_id"], meta["sentence_index"], meta["sentence"])
        if f is None:
            self._stats("fvp")["text_only"] += 1
            return super()._fvp(record)
        self._stats("fvp")["planted"] += 1
        if self.mode == "ellipse":
            q = _ellipse_q(f, meta["image_size"])
        else:
            q = np.tile(_centre_q(f, meta["image_size"]), 3) + self.fvp_offsets.get(
                f["kind"], self.fvp_offset_all)
        return format_boxes([], box_out(q, meta), self.fvp_style)

    def _path(self, record: dict) -> str:
        meta, stats = record["meta"], self._stats("gtm_path")
        pts = []
        for sidx, sent in zip(meta["sentence_index"], meta["sentences"]):
            f = self._finding(record["reading_id"], sidx, sent)
            if f is None:
                stats["text_only"] += 1
                pts.append(self.path.lookup(parse_finding(sent), Counter(), (500, 500)))
                continue
            stats["planted"] += 1
            c = _centre_q(f, meta["image_size"])
            pts.append(c if self.mode == "ellipse"
                       else c + self.path_offsets.get(f["kind"], self.path_offset_all))
        return format_path(path_out(pts, meta))

    def _fitted(self) -> dict:
        return {"mode": self.mode,
                "fvp_offset_q1000": {k: np.rint(v).astype(int).tolist()
                                     for k, v in sorted(self.fvp_offsets.items())},
                "path_offset_q1000": {k: np.rint(v).astype(int).tolist()
                                      for k, v in sorted(self.path_offsets.items())}}


def detectable_difference(ci_low: float, ci_high: float, *, ci: float, power: float) -> float:
    """The smallest true difference detected with probability ``power`` by a two-sided test at
    level ``1 - ci``, from a paired interval ``[ci_low, ci_high]`` of coverage ``ci`` (module
    docstring; same units as the metric)."""
    if not 0 < ci < 1 or not 0 < power < 1:
        raise ValueError(f"ci and power must be in (0, 1), got {ci!r} and {power!r}")
    z = stats.norm.ppf((1 + ci) / 2)
    se = (float(ci_high) - float(ci_low)) / (2 * z)
    return float((z + stats.norm.ppf(power)) * se)


def ceiling_report(splits: dict, answerers: dict, image_of, *, n_boot: int, seed: int,
                   ci: float, power: float, oracle: str | None = "planted_oracle",
                   baselines=("input_ignoring", "text_only"),
                   metrics=("fvp_iou", "gtm_centroid_error_px")) -> dict:
    """The ceiling of every probe metric on each split, before any model is trained.

    ``splits``: ``{split: probe records}``; ``answerers``: ``{name: fitted baseline}`` (each
    with ``answers(records)``), holding every name of ``baselines`` and, unless ``oracle`` is
    ``None`` (real data), the oracle. ``image_of``: ``{record id: image id}``. ``n_boot``,
    ``seed``, ``ci`` as :func:`~gazex_lib.analysis.image_bootstrap`; ``power`` for
    :func:`detectable_difference`.

    Returns ``{split: {"scores": {source: summary}, "room": {metric: entry}}}``; ``scores``
    adds ``perfect``, a copy of each record's target (the scorer's best: IoU 1, error 0,
    accuracy 1). ``room`` compares the oracle with the strongest baseline on that split
    (``best_baseline``, ``baseline``, ``oracle``, ``diff`` oracle minus baseline with its
    interval ``ci_low``/``ci_high`` over images, ``n_images``) and gives
    ``detectable_difference``, the smallest difference the split's images detect with
    ``power`` (from the width of that paired interval), for each of ``metrics`` (the ones an
    image reader can improve: SDA orders gaze frames, about which the film says nothing, so
    the oracle answers SDA as the best constant order and its ceiling is ``perfect``'s).
    Without an oracle, ``room`` is ``{}``.
    """
    from gazex_lib.analysis.bootstrap import image_bootstrap
    from gazex_lib.eval import PROBE_METRICS, score_answers, summarize_scores
    from gazex_lib.tasks import record_target

    names = list(baselines) + ([oracle] if oracle else [])
    missing = [n for n in names if n not in answerers]
    if missing:
        raise ValueError(f"ceiling_report: no answerer named {missing}; have {list(answerers)}")
    out = {}
    for split, recs in splits.items():
        recs = list(recs)
        scored = {n: score_answers(recs, answerers[n].answers(recs)) for n in names}
        scored["perfect"] = score_answers(recs, [record_target(r) for r in recs])
        block = {"scores": {n: summarize_scores(s) for n, s in scored.items()}, "room": {}}
        if oracle:
            table = image_bootstrap(scored, image_of, n_boot=n_boot, seed=seed, ci=ci,
                                    pairs=[(oracle, b) for b in baselines])
            for metric in metrics:
                higher = PROBE_METRICS[metric]
                vals = {b: block["scores"][b].get(metric) for b in baselines}
                if any(v is None or not np.isfinite(v) for v in vals.values()):
                    continue                    # a metric without records on this split
                best = (max if higher else min)(baselines, key=lambda b: vals[b])
                row = table[(table["metric"] == metric) & (table["kind"] == "diff")
                            & (table["reference"] == best)].iloc[0]
                block["room"][metric] = {
                    "best_baseline": best, "baseline": float(vals[best]),
                    "oracle": float(block["scores"][oracle][metric]),
                    "diff": float(row["estimate"]), "ci_low": float(row["ci_low"]),
                    "ci_high": float(row["ci_high"]), "n_images": int(row["n_images"]),
                    "detectable_difference": detectable_difference(
                        row["ci_low"], row["ci_high"], ci=ci, power=power)}
        out[split] = block
    return out


def ceiling_frame(report: dict):
    """:func:`ceiling_report` as one table: a row per (split, metric), the score of every
    source, then the oracle's room over the strongest baseline with its interval and the
    detectable difference (empty without an oracle)."""
    import pandas as pd

    rows = []
    for split, block in report.items():
        metrics = sorted({m for s in block["scores"].values() for m in s})
        for metric in metrics:
            row = {"split": split, "metric": metric,
                   **{src: s.get(metric) for src, s in block["scores"].items()}}
            room = block["room"].get(metric)
            if room:
                row.update({"best_baseline": room["best_baseline"], "room": room["diff"],
                            "room_ci": f"[{room['ci_low']:.3g}, {room['ci_high']:.3g}]",
                            "detectable": room["detectable_difference"],
                            "n_images": room["n_images"]})
            rows.append(row)
    frame = pd.DataFrame(rows).set_index(["split", "metric"])
    if "n_images" in frame.columns:
        frame["n_images"] = frame["n_images"].astype("Int64")     # a count, blank where no room
    return frame
