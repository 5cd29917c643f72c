"""Leakage audit: patients, studies and images shared between the sets a book trains and tests on.

:func:`leakage_audit` takes named sets, each a frame with any of ``subject_id``, ``study_id``,
``dicom_id`` and a **role**: ``train`` (something a model learns from: REFLACX pretraining
readings, MIMIC-CXR fine-tuning train, MS-CXR or VQA train) or ``eval`` (something it is judged
on: the multi-reader held-out readings, a validation or test split). It returns one row per
pair of sets with the number of shared patients, studies and images (``NaN`` where one side lacks
that id), and ``matters``: a ``train`` set and an ``eval`` set share a **patient**. A patient is
the unit: a test image of a patient whose other study was trained on is not an independent test.

:func:`leakage_findings` names every overlap that matters in a sentence
("3 patients of 'MIMIC test' are in 'REFLACX pretraining' (e.g. 10000032)"); the data
chapter prints them, and an empty list is the claim that the splits are clean.

:func:`sets_from_frames` builds the usual sets from what the readers return.
"""
from __future__ import annotations

import itertools
from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["ID_COLUMNS", "ROLES", "leakage_audit", "leakage_findings", "sets_from_frames"]

ID_COLUMNS = (("patients", "subject_id"), ("studies", "study_id"), ("images", "dicom_id"))
ROLES = ("train", "eval")


def _ids(frame: pd.DataFrame, column: str) -> set | None:
    if column not in frame.columns:
        return None
    vals = frame[column].dropna()
    if column != "dicom_id":
        vals = vals.astype(np.int64)
    return set(vals.astype(str))


def leakage_audit(sets: Mapping[str, tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per pair of sets (module docstring). ``sets``: ``name -> (role, frame)``."""
    ids = {}
    for name, (role, frame) in sets.items():
        if role not in ROLES:
            raise ValueError(f"set {name!r}: role must be one of {ROLES}, got {role!r}")
        ids[name] = (role, {unit: _ids(frame, col) for unit, col in ID_COLUMNS})
    rows = []
    for a, b in itertools.combinations(ids, 2):
        (ra, ia), (rb, ib) = ids[a], ids[b]
        row = {"set_a": a, "role_a": ra, "set_b": b, "role_b": rb}
        examples = {}
        for unit, _ in ID_COLUMNS:
            if ia[unit] is None or ib[unit] is None:
                row[f"shared_{unit}"] = np.nan
                continue
            shared = ia[unit] & ib[unit]
            row[f"shared_{unit}"] = len(shared)
            examples[unit] = sorted(shared)[:3]
        patients = row["shared_patients"]
        row["matters"] = bool({ra, rb} == set(ROLES) and patients == patients and patients > 0)
        row["examples"] = examples
        rows.append(row)
    cols = ["set_a", "role_a", "set_b", "role_b", "shared_patients", "shared_studies", "shared_images",
            "matters", "examples"]
    out = pd.DataFrame(rows, columns=cols)
    for unit, _ in ID_COLUMNS:                     # counts, <NA> where a side lacks that id
        out[f"shared_{unit}"] = out[f"shared_{unit}"].astype("Int64")
    return out


def _count(n: int, unit: str) -> str:
    return f"{n} {unit if n != 1 else {'studies': 'study', 'images': 'image'}[unit]}"


def leakage_findings(table: pd.DataFrame) -> list[str]:
    """A sentence per overlap that matters (eval set first), most shared patients first."""
    out = []
    hits = table[table["matters"]].sort_values("shared_patients", ascending=False, kind="stable")
    for _, r in hits.iterrows():
        ev, tr = (r["set_a"], r["set_b"]) if r["role_a"] == "eval" else (r["set_b"], r["set_a"])
        n = int(r["shared_patients"])
        eg = ", ".join(r["examples"].get("patients", []))
        extra = "".join(f", {_count(int(r[f'shared_{u}']), u)}" for u in ("studies", "images")
                        if not pd.isna(r[f"shared_{u}"]) and r[f"shared_{u}"] > 0)
        out.append(f"{n} patient{'s' if n != 1 else ''} of {ev!r} {'are' if n != 1 else 'is'} in "
                   f"{tr!r}{extra} (e.g. {eg})")
    return out


def sets_from_frames(*, pretraining: pd.DataFrame | None = None, heldout: pd.DataFrame | None = None,
                     reports: pd.DataFrame | None = None, ms_cxr: pd.DataFrame | None = None,
                     vqa: pd.DataFrame | None = None) -> dict:
    """The book's sets: REFLACX ``pretraining`` readings (train) and the multi-reader ``heldout``
    readings (eval); MIMIC-CXR ``reports``, MS-CXR and VQA frames split by their ``split`` column
    into ``train`` (role train) and ``validate`` / ``test`` (role eval). Missing inputs are
    skipped."""
    out = {}
    if pretraining is not None:
        out["REFLACX pretraining"] = ("train", pretraining)
    if heldout is not None:
        out["REFLACX multi-reader held out"] = ("eval", heldout)
    for label, frame in (("MIMIC-CXR", reports), ("MS-CXR", ms_cxr), ("VQA", vqa)):
        if frame is None:
            continue
        for split in ("train", "validate", "test"):
            part = frame[frame["split"] == split]
            if len(part):
                out[f"{label} {split}"] = ("train" if split == "train" else "eval", part)
    return out
