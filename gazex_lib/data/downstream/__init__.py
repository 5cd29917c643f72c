"""The downstream datasets of the evaluation chapter, in the layouts users download.

* :mod:`.reports`: MIMIC-CXR report generation (:func:`load_report_dataset`: report text by a
  section switch, R2Gen cleaning switch, official split, frontal image, 14 labels);
* :mod:`.iu_xray`: IU X-ray, R2Gen's ``annotation.json`` release (:func:`load_iu_xray`);
* :mod:`.ms_cxr`: MS-CXR phrase grounding (:func:`load_ms_cxr`, split policies);
* :mod:`.vqa`: Medical-CXR-VQA (:func:`load_vqa`);
* :mod:`.leakage`: patients, studies and images shared between training and evaluation sets.

Every reader validates its input (errors name the file, row or item, and column or field) and
counts what it drops, by reason (``.dropped``).
"""
from gazex_lib.data.downstream._common import Dropped
from gazex_lib.data.downstream.iu_xray import IuXray, load_iu_xray
from gazex_lib.data.downstream.leakage import leakage_audit, leakage_findings, sets_from_frames
from gazex_lib.data.downstream.ms_cxr import MsCxr, SplitTooSmallError, load_ms_cxr
from gazex_lib.data.downstream.reports import ReportSet, clean_r2gen, clean_report, load_report_dataset
from gazex_lib.data.downstream.vqa import MedicalCxrVqa, load_vqa

__all__ = ["Dropped", "IuXray", "load_iu_xray", "MsCxr", "SplitTooSmallError", "load_ms_cxr", "ReportSet",
           "clean_r2gen", "clean_report", "load_report_dataset", "MedicalCxrVqa", "load_vqa",
           "leakage_audit", "leakage_findings", "sets_from_frames"]
