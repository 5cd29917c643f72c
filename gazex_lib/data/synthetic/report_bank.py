"""The sentence bank of the synthetic downstream reports: every sentence with its 14-label truth.

Each template carries the labels its text asserts, in CheXbert's coding (1 positive, 0
negative, -1 uncertain); labels it does not mention stay blank. A sentence never says more
than its labels: an edema sentence that reads as lung opacity ("bilateral opacities consistent
with pulmonary edema") carries both. ``tests/test_report_bank.py`` checks every template against
the rule-based labeller and checks that all 14 labels occur.

* :data:`POSITIVE`: per finding kind, sentences that assert it (``{side}``, ``{zone}``,
  ``{lobe}``, ``{sev}`` are filled from the planted finding; ``{Side}`` etc. capitalised);
* :data:`HEDGED`: per kind, sentences that leave it uncertain (a low planted certainty);
* :data:`NEGATED`: per kind, sentences that deny it;
* :data:`NORMAL`: normal statements (their labels are 0s), with the kinds that forbid them;
* :data:`KIND_LABEL`: each finding kind's own CheXbert label (a sentence may assert more: the
  pneumonia sentence "consolidation ..., consistent with pneumonia" also asserts Consolidation).

:func:`sentence_labels` and :func:`report_labels` aggregate as CheXpert does: per label,
positive if any sentence says positive, else uncertain if any says uncertain, else negative if
any says negative, else blank; ``No Finding`` is 1 when no label but ``Support Devices`` is
positive or uncertain.
"""
from __future__ import annotations

import numpy as np

from gazex_lib.data.labels import CHEXBERT_LABELS

__all__ = ["POSITIVE", "HEDGED", "NEGATED", "NORMAL", "KIND_LABEL", "fill", "report_labels",
           "label_vector", "DOWNSTREAM_KINDS"]

#: The label of each downstream finding kind.
KIND_LABEL = {
    "widened_mediastinum": "Enlarged Cardiomediastinum", "cardiomegaly": "Cardiomegaly",
    "groundglass": "Lung Opacity", "nodule": "Lung Lesion", "mass": "Lung Lesion", "edema": "Edema",
    "consolidation": "Consolidation", "pneumonia": "Pneumonia", "atelectasis": "Atelectasis",
    "pneumothorax": "Pneumothorax", "effusion": "Pleural Effusion",
    "pleural_thickening": "Pleural Other", "fracture": "Fracture", "support_device": "Support Devices",
}
DOWNSTREAM_KINDS = tuple(KIND_LABEL)

_P, _U, _N = 1.0, -1.0, 0.0

#: kind -> ((template, {label: value}), ...): sentences asserting the kind.
POSITIVE: dict[str, tuple[tuple[str, dict], ...]] = {
    "widened_mediastinum": (("The mediastinum is widened.", {"Enlarged Cardiomediastinum": _P}),
                            ("There is mediastinal widening.", {"Enlarged Cardiomediastinum": _P})),
    "cardiomegaly": (("The heart is {sevly} enlarged.", {"Cardiomegaly": _P}),
                     ("There is {sev} cardiomegaly.", {"Cardiomegaly": _P})),
    "groundglass": (("Hazy opacity in the {lobe}.", {"Lung Opacity": _P}),
                    ("There is a {sev} groundglass opacity in the {lobe}.", {"Lung Opacity": _P})),
    "nodule": (("There is a small nodule in the {lobe}.", {"Lung Lesion": _P}),
               ("{Side} {zone} lung nodule.", {"Lung Lesion": _P})),
    "mass": (("There is a large mass in the {lobe}.", {"Lung Lesion": _P}),),
    "edema": (("There is {sev} pulmonary edema.", {"Edema": _P}),
              ("Bilateral {zone} lung opacities, consistent with {sev} pulmonary edema.",
               {"Edema": _P, "Lung Opacity": _P})),
    "consolidation": (("There is consolidation in the {lobe}.", {"Consolidation": _P}),
                      ("{Lobe} consolidation.", {"Consolidation": _P})),
    "pneumonia": (("{Lobe} pneumonia.", {"Pneumonia": _P}),
                  ("Consolidation in the {lobe}, consistent with pneumonia.",
                   {"Pneumonia": _P, "Consolidation": _P})),
    "atelectasis": (("{Lobe} atelectasis.", {"Atelectasis": _P}),
                    ("Plate like atelectasis in the {lobe}.", {"Atelectasis": _P})),
    "pneumothorax": (("There is a {sev} {side} pneumothorax.", {"Pneumothorax": _P}),
                     ("{Sev} {side} apical pneumothorax.", {"Pneumothorax": _P})),
    "effusion": (("There is a {sev} {side} pleural effusion.", {"Pleural Effusion": _P}),
                 ("{Sev} {side} pleural effusion.", {"Pleural Effusion": _P})),
    "pleural_thickening": (("{Side} apical pleural thickening.", {"Pleural Other": _P}),
                           ("There is {side} pleural thickening.", {"Pleural Other": _P})),
    "fracture": (("There is an acute fracture of the {side} posterior seventh rib.", {"Fracture": _P}),
                 ("{Side} clavicle fracture.", {"Fracture": _P})),
    "support_device": (("Endotracheal tube in standard position.", {"Support Devices": _P}),
                       ("A {side} central venous catheter terminates in the svc.", {"Support Devices": _P}),
                       ("An enteric tube courses below the diaphragm.", {"Support Devices": _P})),
}

#: kind -> sentences that leave it uncertain (planted certainty below the hedge threshold).
HEDGED: dict[str, tuple[tuple[str, dict], ...]] = {
    "widened_mediastinum": (("Possible mediastinal widening.", {"Enlarged Cardiomediastinum": _U}),),
    "cardiomegaly": (("Possible mild cardiomegaly.", {"Cardiomegaly": _U}),),
    "groundglass": (("Possible hazy opacity in the {lobe}.", {"Lung Opacity": _U}),),
    "nodule": (("There may be a small nodule in the {lobe}.", {"Lung Lesion": _U}),),
    "mass": (("Possible mass in the {lobe}.", {"Lung Lesion": _U}),),
    "edema": (("Possible mild pulmonary edema.", {"Edema": _U}),),
    "consolidation": (("Possible {lobe} consolidation.", {"Consolidation": _U}),),
    "pneumonia": (("Pneumonia cannot be excluded.", {"Pneumonia": _U}),
                  ("Cannot exclude early pneumonia in the {lobe}.", {"Pneumonia": _U})),
    "atelectasis": (("Possible {lobe} atelectasis.", {"Atelectasis": _U}),),
    "pneumothorax": (("Possible small {side} pneumothorax.", {"Pneumothorax": _U}),),
    "effusion": (("Possible small {side} pleural effusion.", {"Pleural Effusion": _U}),),
    "pleural_thickening": (("Possible {side} pleural thickening.", {"Pleural Other": _U}),),
    "fracture": (("Possible nondisplaced fracture of the {side} seventh rib.", {"Fracture": _U}),),
    "support_device": (),
}

#: kind -> sentences that deny it.
NEGATED: dict[str, tuple[tuple[str, dict], ...]] = {
    "widened_mediastinum": (("The mediastinum is not widened.", {"Enlarged Cardiomediastinum": _N}),),
    "cardiomegaly": (("The heart size is normal.", {"Cardiomegaly": _N}),),
    "groundglass": (("No focal opacity.", {"Lung Opacity": _N}),),
    "nodule": (("No suspicious pulmonary nodule.", {"Lung Lesion": _N}),),
    "mass": (("No lung mass.", {"Lung Lesion": _N}),),
    "edema": (("There is no pulmonary edema.", {"Edema": _N}),),
    "consolidation": (("No focal consolidation.", {"Consolidation": _N}),),
    "pneumonia": (("No evidence of pneumonia.", {"Pneumonia": _N}),),
    "atelectasis": (("No atelectasis.", {"Atelectasis": _N}),),
    "pneumothorax": (("No pneumothorax.", {"Pneumothorax": _N}),),
    "effusion": (("No pleural effusion.", {"Pleural Effusion": _N}),),
    "pleural_thickening": (("No pleural thickening.", {"Pleural Other": _N}),),
    "fracture": (("No acute fracture.", {"Fracture": _N}),),
    "support_device": (),
}

#: Normal statements: (text, labels, kinds whose presence forbids it).
NORMAL = (
    ("The trachea is midline.", {}, frozenset()),
    ("The lungs are clear.", {}, frozenset({"groundglass", "nodule", "mass", "edema", "consolidation",
                                            "pneumonia", "atelectasis"})),
    ("No acute cardiopulmonary process.", {}, frozenset(DOWNSTREAM_KINDS) - {"support_device"}),
    ("The cardiomediastinal silhouette is normal.", {"Enlarged Cardiomediastinum": _N},
     frozenset({"widened_mediastinum", "cardiomegaly"})),
    ("No pleural effusion or pneumothorax.", {"Pleural Effusion": _N, "Pneumothorax": _N},
     frozenset({"effusion", "pneumothorax"})),
)


def fill(template: str, finding: dict) -> str:
    """The template with ``{side}``, ``{zone}``, ``{lobe}``, ``{sev}``, ``{sevly}`` (and their
    capitalised forms) from ``finding`` (``side``: right/left; ``zone``: upper/mid/lower;
    ``severity``: mild/moderate/large)."""
    side, zone, sev = finding.get("side") or "right", finding.get("zone") or "lower", finding.get("severity") or "mild"
    lobe = f"{side} {zone} lobe" if zone in ("upper", "lower") else f"{side} mid lung"
    words = {"side": side, "zone": zone, "sev": sev, "lobe": lobe,
             "sevly": {"mild": "mildly", "moderate": "moderately"}.get(sev, "markedly")}
    words.update({k[:1].upper() + k[1:]: v[:1].upper() + v[1:] for k, v in list(words.items())})
    text = template.format(**words)
    return text[:1].upper() + text[1:]


def label_vector(labels: dict) -> np.ndarray:
    """A 14-vector (CheXbert order, NaN blank) of one sentence's ``{label: value}``."""
    out = np.full(len(CHEXBERT_LABELS), np.nan)
    for lab, v in labels.items():
        out[CHEXBERT_LABELS.index(lab)] = v
    return out


def report_labels(sentence_labels: list[dict]) -> np.ndarray:
    """The report's 14-vector from its sentences' labels (CheXpert's aggregation; module docstring)."""
    out = np.full(len(CHEXBERT_LABELS), np.nan)
    for j, lab in enumerate(CHEXBERT_LABELS[:-1]):
        vals = {s[lab] for s in sentence_labels if lab in s}
        if vals:
            out[j] = _P if _P in vals else (_U if _U in vals else _N)
    findings = [out[j] for j, lab in enumerate(CHEXBERT_LABELS[:-1]) if lab != "Support Devices"]
    if not any(v in (_P, _U) for v in findings):
        out[-1] = _P
    return out
