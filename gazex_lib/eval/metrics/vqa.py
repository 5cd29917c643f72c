"""VQA accuracy on Medical-CXR-VQA: normalised exact match, lists compared as sets.

**Normalisation** (:func:`normalize_answer`): lower case; surrounding spaces removed; every
character that is not a letter, a digit, a space, a comma or a hyphen dropped (``"Yes."`` ->
``yes``); the articles ``a``, ``an``, ``the`` dropped; runs of spaces collapsed.

**Lists** (:func:`answer_set`). Abnormality answers join several findings with commas
(``"atelectasis, pleural effusion"``); they are split on commas and on ``" and "``, each item
normalised, and compared as **sets**: order does not matter, and every item must match (no
partial credit). A one-item answer is a one-item set, so single answers compare as strings.

**Closed** questions are those whose reference answer is ``yes`` or ``no``; every other one is
**open**. ``by_type`` reports each question type given (Medical-CXR-VQA has six: abnormality,
presence, view, location, level, type).
"""
from __future__ import annotations

import re
from collections import defaultdict

__all__ = ["normalize_answer", "answer_set", "vqa_accuracy", "CLOSED_ANSWERS"]

CLOSED_ANSWERS = ("yes", "no")
_DROP = re.compile(r"[^a-z0-9 ,\-]")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_SPLIT = re.compile(r",|\band\b")


def normalize_answer(text) -> str:
    """The normalised answer (module docstring)."""
    s = _DROP.sub("", str(text).lower().strip())
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def answer_set(text) -> frozenset:
    """The set of normalised items of an answer (module docstring)."""
    items = (" ".join(part.split()) for part in _SPLIT.split(normalize_answer(text)))
    return frozenset(i.strip(" -") for i in items if i.strip(" -"))


def vqa_accuracy(references, predictions, question_types) -> dict:
    """``{"overall", "closed", "open", "by_type": {type: acc}, "n": {...}}`` of exact-match
    accuracy (module docstring). The three sequences are row-aligned."""
    refs, preds, types = list(references), list(predictions), list(question_types)
    if not len(refs) == len(preds) == len(types):
        raise ValueError(f"{len(refs)} references, {len(preds)} predictions and {len(types)} "
                         "question types: one of each per question")
    hits = defaultdict(list)
    for ref, pred, qtype in zip(refs, preds, types):
        ok = answer_set(ref) == answer_set(pred)
        kind = "closed" if normalize_answer(ref) in CLOSED_ANSWERS else "open"
        for key in ("overall", kind, f"type:{qtype}"):
            hits[key].append(ok)

    def acc(key):
        v = hits.get(key, [])
        return sum(v) / len(v) if v else float("nan")

    type_keys = sorted(k[5:] for k in hits if k.startswith("type:"))
    return {"overall": acc("overall"), "closed": acc("closed"), "open": acc("open"),
            "by_type": {t: acc(f"type:{t}") for t in type_keys},
            "n": {"overall": len(hits["overall"]), "closed": len(hits.get("closed", [])),
                  "open": len(hits.get("open", [])),
                  "by_type": {t: len(hits[f"type:{t}"]) for t in type_keys}}}
