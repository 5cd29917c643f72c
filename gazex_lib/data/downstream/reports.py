"""MIMIC-CXR report generation data: one row per study, its report, split, frontal image and
14 labels; and R2Gen's text cleaning as a switch (also for IU X-ray).

:func:`load_report_dataset` joins, by ``study_id``:

* the sectioned reports (``mimic-cxr/mimic_cxr_sectioned.csv``, MIT-LCP's
  ``create_section_files.py``);
* the official split (``mimic-cxr-jpg/mimic-cxr-2.0.0-split.csv.gz``; every image of a study
  is in its patient's split);
* the frontal images (``mimic-cxr-jpg`` metadata ``ViewPosition`` ``PA`` or ``AP``): the
  model's image is the study's first PA image, else its first AP one (by ``dicom_id``);
* the 14 labels of a CheXpert-format CSV (``mimic-cxr-2.0.0-chexpert.csv.gz`` by default, or a
  CheXbert one in the same layout): 1 positive, 0 negative, -1 uncertain, NaN blank; a study
  without a label row keeps an all-NaN row (counted as ``no_label_row``, not dropped).

**The target text** (``section``, a documented switch; ``downstream.report_section``):
``findings_or_impression`` (the findings, or the impression where the findings
section is empty), ``findings``, ``impression``, or ``findings_and_impression`` (both, findings
first, joined by a space).

**Cleaning** (``cleaning``; ``downstream.report_cleaning``): ``none`` keeps the text as the
sectioner wrote it (whitespace runs collapsed); ``r2gen`` applies R2Gen's
``clean_report_mimic_cxr`` (:func:`clean_r2gen`).

**Dropped, counted by reason** (``ReportSet.dropped``): ``no_text`` (the chosen section is
empty), ``no_split`` (the study has no image in the split table), ``no_frontal_image`` (no PA
or AP image). Kept but flagged: ``no_label_row`` (the labels stay blank).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazex_lib.data import schema
from gazex_lib.data.downstream._common import Dropped, require_choice
from gazex_lib.data.labels import CHEXBERT_LABELS

__all__ = ["SECTIONS", "CLEANINGS", "FRONTAL_VIEWS", "ReportSet", "clean_r2gen", "clean_report",
           "report_text", "load_report_dataset"]

SECTIONS = ("findings_or_impression", "findings", "impression", "findings_and_impression")
CLEANINGS = ("none", "r2gen")
#: ``ViewPosition`` values of frontal films, in order of preference.
FRONTAL_VIEWS = ("PA", "AP")

# R2Gen's sentence cleaner removes these characters; its class ``[.,?;*!%^&_+():-\[\]{}]``
# holds the range ':-[' (':' to '['), i.e. also ';<=>?@' and the capitals (text is lower-cased).
_R2GEN_DROP = re.compile(r"[.,?;*!%^&_+()\[\]{}:-\[]")


def clean_r2gen(text: str, *, dataset: str = "mimic") -> str:
    """R2Gen's report cleaning (``modules/tokenizers.py``), reimplemented and tested on its
    published behaviour:

    1. (MIMIC only) newlines become spaces, runs of ``_`` one ``_``, runs of spaces one space;
    2. runs of ``.`` become one ``.``; list numbering ``1. `` .. ``5. `` is removed;
    3. strip, lower-case, split on ``". "``;
    4. in each sentence, drop ``" / \\ '`` and the characters of R2Gen's class (above), strip;
    5. join with ``" . "`` and end with ``" ."``. Empty sentences are kept, as R2Gen keeps them
       (its filter compares a string with a list and is always true).

    R2Gen repeats each ``replace`` a fixed number of times (3 to 8); the regular expressions here
    equal it for runs of up to 8 characters.
    """
    t = str(text)
    if dataset == "mimic":
        t = re.sub(r"_{2,}", "_", t.replace("\n", " "))
        t = re.sub(r" {2,}", " ", t)
    t = re.sub(r"\.{2,}", ".", t)
    t = t.replace("1. ", "")
    for k in range(2, 6):
        t = t.replace(f". {k}. ", ". ")
    for k in range(2, 6):
        t = t.replace(f" {k}. ", ". ")
    sentences = t.strip().lower().split(". ")
    cleaned = []
    for s in sentences:
        s = s.replace('"', "").replace("/", "").replace("\\", "").replace("'", "").strip().lower()
        cleaned.append(_R2GEN_DROP.sub("", s))
    return " . ".join(cleaned) + " ."


def clean_report(text: str, cleaning: str, *, dataset: str = "mimic") -> str:
    """``none``: whitespace runs (newlines included) collapsed and stripped; ``r2gen``:
    :func:`clean_r2gen`."""
    require_choice("cleaning", cleaning, CLEANINGS)
    if cleaning == "r2gen":
        return clean_r2gen(text, dataset=dataset)
    return re.sub(r"\s+", " ", str(text)).strip()


def report_text(findings, impression, section: str) -> str | None:
    """The target text of one study under ``section`` (module docstring); None when empty."""
    require_choice("section", section, SECTIONS)
    f = findings.strip() if isinstance(findings, str) else ""
    i = impression.strip() if isinstance(impression, str) else ""
    if section == "findings":
        out = f
    elif section == "impression":
        out = i
    elif section == "findings_or_impression":
        out = f or i
    else:
        out = " ".join(x for x in (f, i) if x)
    return out or None


@dataclass
class ReportSet:
    """Report-generation data: ``frame`` (one row per study: ``subject_id, study_id, split,
    dicom_id`` (the model's frontal image), ``view``, ``report``), ``labels`` (the 14 CheXbert
    columns, row-aligned with ``frame``, NaN for blank), ``dropped`` (:class:`Dropped`), and the
    options it was read with."""
    frame: pd.DataFrame
    labels: pd.DataFrame
    dropped: Dropped
    section: str
    cleaning: str

    def __len__(self) -> int:
        return len(self.frame)

    def split_counts(self) -> dict:
        return {s: int((self.frame["split"] == s).sum()) for s in schema.SPLITS}


def _frontal(meta: pd.DataFrame, split: pd.DataFrame) -> pd.DataFrame:
    """``study_id -> (dicom_id, view)`` of the study's first PA image, else its first AP one."""
    views = meta[["dicom_id", "ViewPosition"]].merge(split[["dicom_id", "study_id"]], on="dicom_id")
    views = views[views["ViewPosition"].isin(FRONTAL_VIEWS)].copy()
    views["rank"] = views["ViewPosition"].map({v: k for k, v in enumerate(FRONTAL_VIEWS)})
    views = views.sort_values(["study_id", "rank", "dicom_id"], kind="stable")
    first = views.drop_duplicates("study_id")
    return first.rename(columns={"ViewPosition": "view"})[["study_id", "dicom_id", "view"]]


def load_report_dataset(data_root: str | Path, *, section: str, cleaning: str,
                        labels_file: str | Path | None = None) -> ReportSet:
    """MIMIC-CXR report-generation data under ``data_root`` (module docstring).

    :param section: which report text is the target (``downstream.report_section``).
    :param cleaning: ``none`` or ``r2gen`` (``downstream.report_cleaning``).
    :param labels_file: a CheXpert-format label CSV to use instead of MIMIC-CXR-JPG's own
        (e.g. CheXbert's labels of the same reports); same columns.
    """
    from gazex_lib.data.mimic import MimicCxrJpg, load_sectioned_reports, read_label_table

    require_choice("section", section, SECTIONS)
    require_choice("cleaning", cleaning, CLEANINGS)
    root = Path(data_root)
    reports = load_sectioned_reports(root / schema.MIMIC_REPORTS_DIR)
    jpg = MimicCxrJpg(root / schema.MIMIC_JPG_DIR)
    split, meta = jpg.split, jpg.metadata
    chex = jpg.chexpert if labels_file is None else read_label_table(labels_file)

    dropped = Dropped("mimic-cxr reports", denominator=len(reports))
    df = reports.copy()
    df["study_id"] = df["study"].str.lstrip("s").astype(np.int64)
    df["report"] = [report_text(f, i, section) for f, i in zip(df["findings"], df["impression"])]
    empty = df["report"].isna()
    dropped.add("no_text", int(empty.sum()))
    df = df[~empty]
    study_split = split.drop_duplicates("study_id")[["study_id", "subject_id", "split"]]
    df = df.merge(study_split, on="study_id", how="left")
    no_split = df["split"].isna()
    dropped.add("no_split", int(no_split.sum()))
    df = df[~no_split]
    df = df.merge(_frontal(meta, split), on="study_id", how="left")
    no_frontal = df["dicom_id"].isna()
    dropped.add("no_frontal_image", int(no_frontal.sum()))
    df = df[~no_frontal].sort_values("study_id", kind="stable").reset_index(drop=True)
    df["subject_id"] = df["subject_id"].astype(np.int64)
    df["report"] = [clean_report(t, cleaning, dataset="mimic") for t in df["report"]]
    frame = df[["subject_id", "study_id", "split", "dicom_id", "view", "report"]]
    lab = frame[["study_id"]].merge(chex.drop(columns="subject_id").drop_duplicates("study_id"),
                                    on="study_id", how="left")
    labels = lab[list(CHEXBERT_LABELS)].astype(np.float64).reset_index(drop=True)
    dropped.flag("no_label_row", int(labels.isna().all(axis=1).sum()))
    return ReportSet(frame=frame, labels=labels, dropped=dropped, section=section, cleaning=cleaning)
