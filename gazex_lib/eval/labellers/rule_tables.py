"""The tables of the rule-based labeller: mention phrases per label, and the cue lists that
negspacy's NegEx uses for negation and (a second NegEx instance) for uncertainty.

Written for this book after the categories of the CheXpert labeller's mention lists (Irvin et
al. 2019); the phrases are our own, short, and listed here in full so a reader can audit them.
Matching is case-insensitive on spaCy tokens; the longest match wins where phrases overlap.

* :data:`MENTIONS`: phrases that mention a label (its presence is then decided by the cues).
* :data:`ABSENT`: phrases that state a label's absence by themselves ("heart size is normal").
* :data:`IGNORED`: phrases that contain a mention phrase but are not that finding
  ("pericardial effusion" is not a pleural effusion); matched, then dropped.
* :data:`NEGATION`: negspacy's ``en_clinical`` termset with the changes listed in
  :data:`NEGATION_CHANGES` (why each is there is written next to it).
* :data:`UNCERTAINTY`: cues of uncertainty in the same four NegEx roles.
"""
from __future__ import annotations

__all__ = ["MENTIONS", "ABSENT", "IGNORED", "NEGATION_CHANGES", "UNCERTAINTY", "TERMINATION_EXTRA",
           "IGNORE_LABEL"]

IGNORE_LABEL = "_ignored"

_DEGREE = ("", "mildly ", "moderately ", "markedly ", "severely ", "slightly ")

MENTIONS: dict[str, tuple[str, ...]] = {
    "Enlarged Cardiomediastinum": (
        "enlarged cardiomediastinum", "widened mediastinum", "mediastinal widening",
        "widening of the mediastinum", "mediastinal enlargement", "enlarged cardiomediastinal silhouette",
        "enlargement of the cardiomediastinal silhouette", "widened cardiomediastinal silhouette",
        *(f"cardiomediastinal silhouette is {d}enlarged" for d in _DEGREE),
        *(f"mediastinum is {d}widened" for d in _DEGREE)),
    "Cardiomegaly": (
        "cardiomegaly", "enlarged heart", "enlargement of the heart", "cardiac enlargement",
        "enlarged cardiac silhouette", "enlargement of the cardiac silhouette",
        *(f"heart size is {d}enlarged" for d in _DEGREE), *(f"heart is {d}enlarged" for d in _DEGREE),
        *(f"cardiac silhouette is {d}enlarged" for d in _DEGREE), "heart size is increased"),
    "Lung Opacity": (
        "opacity", "opacities", "opacification", "opacifications", "infiltrate", "infiltrates",
        "infiltration", "airspace disease", "air space disease", "haziness", "ground-glass",
        "ground glass", "groundglass", "reticular markings", "interstitial markings"),
    "Lung Lesion": (
        "nodule", "nodules", "mass", "masses", "lesion", "lesions", "nodular opacity",
        "nodular opacities", "tumor", "neoplasm", "cavitary lesion", "pulmonary nodule"),
    "Edema": (
        "edema", "oedema", "pulmonary edema", "interstitial edema", "alveolar edema",
        "vascular congestion", "pulmonary vascular congestion", "heart failure",
        "congestive heart failure", "chf", "fluid overload"),
    "Consolidation": (
        "consolidation", "consolidations", "consolidative", "consolidative opacity",
        "consolidative opacities", "airspace consolidation"),
    "Pneumonia": (
        "pneumonia", "pneumonias", "infection", "infectious process", "aspiration pneumonia",
        "bronchopneumonia"),
    "Atelectasis": (
        "atelectasis", "atelectases", "atelectatic", "collapse", "lobar collapse",
        "atelectatic changes"),
    "Pneumothorax": ("pneumothorax", "pneumothoraces", "pneumothoraxes", "ptx"),
    "Pleural Effusion": (
        "pleural effusion", "pleural effusions", "effusion", "effusions", "pleural fluid",
        "hydrothorax", "blunting of the costophrenic angle", "blunting of the costophrenic angles",
        "blunted costophrenic angle", "blunted costophrenic angles", "costophrenic angle blunting"),
    "Pleural Other": (
        "pleural thickening", "pleural plaque", "pleural plaques", "pleural scarring",
        "pleural calcification", "fibrothorax", "pleural-parenchymal scarring"),
    "Fracture": ("fracture", "fractures", "fractured", "fx"),
    "Support Devices": (
        "tube", "tubes", "catheter", "catheters", "pacemaker", "picc", "picc line", "central line",
        "central venous line", "central venous catheter", "port-a-cath", "portacath", "wire", "wires",
        "sternotomy wires", "drain", "drains", "stent", "stents", "clip", "clips", "device", "devices",
        "endotracheal tube", "et tube", "enteric tube", "nasogastric tube", "ng tube", "og tube",
        "chest tube", "tracheostomy", "tracheostomy tube", "defibrillator", "icd", "pacing leads",
        "prosthetic valve", "swan-ganz catheter"),
}

ABSENT: dict[str, tuple[str, ...]] = {
    "Enlarged Cardiomediastinum": (
        "normal cardiomediastinal silhouette", "cardiomediastinal silhouette is normal",
        "cardiomediastinal silhouette is within normal limits", "cardiomediastinal silhouette is unremarkable",
        "normal mediastinal contours", "mediastinal contours are normal", "mediastinum is normal",
        "cardiomediastinal contours are normal", "mediastinal silhouette is normal",
        "mediastinum is not widened", "mediastinum is not enlarged"),
    "Cardiomegaly": (
        "heart size is normal", "normal heart size", "heart size normal", "heart is normal in size",
        "heart size is within normal limits", "normal size of the heart", "cardiac silhouette is normal",
        "normal cardiac silhouette", "heart size is top normal", "heart size is top-normal",
        "heart is not enlarged", "cardiac size is normal", "normal cardiac size",
        "heart size is at the upper limits of normal", "heart size is at the upper limit of normal",
        "heart size is upper normal"),
}

IGNORED: tuple[str, ...] = (
    "pericardial effusion", "pericardial effusions", "joint effusion", "mass effect",
    "soft tissue mass", "tube position", "no new devices",
)

#: Changes to negspacy's ``en_clinical`` termset: role -> (phrases added, phrases removed).
NEGATION_CHANGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # "cannot exclude X" and "cannot rule out X" are uncertainty, not negation: the default
    # termset negates on "cannot" and "rule out"; pseudo-negations switch those cues off.
    "pseudo_negations": (("cannot exclude", "can not exclude", "cannot be excluded", "can not be excluded",
                          "cannot rule out", "can not rule out", "cannot be ruled out", "not excluded",
                          "cannot be entirely excluded", "not entirely excluded", "without change"), ()),
    # radiology's ways of saying a finding is gone
    "preceding_negations": (("resolution of", "interval resolution of", "resolved", "clear of",
                             "removal of", "interval removal of", "no radiographic evidence of"),
                            # "X versus Y" is uncertainty in reports (CheXpert), never negation
                            ("versus",)),
    "following_negations": (("resolved", "has resolved", "have resolved", "is resolved", "are resolved",
                             "is not seen", "are not seen", "not seen", "is absent", "are absent",
                             "has been removed", "have been removed", "was removed", "is not present",
                             "are not present", "not identified", "is not identified", "is not likely",
                             "no longer seen", "no longer visible", "no longer present", "is no longer seen",
                             "is no longer visible", "are no longer seen", "are no longer visible"), ()),
    # a semicolon closes a clause as a full stop does ("no effusion; mild cardiomegaly")
    "termination": ((";", "there is", "there are", "there has been", "with", "while", "and there is",
                     "and there are"), ()),
}

#: Termination phrases shared by both NegEx instances (also in NEGATION_CHANGES).
TERMINATION_EXTRA = NEGATION_CHANGES["termination"][0]

#: Uncertainty cues in NegEx's four roles (an uncertainty cue *is* a "negation" to NegEx).
UNCERTAINTY: dict[str, tuple[str, ...]] = {
    "pseudo_negations": ("not likely",),
    "preceding_negations": (
        "possible", "possibly", "probable", "probably", "may represent", "may reflect", "may be",
        "may", "might", "could represent", "could be", "could", "suspicious for", "concerning for",
        "concern for", "suggestive of", "suggests", "suggesting", "question of", "questionable",
        "cannot exclude", "can not exclude", "cannot rule out", "can not rule out",
        "differential includes", "likely", "presumed", "versus", "vs", "borderline", "equivocal",
        "indeterminate", "worrisome for", "raises the possibility of"),
    "following_negations": (
        "cannot be excluded", "can not be excluded", "cannot be ruled out", "not excluded",
        "cannot be entirely excluded", "not entirely excluded", "is not excluded", "is possible",
        "are possible", "is suspected", "suspected", "is questioned", "versus", "vs", "is likely",
        "are likely", "not ruled out", "is not ruled out", "may be present", "could be present",
        "is not entirely excluded"),
    "termination": (
        "although", "but", "however", "though", "yet", "which", "except", "aside from", "apart from",
        "secondary to", *TERMINATION_EXTRA),
}
