"""Synthetic REFLACX + MIMIC-CXR(-JPG) data in the exact PhysioNet layouts, with planted truth.

``make_dataset(root, n_readings=None, seed=0, config=None, progress=True)`` writes::

    root/reflacx/main_data/metadata_phase_{1,2,3}.csv
    root/reflacx/main_data/<id>/{fixations.csv, timestamps_transcription.csv, transcription.txt,
                                 chest_bounding_box.csv, anomaly_location_ellipses.csv}
    root/reflacx/gaze_data/<id>/gaze.csv          (empty folder for discarded readings)
    root/mimic-cxr-jpg/files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg
    root/mimic-cxr-jpg/mimic-cxr-2.0.0-{split,chexpert,metadata}.csv.gz
    root/mimic-cxr/mimic_cxr_sectioned.csv
    root/synthetic_truth.json, synthetic_truth_readings.jsonl, synthetic_truth_images.jsonl
    with downstream=...: root/ms-cxr/, root/medical-cxr-vqa/, root/iu-xray/,
                         root/synthetic_downstream_truth.jsonl

Five simulated radiologists R1-R5 (:mod:`.radiologists`) read procedural chest phantoms
(:mod:`.phantom`) with planted findings (:mod:`.anatomy`): phases 1 and 2 have every image read
by all five, phase 3 one reader per image. :func:`load_truth` returns the planted truth
(reader habits, per-reading sentences/findings/gaze counts, images, multi-reader agreement).
Same seed and config => byte-identical files. Bump :data:`GENERATOR_VERSION` whenever the
output bytes change (it keys the dataset cache of :func:`gazex_lib.config.resolve_data_root`).

Version 5: the MIMIC-CXR reports and CheXpert labels of the REFLACX images come from the
sentence bank (:mod:`.report_bank`: hedged and denied findings, labels derived from the text's
truth); with ``downstream=`` (the ``synthetic_downstream`` section), the downstream corpus
(:mod:`.downstream`: MIMIC-CXR studies without gaze, MS-CXR, Medical-CXR-VQA and IU X-ray
layouts). The REFLACX tree and the REFLACX images are byte-identical to version 4.

Version 4: MIMIC splits apportioned by ``split_fractions`` (exact counts per phase group); a
share ``unlocated_fraction`` of finding sentences dictated without side and zone (truth:
``located`` per sentence; the gaze is unchanged); positions that vary within a kind
(pneumothorax apical or lateral, edema perihilar or basal, atelectasis basal or mid, left or
right central lines, lesions anywhere in a zone: :func:`.anatomy.plant_findings`); brighter
edema, pneumothorax and groundglass, visible at 1/4 scale (:mod:`.conspicuity`,
:data:`.findings_paint.AMPLITUDE_GAIN`).
"""
from __future__ import annotations

GENERATOR_VERSION = "5"

from .config import SyntheticConfig  # noqa: E402
from .dataset import load_truth, make_dataset, phase_counts, plan_dataset  # noqa: E402

__all__ = ["GENERATOR_VERSION", "SyntheticConfig", "load_truth", "make_dataset", "phase_counts", "plan_dataset"]
