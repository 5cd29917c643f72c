"""MIMIC-CXR(-JPG) table rows and sectioned reports for one synthetic image.

Rows follow MIMIC-CXR-JPG 2.0.0/2.1.0: the split table (``dicom_id, study_id, subject_id,
split``), the CheXpert label table (``subject_id, study_id`` then the 14 labels in the
file's alphabetical order, values 1.0 / 0.0 / -1.0 / empty), the DICOM metadata table
(``schema.MIMIC_METADATA_COLUMNS``), and ``mimic_cxr_sectioned.csv`` from MIT-LCP's
``create_section_files.py`` (``study, impression, findings, last_paragraph, comparison``).
The labels and report text agree with the planted findings (MIMIC's own labeller sometimes
says "uncertain" for a subtle one: -1.0).
"""
from __future__ import annotations

import numpy as np

from gazex_lib.data.labels import CHEXBERT_LABELS

from .anatomy import KINDS
from .dictation import NORMAL_SENTENCES, finding_sentence

#: Columns of ``mimic-cxr-2.0.0-chexpert.csv.gz`` (labels alphabetical, as in the real file).
CHEXPERT_COLUMNS = ["subject_id", "study_id", *sorted(CHEXBERT_LABELS)]

_OFTEN_NEGATED = ("Pneumothorax", "Pleural Effusion", "Consolidation", "Edema", "Cardiomegaly")
_VIEWS = {"PA": ("CHEST (PA AND LAT)", "postero-anterior", "Erect"),
          "AP": ("CHEST (PORTABLE AP)", "antero-posterior", "Recumbent")}


def chexpert_row(rng: np.random.Generator, findings: list[dict], subject_id: int, study_id: int) -> dict:
    """CheXpert-style labels of the study: planted findings positive (subtle ones sometimes
    uncertain, -1.0), common negations 0.0, the rest empty; ``No Finding`` 1.0 when nothing
    but support devices is planted."""
    row: dict = {"subject_id": subject_id, "study_id": study_id}
    row.update({lab: np.nan for lab in CHEXBERT_LABELS})
    positive = False
    for f in findings:
        lab = f["chexbert_label"]
        uncertain = KINDS[f["kind"]]["conspicuity"] < 0.85 and rng.random() < 0.15
        row[lab] = max(row[lab] if row[lab] == row[lab] else -2.0, -1.0 if uncertain else 1.0)
        positive |= lab != "Support Devices"
    for lab in _OFTEN_NEGATED:
        if row[lab] != row[lab] and rng.random() < 0.3:
            row[lab] = 0.0
    if any(f["kind"] == "consolidation" for f in findings) and rng.random() < 0.4:
        row["Pneumonia"] = -1.0
    if not positive:
        row["No Finding"] = 1.0
    return {c: row[c] for c in CHEXPERT_COLUMNS}


def split_row(dicom_id: str, subject_id: int, study_id: int, split: str) -> dict:
    return {"dicom_id": dicom_id, "study_id": study_id, "subject_id": subject_id, "split": split}


def metadata_row(rng: np.random.Generator, dicom_id: str, subject_id: int, study_id: int, view: str,
                 width: int, height: int) -> dict:
    """A row of ``mimic-cxr-2.0.0-metadata.csv.gz`` (dates shifted into 21xx like MIMIC)."""
    proc, view_name, orient = _VIEWS[view]
    date = int(f"{int(rng.integers(2110, 2200))}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}")
    time = round(float(rng.integers(0, 24)) * 10000 + float(rng.integers(0, 60)) * 100
                 + float(rng.uniform(0, 60)), 3)
    return {"dicom_id": dicom_id, "subject_id": subject_id, "study_id": study_id,
            "PerformedProcedureStepDescription": proc, "ViewPosition": view, "Rows": height, "Columns": width,
            "StudyDate": date, "StudyTime": time, "ProcedureCodeSequence_CodeMeaning": proc,
            "ViewCodeSequence_CodeMeaning": view_name, "PatientOrientationCodeSequence_CodeMeaning": orient}


def sectioned_row(rng: np.random.Generator, findings: list[dict], study_id: int, view: str) -> dict:
    """A sectioned report: FINDINGS from the planted findings plus non-contradicting normal
    statements, IMPRESSION the positive findings (or "No acute cardiopulmonary process.")."""
    planted = {f["kind"] for f in findings}
    intro = "PA and lateral views of the chest provided." if view == "PA" else "Portable AP view of the chest."
    pos = [finding_sentence(rng, f) for f in findings]
    normals = [s for s in NORMAL_SENTENCES if not (s[2] & planted)]
    picks, regions = [], set()
    for i in rng.permutation(len(normals)):
        text, region = normals[i][:2]
        if region not in regions and len(picks) < 3:
            picks.append((normals[i][3], text))
            regions.add(region)
    picks = [t for _, t in sorted(picks)]
    text = " ".join([intro, *pos, *picks])
    impression = " ".join(p for p in pos if "tube" not in p and "line" not in p and "catheter" not in p)
    impression = impression or "No acute cardiopulmonary process."
    comparison = str(rng.choice(["None.", "___.", "Chest radiograph from ___.", ""], p=[0.3, 0.3, 0.25, 0.15]))
    last = impression if rng.random() < 0.7 else ""
    return {"study": f"s{study_id}", "impression": impression, "findings": text, "last_paragraph": last,
            "comparison": comparison}
