"""The synthetic downstream corpus (issue 12): the REFLACX tree is unchanged by it (hash pinned),
its four layouts read through the real readers, its labels are derived from its text's truth,
all 14 labels occur, and the leakage audit finds the planted shared patients."""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazex_lib.config import load_config
from gazex_lib.data import schema
from gazex_lib.data.downstream import (leakage_audit, leakage_findings, load_iu_xray, load_ms_cxr,
                                       load_report_dataset, load_vqa, sets_from_frames)
from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.data.mimic import MimicCxrJpg
from gazex_lib.data.synthetic import make_dataset
from gazex_lib.data.synthetic.downstream import load_downstream_truth

from conftest import SMALL_SYNTHETIC

#: sha256 of the small synthetic dataset's REFLACX tree and REFLACX images (generator version 4,
#: before the downstream corpus existed): relative path then bytes of every file under
#: reflacx/, then of every JPEG whose dicom_id a REFLACX metadata file lists, in sorted order.
REFLACX_TREE_SHA256 = "9261031446051544f0192248858e3bc5226138ebf67388e5759fcab9e9fca464"


def reflacx_tree_hash(root: Path) -> str:
    dicoms = set()
    for p in (root / "reflacx" / "main_data").glob("metadata_phase_*.csv"):
        dicoms |= set(pd.read_csv(p)["dicom_id"])
    files = sorted(p for p in (root / "reflacx").rglob("*") if p.is_file())
    jpgs = sorted(p for p in (root / "mimic-cxr-jpg").rglob("*.jpg") if p.stem in dicoms)
    h = hashlib.sha256()
    for p in files + jpgs:
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    cfg = dataclasses.replace(load_config("ci").synthetic_downstream, n_studies=120, n_iu=8)
    root = tmp_path_factory.mktemp("downstream")
    summary = make_dataset(root, progress=False, downstream=cfg, **SMALL_SYNTHETIC)
    return root, summary, cfg


def test_reflacx_tree_is_unchanged_by_the_downstream_corpus(corpus, small_synthetic, tmp_path):
    assert reflacx_tree_hash(corpus[0]) == REFLACX_TREE_SHA256
    assert reflacx_tree_hash(small_synthetic[0]) == REFLACX_TREE_SHA256      # a smaller corpus
    make_dataset(tmp_path, progress=False, **SMALL_SYNTHETIC)               # and none
    assert reflacx_tree_hash(tmp_path) == REFLACX_TREE_SHA256


def test_the_four_layouts_read_through_the_readers(corpus):
    root, summary, cfg = corpus
    counts = summary["downstream"]
    reports = load_report_dataset(root, section="findings_or_impression", cleaning="none")
    assert len(reports) == summary["n_images"] + counts["mimic_studies"]
    assert reports.dropped.total == 0
    assert set(reports.frame["view"]) <= {"PA", "AP"}               # laterals are never chosen
    split = MimicCxrJpg(root / schema.MIMIC_JPG_DIR).split
    meta = MimicCxrJpg(root / schema.MIMIC_JPG_DIR).metadata
    assert (meta["ViewPosition"] == "LATERAL").sum() > 0
    ms = load_ms_cxr(root / schema.MS_CXR_DIR, mimic_split=split, split_policy="consistent")
    released = load_ms_cxr(root / schema.MS_CXR_DIR, split_policy="released")
    assert len(released) == counts["ms_cxr_pairs"] > 0
    assert 0 < ms.dropped.counts["split_inconsistent"] < len(released)
    assert len(ms) + ms.dropped.total == len(released)
    vqa = load_vqa(root / schema.VQA_DIR, mimic_split=split, split_policy="released")
    assert len(vqa) == counts["vqa_questions"] and vqa.dropped.total == 0
    assert all(n > 0 for n in vqa.type_counts().values())
    iu = load_iu_xray(root / schema.IU_XRAY_DIR, frontal_index=0, cleaning="none")
    assert len(iu) == cfg.n_iu and set(iu.frame["split"]) <= set(schema.SPLITS)


def test_labels_are_derived_from_the_text_truth(corpus):
    root, _, _ = corpus
    truth, sentences = load_downstream_truth(root)
    chex = MimicCxrJpg(root / schema.MIMIC_JPG_DIR).chexpert.set_index("study_id")
    mimic = truth[truth["dataset"] == "mimic"]
    got = chex.loc[mimic["study_id"].astype(int), list(CHEXBERT_LABELS)].to_numpy()
    want = mimic[list(CHEXBERT_LABELS)].to_numpy(dtype=float)
    assert ((got == want) | (np.isnan(got) & np.isnan(want))).all()
    # a hedged sentence is the only source of -1, a negated one of 0
    for role, value in (("hedged", -1.0), ("negated", 0.0), ("finding", 1.0)):
        part = sentences[sentences["role"] == role][list(CHEXBERT_LABELS[:-1])].to_numpy()
        assert np.isin(part[~np.isnan(part)], [value]).all(), role
    assert (sentences["role"] == "hedged").any()


def test_every_label_occurs(corpus):
    root, _, _ = corpus
    truth, _ = load_downstream_truth(root)
    labels = truth[list(CHEXBERT_LABELS)]
    assert ((labels == 1.0).sum() > 0).all(), (labels == 1.0).sum().to_dict()
    assert (labels == -1.0).to_numpy().sum() > 0 and (labels == 0.0).to_numpy().sum() > 0


def test_leakage_audit_finds_the_planted_shared_patients(corpus):
    root, summary, _ = corpus
    from gazex_lib.data.reflacx import load_reflacx

    meta = load_reflacx(root / "reflacx").metadata
    reports = load_report_dataset(root, section="findings_or_impression", cleaning="none").frame
    reflacx_studies = set(reports.merge(meta[["dicom_id"]], on="dicom_id")["study_id"])
    downstream = reports[~reports["study_id"].isin(reflacx_studies)]
    table = leakage_audit(sets_from_frames(pretraining=meta[meta["phase"] == 3],
                                           heldout=meta[meta["phase"] < 3], reports=downstream))
    shared = table["shared_patients"].fillna(0)
    assert shared.sum() >= summary["downstream"]["shared_patient_studies"] > 0
    # what must be named, worked out from the planted truth: a downstream study of a REFLACX
    # patient is in that patient's split; it matters when one side trains and the other judges
    phase = meta.drop_duplicates("subject_id").set_index("subject_id")["phase"]
    mine = downstream[downstream["subject_id"].isin(phase.index)]
    expected = set()
    for sid, split in zip(mine["subject_id"], mine["split"]):
        if phase[sid] == 3 and split != "train":
            expected.add(("REFLACX pretraining", f"MIMIC-CXR {split}"))
        if phase[sid] < 3 and split == "train":
            expected.add(("REFLACX multi-reader held out", "MIMIC-CXR train"))
    named = {(r.set_a, r.set_b) for r in table[table["matters"]].itertuples()}
    assert expected, "the planted overlap should reach an evaluation set"
    assert named == expected and len(leakage_findings(table)) == len(expected)


def test_same_seed_same_corpus(tmp_path, corpus):
    root, _, cfg = corpus
    small = dataclasses.replace(cfg, n_studies=6, n_iu=2)
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        make_dataset(d, progress=False, downstream=small, **SMALL_SYNTHETIC)
    for rel in (f"{schema.MS_CXR_DIR}/{schema.MS_CXR_FILE}", f"{schema.VQA_DIR}/{schema.VQA_FILE}",
                f"{schema.IU_XRAY_DIR}/{schema.IU_ANNOTATION_FILE}", "synthetic_downstream_truth.jsonl",
                f"{schema.MIMIC_REPORTS_DIR}/{schema.MIMIC_SECTIONED_FILE}"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


@pytest.mark.parametrize("kind", ["pneumonia", "pleural_thickening", "fracture"])
def test_new_kinds_are_visible_at_quarter_scale(kind):
    """Each painted downstream kind changes the film inside its ellipse by at least 25 grey
    levels at 1/4 scale (the bar tests/test_phantom.py sets for the REFLACX kinds)."""
    from gazex_lib.data.synthetic.anatomy import make_anatomy
    from gazex_lib.data.synthetic.conspicuity import finding_contrast
    from gazex_lib.data.synthetic.downstream_findings import plant_downstream
    from gazex_lib.data.synthetic.phantom import render

    signals = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        a = make_anatomy(rng, 896, 1120, False)
        f = plant_downstream(rng, a, [kind])
        base = render(a, [], np.random.default_rng(100 + seed)).astype(float)
        with_f = render(a, f, np.random.default_rng(100 + seed)).astype(float)
        signals.append(abs(finding_contrast(with_f, base, f[0], 4)["signal"]))
    assert np.median(signals) >= 25, signals


def test_widened_mediastinum_widens_the_mediastinum():
    from gazex_lib.data.synthetic.anatomy import make_anatomy
    from gazex_lib.data.synthetic.downstream_findings import widen_mediastinum
    from gazex_lib.data.synthetic.phantom import render

    a = make_anatomy(np.random.default_rng(0), 896, 1120, False)
    base = render(a, [], np.random.default_rng(1)).astype(float)
    wide = render(widen_mediastinum(a), [], np.random.default_rng(1)).astype(float)
    top = int(a.lungs[0][1] - a.lungs[0][3]) + 120
    band = slice(top, top + 100)
    # brighter beside the midline, where the lungs were
    x = int(a.spine_x + 1.4 * a.mediastinum_half_width)
    assert wide[band, x - 5:x + 5].mean() > base[band, x - 5:x + 5].mean() + 10
