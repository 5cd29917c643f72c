"""Reports, labels, MS-CXR pairs and VQA questions of one synthetic study, from its findings.

:func:`study_report` writes the report from the sentence bank (:mod:`.report_bank`): one
sentence per planted finding (hedged when its ``certainty`` is below ``hedge_below``), a few
denials of absent findings (never of a label a finding sentence asserts), and normal statements
that no planted finding forbids. Every sentence keeps its labels; the report's 14 labels are
their CheXpert aggregation, so the CheXpert-format CSV is derived from the text's truth.

:func:`ms_cxr_pairs` turns each positive finding of an MS-CXR category into a phrase-box pair
(the phrase is its finding sentence, or for a share, a phrase that names the finding without
locating it); :func:`vqa_questions` asks the six Medical-CXR-VQA question types with answers
from the truth.
"""
from __future__ import annotations

import numpy as np

from .report_bank import HEDGED, KIND_LABEL, NEGATED, NORMAL, POSITIVE, fill, report_labels

__all__ = ["study_report", "ms_cxr_pairs", "vqa_questions", "ANSWER_NAMES", "MS_CXR_CATEGORY"]

#: The name a VQA answer (and question) uses for a kind.
ANSWER_NAMES = {"support_device": "support device", "effusion": "pleural effusion", "cardiomegaly": "cardiomegaly",
                "atelectasis": "atelectasis", "consolidation": "consolidation", "edema": "pulmonary edema",
                "groundglass": "lung opacity", "nodule": "nodule", "mass": "mass", "pneumothorax": "pneumothorax",
                "pneumonia": "pneumonia", "pleural_thickening": "pleural thickening", "fracture": "rib fracture",
                "widened_mediastinum": "widened mediastinum"}
#: Kinds whose findings are MS-CXR categories.
MS_CXR_CATEGORY = {"atelectasis": "Atelectasis", "cardiomegaly": "Cardiomegaly", "consolidation": "Consolidation",
                   "edema": "Edema", "groundglass": "Lung Opacity", "effusion": "Pleural Effusion",
                   "pneumonia": "Pneumonia", "pneumothorax": "Pneumothorax"}
#: Phrases that name a finding without locating it (the MS-CXR subset the grounding chapter needs).
UNLOCATED_PHRASES = {"atelectasis": "There is atelectasis.", "cardiomegaly": "The heart is enlarged.",
                     "consolidation": "There is consolidation.", "edema": "There is pulmonary edema.",
                     "groundglass": "There is an opacity.", "effusion": "There is a pleural effusion.",
                     "pneumonia": "There is pneumonia.", "pneumothorax": "There is a pneumothorax."}


_DEVICE_SENTENCE = {"endotracheal tube": 0, "central line": 1, "enteric tube": 2}


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def study_report(rng: np.random.Generator, findings: list[dict], *, hedge_below: float,
                 negations: tuple[int, int]) -> dict:
    """The study's report: ``sentences`` (``text``, ``labels``, ``finding`` index or None,
    ``role``: finding / hedged / negated / normal), ``findings`` and ``impression`` section texts,
    and ``labels`` (the 14-vector, NaN blank). Findings carry ``kind`` and ``certainty``."""
    sentences = []
    for i, f in enumerate(findings):
        hedge = f.get("certainty", 1.0) < hedge_below and HEDGED.get(f["kind"])
        bank = HEDGED if hedge else POSITIVE
        template, labels = _pick(rng, bank[f["kind"]])
        if f["kind"] == "support_device" and f.get("device"):      # the sentence names the device drawn
            template, labels = POSITIVE["support_device"][_DEVICE_SENTENCE[f["device"]]]
        sentences.append({"text": fill(template, f), "labels": dict(labels), "finding": i,
                          "role": "hedged" if hedge else "finding"})
    asserted = {lab for s in sentences for lab in s["labels"]}
    planted = {f["kind"] for f in findings}
    absent = [k for k in NEGATED if NEGATED[k] and k not in planted and KIND_LABEL[k] not in asserted]
    n_neg = min(len(absent), int(rng.integers(negations[0], negations[1] + 1)))
    for j in sorted(rng.choice(len(absent), size=n_neg, replace=False)) if n_neg else []:
        template, labels = _pick(rng, NEGATED[absent[int(j)]])
        sentences.append({"text": template, "labels": dict(labels), "finding": None, "role": "negated"})
    asserted |= {lab for s in sentences for lab in s["labels"]}
    normals = [(t, lab) for t, lab, forbid in NORMAL if not (forbid & planted) and not (set(lab) & asserted)]
    for j in rng.permutation(len(normals))[: int(rng.integers(1, 3))]:
        text, labels = normals[int(j)]
        sentences.append({"text": text, "labels": dict(labels), "finding": None, "role": "normal"})
    shown = [s["text"] for s in sentences if s["role"] in ("finding", "hedged")]
    impression = " ".join(shown) if shown else "No acute cardiopulmonary process."
    return {"sentences": sentences, "findings": " ".join(s["text"] for s in sentences),
            "impression": impression, "labels": report_labels([s["labels"] for s in sentences])}


def ms_cxr_pairs(rng: np.random.Generator, findings: list[dict], report: dict, *, width: int, height: int,
                 unlocated_fraction: float) -> list[dict]:
    """MS-CXR rows (``category_name, label_text, x, y, w, h, located``) of the study's positive
    findings of an MS-CXR category; the box is the finding's ellipse's bounding box, clipped to
    the image."""
    out = []
    for s in report["sentences"]:
        if s["role"] != "finding":
            continue
        f = findings[s["finding"]]
        if f["kind"] not in MS_CXR_CATEGORY:
            continue
        located = not (rng.random() < unlocated_fraction)
        (cx, cy), (rx, ry) = f["center_px"], f["axes_px"]
        x0, y0 = max(0.0, cx - rx), max(0.0, cy - ry)
        x1, y1 = min(float(width), cx + rx), min(float(height), cy + ry)
        out.append({"category_name": MS_CXR_CATEGORY[f["kind"]],
                    "label_text": s["text"] if located else UNLOCATED_PHRASES[f["kind"]],
                    "x": round(x0, 1), "y": round(y0, 1), "w": round(x1 - x0, 1), "h": round(y1 - y0, 1),
                    "located": located})
    return out


def vqa_questions(rng: np.random.Generator, findings: list[dict], report: dict, *, view: str,
                  n: int) -> list[dict]:
    """Up to ``n`` questions of distinct types (``question_type, question, answer``) about the
    study, answered from its truth (hedged findings are not asked about)."""
    shown = [findings[s["finding"]] for s in report["sentences"] if s["role"] == "finding"]
    names = [ANSWER_NAMES[f["kind"]] for f in shown]
    pool = []
    pool.append(("abnormality", "what abnormalities are seen in this image?",
                 ", ".join(dict.fromkeys(names)) if names else "no finding"))
    planted = {f["kind"] for f in findings}
    ask = _pick(rng, shown)["kind"] if shown and rng.random() < 0.5 else \
        _pick(rng, [k for k in ANSWER_NAMES if k not in planted])
    pool.append(("presence", f"is there evidence of {ANSWER_NAMES[ask]} in this image?",
                 "yes" if ask in {f['kind'] for f in shown} else "no"))
    pool.append(("view", "which view is this image taken?", view))
    located = [f for f in shown if f.get("side") in ("right", "left")]
    if located:
        f = _pick(rng, located)
        where = f["side"] + (f" {f['zone']}" if f.get("zone") else "")
        pool.append(("location", f"where is the {ANSWER_NAMES[f['kind']]}?", f"{where} lung"))
    graded = [f for f in shown if f.get("severity")]
    if graded:
        f = _pick(rng, graded)
        pool.append(("level", f"what level is the {ANSWER_NAMES[f['kind']]}?", f["severity"]))
    typed = [f for f in shown if f["kind"] in ("support_device", "nodule", "mass")]
    if typed:
        f = _pick(rng, typed)
        what = f.get("device") or f["kind"]
        pool.append(("type", f"what type is the {ANSWER_NAMES[f['kind']]}?", what))
    keep = sorted(rng.permutation(len(pool))[:n])
    return [dict(zip(("question_type", "question", "answer"), pool[int(k)])) for k in keep]
