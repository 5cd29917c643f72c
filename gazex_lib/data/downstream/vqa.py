"""Medical-CXR-VQA (Hu et al. 2024): ``medical-cxr-vqa/medical_cxr_vqa_questions.csv``.

**Columns, read by name:** ``subject_id, study_id, dicom_id, question_type, question, answer,
split`` (the released set; any order; extra columns are tolerated and listed by
``check-data``). A file without one of them fails, naming the missing columns; the question
generator's own output (``study_id, subject_id, question_type, question, answer``, no image or
split) is refused with a message that says so.

**Question types:** ``abnormality, presence, view, location, level, type``; any other value is
an error naming its row. Abnormality answers are comma-joined lists
(:func:`gazex_lib.eval.metrics.answer_set` compares them as sets).

**The split** (``split_policy``; ``downstream.vqa_split``): ``released`` (both profiles) uses the
released column where it has a value, and MIMIC-CXR's official split of the study where it is
empty (counted: ``split_from_mimic``); ``mimic`` uses MIMIC-CXR's official split for every
question. A question whose split cannot be decided is dropped (``no_split``). Empty questions or
answers are dropped (``empty_question``, ``empty_answer``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazex_lib.data import schema
from gazex_lib.data._csv import DownstreamFormatError, parse_int, read_header, read_text_table
from gazex_lib.data.downstream._common import Dropped, canonical_splits, check_choices, require_choice

__all__ = ["SPLIT_POLICIES", "MedicalCxrVqa", "load_vqa"]

SPLIT_POLICIES = ("released", "mimic")
_GENERATOR_COLUMNS = {"study_id", "subject_id", "question_type", "question", "answer"}


@dataclass
class MedicalCxrVqa:
    """``frame``: one row per question: ``subject_id, study_id, dicom_id, question_type,
    question, answer, split`` (MIMIC's names); ``dropped``; ``split_policy``."""
    frame: pd.DataFrame
    dropped: Dropped
    split_policy: str

    def __len__(self) -> int:
        return len(self.frame)

    def type_counts(self) -> dict:
        return {t: int((self.frame["question_type"] == t).sum()) for t in schema.VQA_TYPES}

    def split_counts(self) -> dict:
        return {s: int((self.frame["split"] == s).sum()) for s in schema.SPLITS}


def load_vqa(root: str | Path, *, split_policy: str, mimic_split: pd.DataFrame | None = None) -> MedicalCxrVqa:
    """Medical-CXR-VQA under ``root`` (``medical-cxr-vqa/``; module docstring).

    :param split_policy: ``released`` or ``mimic`` (``downstream.vqa_split``).
    :param mimic_split: MIMIC-CXR-JPG's split table, used where the released split is empty
        (``released``) or for every question (``mimic``).
    """
    require_choice("split_policy", split_policy, SPLIT_POLICIES)
    path = Path(root) / schema.VQA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"Medical-CXR-VQA: {path} not found")
    header = set(read_header(path, error=DownstreamFormatError))
    if header <= _GENERATOR_COLUMNS | {"id"} and not {"dicom_id", "split"} & header:
        raise DownstreamFormatError(f"{path}: this looks like the question generator's output (no "
                                    "dicom_id, no split); use the released file, whose columns are "
                                    f"{schema.VQA_COLUMNS}")
    raw = read_text_table(path, schema.VQA_COLUMNS, error=DownstreamFormatError)
    df = pd.DataFrame({
        "subject_id": parse_int(raw["subject_id"], path, "subject_id", low=0, error=DownstreamFormatError),
        "study_id": parse_int(raw["study_id"], path, "study_id", low=0, error=DownstreamFormatError),
        "dicom_id": raw["dicom_id"].str.strip(),
        "question_type": raw["question_type"].str.strip().str.lower(),
        "question": raw["question"].str.strip(), "answer": raw["answer"].str.strip()})
    check_choices(df["question_type"], path, "question_type", schema.VQA_TYPES)
    dropped = Dropped("medical-cxr-vqa", denominator=len(df))
    released = raw["split"].str.strip()
    has = (released != "").to_numpy()
    split = pd.Series(np.nan, index=df.index, dtype=object)
    if has.any():
        split[has] = canonical_splits(released[has], path).to_numpy()
    by_study = None
    if mimic_split is not None:
        by_study = mimic_split.drop_duplicates("study_id").set_index("study_id")["split"]
    if split_policy == "mimic":
        if by_study is None:
            raise ValueError("VQA split policy 'mimic' needs MIMIC-CXR-JPG's split table (mimic_split=...)")
        split = df["study_id"].map(by_study)
    elif (~has).any() and by_study is not None:
        fill = df.loc[~has, "study_id"].map(by_study)
        dropped.flag("split_from_mimic", int(fill.notna().sum()))
        split[~has] = fill.to_numpy()
    df["split"] = split
    for reason, column in (("no_split", "split"), ("empty_question", "question"), ("empty_answer", "answer")):
        bad = df[column].isna() | (df[column] == "")      # one reason per question, in this order
        dropped.add(reason, int(bad.sum()))
        df = df[~bad]
    return MedicalCxrVqa(frame=df[schema.VQA_COLUMNS].reset_index(drop=True), dropped=dropped,
                         split_policy=split_policy)
