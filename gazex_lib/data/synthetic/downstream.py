"""The synthetic downstream corpus: MIMIC-CXR studies without gaze, MS-CXR-like boxes,
Medical-CXR-VQA-like questions and an IU X-ray-like set, in the released layouts.

:func:`make_downstream` is called by :func:`.dataset.make_dataset` after the REFLACX readings.
It draws from its own streams (``SeedSequence([seed, 100, i])`` per MIMIC study,
``[seed, 102, k]`` per IU X-ray report, ``[seed, 103]`` for the plan), so the REFLACX tree is
byte-identical with or without it (``tests/test_synthetic_downstream.py`` pins its hash). It
writes:

* the studies' films into ``mimic-cxr-jpg/files/...`` (a lateral film too for a share of them),
  and returns their rows of the MIMIC-CXR split, metadata, CheXpert and sectioned-report tables
  (the caller writes those tables once, with the REFLACX images' rows);
* ``ms-cxr/MS_CXR_Local_Alignment_v1.1.0.csv`` (a share of pairs with a released split that
  disagrees with MIMIC's, and of phrases that do not locate their finding);
* ``medical-cxr-vqa/medical_cxr_vqa_questions.csv`` (the released columns; a share of empty
  splits);
* ``iu-xray/annotation.json`` and ``iu-xray/images/<id>/{0,1}.png`` (frontal, lateral);
* ``synthetic_downstream_truth.jsonl``: per study its findings, sentences with their labels,
  and the report's 14 labels (the CheXpert-format CSV is derived from these).

Patients: new ones (ids that no REFLACX image uses), split by patient in ``split_fractions``,
plus a share ``shared_patient_fraction`` of studies of REFLACX patients, in their split (a new
study of a patient the gaze data already has: what the leakage audit must find).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from gazex_lib.data import schema

from .downstream_findings import study_findings
from .downstream_reports import ms_cxr_pairs, study_report, vqa_questions
from .mimic import CHEXPERT_COLUMNS, metadata_row, split_row
from .phantom import encode_jpeg, render
from .writer import save_bytes, save_csv

__all__ = ["make_downstream", "render_lateral", "chexpert_from_labels", "load_downstream_truth", "TRUTH_FILE"]

TRUTH_FILE = "synthetic_downstream_truth.jsonl"
_MS_SPLIT = {"train": "train", "validate": "val", "test": "test"}
_IU_FRACTIONS = (0.7, 0.1, 0.2)     # R2Gen's IU X-ray proportions (train / val / test)


def render_lateral(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A crude lateral chest film (uint8, ``(height, width)``): body, lungs, heart, spine."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)

    def ell(cx, cy, rx, ry):
        return np.clip(1.2 - np.sqrt(((x - cx * width) / (rx * width)) ** 2
                                     + ((y - cy * height) / (ry * height)) ** 2), 0, 1)

    img = 20 + 150 * ell(0.5, 0.55, 0.42, 0.5) - 80 * ell(0.5, 0.42, 0.3, 0.3)
    img += 50 * ell(0.38, 0.6, 0.14, 0.15) + 70 * ell(0.76, 0.5, 0.035, 0.45)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def chexpert_from_labels(labels: np.ndarray, subject_id: int, study_id: int) -> dict:
    """A row of the CheXpert-format table from a 14-vector (CheXbert order)."""
    from gazex_lib.data.labels import CHEXBERT_LABELS

    row = {"subject_id": subject_id, "study_id": study_id, **dict(zip(CHEXBERT_LABELS, labels))}
    return {c: row[c] for c in CHEXPERT_COLUMNS}


def _dicom(rng: np.random.Generator, used: set) -> str:
    while True:
        d = "-".join(f"{int(v):08x}" for v in rng.integers(0, 2**32, size=5))
        if d not in used:
            used.add(d)
            return d


def _plan(cfg, seed: int, reflacx_images: list[dict]) -> list[dict]:
    """Study ids, patients and splits (new patients split by patient; shared ones keep theirs)."""
    from .dataset import split_counts

    rng = np.random.default_rng(np.random.SeedSequence([seed, 103]))
    used_subjects = {im["subject_id"] for im in reflacx_images}
    used_studies = {im["study_id"] for im in reflacx_images}
    n = cfg.n_studies
    n_shared = min(len(reflacx_images), int(round(cfg.shared_patient_fraction * n)))
    studies = []
    for im in (reflacx_images[int(i)] for i in rng.choice(len(reflacx_images), size=n_shared, replace=False)):
        studies.append({"subject_id": im["subject_id"], "split": im["split"], "shared": True})
    n_new = n - n_shared
    subjects = [int(s) for s in rng.choice(10_000_000, size=2 * n_new, replace=False) + 10_000_000
                if int(s) not in used_subjects][:n_new]
    counts = split_counts(n_new, cfg.split_fractions)
    splits = np.repeat(np.arange(3), counts)[rng.permutation(n_new)]
    studies += [{"subject_id": s, "split": schema.SPLITS[int(k)], "shared": False}
                for s, k in zip(subjects, splits)]
    ids = [int(s) for s in rng.choice(10_000_000, size=2 * n, replace=False) + 50_000_000
           if int(s) not in used_studies][:n]
    used = {im["dicom_id"] for im in reflacx_images}
    for i, st in enumerate(studies):
        st.update(index=i, study_id=ids[i], dicom_id=_dicom(rng, used), lateral_id=_dicom(rng, used),
                  view=str(rng.choice(["PA", "AP"], p=[0.6, 0.4])))
    return studies


def _study(root: Path, st: dict, cfg, seed: int, image_size, jpeg_quality: int, out: dict) -> int:
    W, H = image_size
    rng = np.random.default_rng(np.random.SeedSequence([seed, 100, st["index"]]))
    anatomy, findings = study_findings(rng, W, H, cfg.no_finding_fraction)
    sid, study, d = st["subject_id"], st["study_id"], st["dicom_id"]
    folder = root / schema.MIMIC_JPG_DIR / f"files/p{str(sid)[:2]}/p{sid}/s{study}"
    n_bytes = save_bytes(folder / f"{d}.jpg", encode_jpeg(render(anatomy, findings, rng), jpeg_quality))
    out["split"].append(split_row(d, sid, study, st["split"]))
    out["metadata"].append(metadata_row(rng, d, sid, study, st["view"], W, H))
    if rng.random() < cfg.lateral_fraction:
        lat = st["lateral_id"]
        n_bytes += save_bytes(folder / f"{lat}.jpg", encode_jpeg(render_lateral(rng, W, H), jpeg_quality))
        out["split"].append(split_row(lat, sid, study, st["split"]))
        out["metadata"].append({**metadata_row(rng, lat, sid, study, st["view"], W, H), "ViewPosition": "LATERAL",
                                "ViewCodeSequence_CodeMeaning": "lateral"})
    report = study_report(rng, findings, hedge_below=cfg.hedge_below, negations=cfg.negations)
    out["chexpert"].append(chexpert_from_labels(report["labels"], sid, study))
    out["reports"].append({"study": f"s{study}", "impression": report["impression"],
                           "findings": report["findings"], "last_paragraph": report["impression"],
                           "comparison": "None."})
    released = _MS_SPLIT[st["split"]]
    if rng.random() < cfg.ms_cxr_inconsistent_fraction:
        released = str(rng.choice([v for v in _MS_SPLIT.values() if v != released]))
    for p in ms_cxr_pairs(rng, findings, report, width=W, height=H, unlocated_fraction=cfg.ms_cxr_unlocated_fraction):
        located = p.pop("located")
        out["ms_cxr"].append({"dicom_id": d, **p, "path": f"files/p{str(sid)[:2]}/p{sid}/s{study}/{d}.dcm",
                              "image_width": W, "image_height": H, "split": released})
        out["ms_cxr_located"].append(located)
    for q in vqa_questions(rng, findings, report, view=st["view"], n=cfg.vqa_per_study):
        blank = rng.random() < cfg.vqa_blank_split_fraction
        out["vqa"].append({"subject_id": sid, "study_id": study, "dicom_id": d, **q,
                           "split": "" if blank else _MS_SPLIT[st["split"]]})
    out["truth"].append({"dataset": "mimic", "subject_id": sid, "study_id": study, "dicom_id": d,
                         "split": st["split"], "shared_patient": st["shared"], "view": st["view"],
                         "findings": findings, "sentences": report["sentences"],
                         "labels": report["labels"]})
    return n_bytes


def _iu(root: Path, cfg, seed: int) -> tuple[dict, list[dict], int]:
    from .dataset import split_counts

    W, H = cfg.iu_image_size
    rng = np.random.default_rng(np.random.SeedSequence([seed, 104]))
    counts = split_counts(cfg.n_iu, _IU_FRACTIONS)
    splits = np.repeat(np.arange(3), counts)[rng.permutation(cfg.n_iu)]
    annotation: dict = {k: [] for k in schema.IU_SPLITS}
    truth, n_bytes = [], 0
    for k in range(cfg.n_iu):
        r = np.random.default_rng(np.random.SeedSequence([seed, 102, k]))
        anatomy, findings = study_findings(r, W, H, cfg.no_finding_fraction)
        ident = f"CXR{k + 1}_IM-{1000 + k}"
        n_bytes += save_bytes(root / schema.IU_XRAY_DIR / schema.IU_IMAGES_DIR / ident / "0.png",
                              _png(render(anatomy, findings, r)))
        n_bytes += save_bytes(root / schema.IU_XRAY_DIR / schema.IU_IMAGES_DIR / ident / "1.png",
                              _png(render_lateral(r, W, H)))
        report = study_report(r, findings, hedge_below=cfg.hedge_below, negations=cfg.negations)
        split = schema.IU_SPLITS[int(splits[k])]
        annotation[split].append({"id": ident, "report": report["findings"],
                                  "image_path": [f"{ident}/0.png", f"{ident}/1.png"], "split": split})
        truth.append({"dataset": "iu", "id": ident, "split": split, "findings": findings,
                      "sentences": report["sentences"], "labels": report["labels"]})
    return annotation, truth, n_bytes


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return [None if v != v else float(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(type(obj))


def make_downstream(root: Path, seed: int, cfg, reflacx_images: list[dict], *, image_size,
                    jpeg_quality: int) -> dict:
    """Write the downstream corpus under ``root`` (module docstring). Returns ``{"split",
    "metadata", "chexpert", "reports"}`` (rows for the MIMIC-CXR tables), ``"counts"`` and
    ``"bytes"``."""
    root = Path(root)
    out = {k: [] for k in ("split", "metadata", "chexpert", "reports", "ms_cxr", "ms_cxr_located", "vqa", "truth")}
    n_bytes = 0
    for st in _plan(cfg, seed, reflacx_images):
        n_bytes += _study(root, st, cfg, seed, image_size, jpeg_quality, out)
    (root / schema.MS_CXR_DIR).mkdir(parents=True, exist_ok=True)
    n_bytes += save_csv(pd.DataFrame(out["ms_cxr"], columns=schema.MS_CXR_COLUMNS),
                        root / schema.MS_CXR_DIR / schema.MS_CXR_FILE)
    (root / schema.VQA_DIR).mkdir(parents=True, exist_ok=True)
    n_bytes += save_csv(pd.DataFrame(out["vqa"], columns=schema.VQA_COLUMNS), root / schema.VQA_DIR / schema.VQA_FILE)
    annotation, iu_truth, b = _iu(root, cfg, seed)
    n_bytes += b
    text = json.dumps(annotation, indent=1) + "\n"
    (root / schema.IU_XRAY_DIR / schema.IU_ANNOTATION_FILE).write_text(text, encoding="utf-8")
    n_bytes += len(text)
    with open(root / TRUTH_FILE, "w", encoding="utf-8") as fh:
        for t in out["truth"] + iu_truth:
            fh.write(json.dumps(t, sort_keys=True, default=_jsonable) + "\n")
    n_bytes += (root / TRUTH_FILE).stat().st_size
    counts = {"mimic_studies": len(out["truth"]), "ms_cxr_pairs": len(out["ms_cxr"]),
              "ms_cxr_unlocated": int(len(out["ms_cxr_located"]) - sum(out["ms_cxr_located"])),
              "vqa_questions": len(out["vqa"]), "iu_reports": len(iu_truth),
              "shared_patient_studies": int(sum(t["shared_patient"] for t in out["truth"]))}
    return {"split": out["split"], "metadata": out["metadata"], "chexpert": out["chexpert"],
            "reports": out["reports"], "counts": counts, "bytes": int(n_bytes)}


def load_downstream_truth(root: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(reports, sentences)`` of ``synthetic_downstream_truth.jsonl``: one row per study
    (``dataset`` mimic / iu, its ids, ``split``, ``text``: the report's findings section, and the
    14 labels, NaN blank) and one row per sentence (``study``: the report's row, ``role``,
    ``text`` and its 14 labels)."""
    from gazex_lib.data.labels import CHEXBERT_LABELS

    path = Path(root) / TRUTH_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: a synthetic data root made with the downstream corpus")
    reports, sentences = [], []
    with open(path, encoding="utf-8") as fh:
        for i, t in enumerate(map(json.loads, fh)):
            labels = [np.nan if v is None else v for v in t["labels"]]
            reports.append({"dataset": t["dataset"], "id": t.get("id") or f"s{t['study_id']}",
                            "subject_id": t.get("subject_id"), "study_id": t.get("study_id"),
                            "dicom_id": t.get("dicom_id"), "split": t["split"],
                            "text": " ".join(s["text"] for s in t["sentences"]),
                            **dict(zip(CHEXBERT_LABELS, labels))})
            for s in t["sentences"]:
                vec = {lab: s["labels"].get(lab, np.nan) for lab in CHEXBERT_LABELS[:-1]}
                sentences.append({"study": i, "role": s["role"], "text": s["text"], **vec,
                                  "No Finding": np.nan})
    return pd.DataFrame(reports), pd.DataFrame(sentences)
