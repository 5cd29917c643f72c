"""Finding detection against a consensus of readers (the multi-reader phases).

Input: one row per (image, reader, label) that the reader reported positive (long format,
columns ``image``, ``reader``, ``label``), plus the readers of each image (a reader who read an
image and reported nothing still counts as having read it).

A label is **consensus-positive** on an image when at least ``min_agree`` readers reported it.
:func:`detection_vs_consensus` scores each reader's labels against a consensus:

* ``leave_one_out=True`` (ours): the consensus of the **other** readers of the image, so a
  reader is never scored against their own reading;
* ``leave_one_out=False`` (the official analysis, a switch): the consensus of all readers,
  the scored one included, which credits each reader with agreeing with themself.

Per reader: ``tp`` (reported and consensus-positive), ``fn`` (consensus-positive, not
reported), ``fp`` (reported, not consensus-positive), ``sensitivity`` = tp / (tp + fn),
``precision`` = tp / (tp + fp) (NaN when undefined), over every image the reader read.
:func:`candidate_vs_consensus` scores an outside candidate (the model's generated reports)
against the consensus of all readers.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

__all__ = ["consensus_labels", "detection_vs_consensus", "candidate_vs_consensus"]

_COLUMNS = ["tp", "fn", "fp", "sensitivity", "precision", "n_images"]


def _check(positives: pd.DataFrame, readers: dict) -> None:
    for col in ("image", "reader", "label"):
        if col not in positives.columns:
            raise ValueError(f"positives needs columns image, reader, label; missing {col!r}")
    unknown = positives[[r not in readers.get(i, ()) for i, r in zip(positives["image"], positives["reader"])]]
    if len(unknown):
        r = unknown.iloc[0]
        raise ValueError(f"reader {r['reader']!r} reported on image {r['image']!r} but is not among its readers")


def consensus_labels(positives: pd.DataFrame, image, readers, min_agree: int) -> set:
    """Labels that at least ``min_agree`` of ``readers`` reported positive on ``image``."""
    part = positives[(positives["image"] == image) & positives["reader"].isin(list(readers))]
    votes = Counter(part.drop_duplicates(["reader", "label"])["label"])
    return {lab for lab, n in votes.items() if n >= min_agree}


def _rates(tp: int, fn: int, fp: int, n: int) -> dict:
    return {"tp": tp, "fn": fn, "fp": fp,
            "sensitivity": tp / (tp + fn) if tp + fn else np.nan,
            "precision": tp / (tp + fp) if tp + fp else np.nan, "n_images": n}


def detection_vs_consensus(positives: pd.DataFrame, readers: dict, *, min_agree: int = 2,
                           leave_one_out: bool = True) -> pd.DataFrame:
    """Each reader's tp / fn / fp against the consensus (module docstring). ``readers``: image ->
    the readers who read it. One row per reader, plus ``all`` (the sums)."""
    _check(positives, readers)
    totals: dict = {}
    for image, group in readers.items():
        for reader in group:
            others = [r for r in group if r != reader] if leave_one_out else list(group)
            truth = consensus_labels(positives, image, others, min_agree)
            mine = set(positives[(positives["image"] == image) & (positives["reader"] == reader)]["label"])
            t = totals.setdefault(reader, [0, 0, 0, 0])
            t[0] += len(mine & truth)
            t[1] += len(truth - mine)
            t[2] += len(mine - truth)
            t[3] += 1
    rows = {reader: _rates(*t) for reader, t in sorted(totals.items())}
    rows["all"] = _rates(*(int(sum(t[j] for t in totals.values())) for j in range(4)))
    out = pd.DataFrame.from_dict(rows, orient="index")[_COLUMNS]
    out.index.name = "reader"
    out.attrs.update(min_agree=min_agree, leave_one_out=leave_one_out)
    return out


def candidate_vs_consensus(candidate: dict, positives: pd.DataFrame, readers: dict, *,
                           min_agree: int = 2) -> dict:
    """An outside candidate's labels (``image -> set of labels``, e.g. the model's reports)
    against the consensus of every reader of each image it answered."""
    _check(positives, readers)
    tp = fn = fp = n = 0
    for image, labels in candidate.items():
        if image not in readers:
            raise ValueError(f"the candidate answered image {image!r}, which no reader read")
        truth = consensus_labels(positives, image, readers[image], min_agree)
        labels = set(labels)
        tp, fn, fp, n = tp + len(labels & truth), fn + len(truth - labels), fp + len(labels - truth), n + 1
    return _rates(tp, fn, fp, n)
