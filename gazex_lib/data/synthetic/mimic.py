"""MIMIC-CXR(-JPG) table rows and sectioned reports for one synthetic image.

Rows follow MIMIC-CXR-JPG 2.0.0/2.1.0: the split table (``dicom_id, study_id, subject_id,
split``), the CheXpert label table (``subject_id, study_id`` then the 14 labels in the
file's alphabetical order, values 1.0 / 0.0 / -1.0 / empty), the DICOM metadata table
(``schema.MIMIC_METADATA_COLUMNS``), and ``mimic_cxr_sectioned.csv`` from MIT-LCP's
``create_section_files.py`` (``study, impression, findings, last_paragraph, comparison``).
The report is written from the sentence bank (:mod:`.report_bank`) and the labels are derived
from its sentences' truth: a finding planted with a low certainty is dictated hedged and
labelled uncertain (-1.0); denied findings are 0.0; the rest blank.
"""
from __future__ import annotations

import numpy as np

from gazex_lib.data.labels import CHEXBERT_LABELS

from . import config as C

#: Columns of ``mimic-cxr-2.0.0-chexpert.csv.gz`` (labels alphabetical, as in the real file).
CHEXPERT_COLUMNS = ["subject_id", "study_id", *sorted(CHEXBERT_LABELS)]

_VIEWS = {"PA": ("CHEST (PA AND LAT)", "postero-anterior", "Erect"),
          "AP": ("CHEST (PORTABLE AP)", "antero-posterior", "Recumbent")}


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


def study_sections(rng: np.random.Generator, findings: list[dict], study_id: int, view: str) -> tuple:
    """``(labels, row)``: the 14 labels and the sectioned-report row of a REFLACX image's study,
    written from the sentence bank (:func:`.downstream_reports.study_report`; every finding
    gets a ``certainty``, and one below :data:`.config.GAZE_REPORT_HEDGE_BELOW` is dictated
    hedged). FINDINGS opens with the view sentence."""
    from .downstream_reports import study_report

    findings = [{**f, "certainty": round(float(rng.beta(4.0, 1.5)), 3)} for f in findings]
    report = study_report(rng, findings, hedge_below=C.GAZE_REPORT_HEDGE_BELOW, negations=C.GAZE_REPORT_NEGATIONS)
    intro = "PA and lateral views of the chest provided." if view == "PA" else "Portable AP view of the chest."
    comparison = str(rng.choice(["None.", "___.", "Chest radiograph from ___.", ""], p=[0.3, 0.3, 0.25, 0.15]))
    last = report["impression"] if rng.random() < 0.7 else ""
    return report["labels"], {"study": f"s{study_id}", "impression": report["impression"],
                              "findings": f"{intro} {report['findings']}", "last_paragraph": last,
                              "comparison": comparison}
