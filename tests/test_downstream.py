"""Downstream readers on fake trees (issue 12): MIMIC-CXR reports and labels, IU X-ray, MS-CXR,
Medical-CXR-VQA; R2Gen cleaning; the MS-CXR box round trip; the leakage audit; bad input."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazex_lib.data import schema
from gazex_lib.data._csv import DownstreamFormatError, MimicFormatError
from gazex_lib.data.downstream import (SplitTooSmallError, clean_r2gen, leakage_audit, leakage_findings,
                                       load_iu_xray, load_ms_cxr, load_report_dataset, load_vqa,
                                       sets_from_frames)
from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.tasks.coords import box_from_model, box_to_model


# --- R2Gen cleaning -------------------------------------------------------------------------------
def test_clean_r2gen_by_hand():
    text = "1. Small left pleural effusion.  2. No pneumothorax..\nHeart size is normal (stable)."
    # newline -> space; double space -> one; '..' -> '.'; numbering '1. ' and '. 2. ' removed;
    # lower-case, split on '. ', the sentence cleaner drops '(', ')' and '.'
    assert clean_r2gen(text) == ("small left pleural effusion . no pneumothorax . "
                                 "heart size is normal stable .")
    # R2Gen's class holds the range ':' .. '[' (so '=', '@', '<' go too); quotes and slashes go
    assert clean_r2gen('PICC @ 3cm; "stable" a/p view: ok') == "picc  3cm stable ap view ok ."
    # its filter keeps empty sentences (a string compared with a list is always unequal)
    assert clean_r2gen("No effusion. . No pneumothorax.") == "no effusion .  . no pneumothorax ."
    # IU X-ray: newlines stay, as in R2Gen's clean_report_iu_xray (MIMIC's makes them spaces)
    assert clean_r2gen("a\nb", dataset="iu") == "a\nb ." and clean_r2gen("a\nb") == "a b ."


FINDINGS_OR_IMPRESSION = {"section": "findings_or_impression", "cleaning": "none"}


# --- MIMIC-CXR reports --------------------------------------------------------------------------
def _gz(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(frame.to_csv(index=False, lineterminator="\n").encode()))


def _mimic_tree(root: Path) -> Path:
    """Five studies: s1 findings, s2 impression only, s3 nothing, s4 lateral only, s5 not in
    the split table; s1 has a PA and an AP image, s2 AP only; labels for s1 and s4 only."""
    rep = pd.DataFrame({"study": ["s50000001", "s50000002", "s50000003", "s50000004", "s50000005"],
                        "impression": ["Impression one.", "No acute process.", "", "x", "y"],
                        "findings": ["Small  left\neffusion.", "", "", "Lateral only.", "No split."],
                        "last_paragraph": "", "comparison": ""})
    (root / "mimic-cxr").mkdir(parents=True)
    rep.to_csv(root / "mimic-cxr" / schema.MIMIC_SECTIONED_FILE, index=False, lineterminator="\n")
    jpg = root / "mimic-cxr-jpg"
    split = pd.DataFrame({"dicom_id": ["d1a", "d1b", "d2", "d3", "d4"],
                          "study_id": [50000001, 50000001, 50000002, 50000003, 50000004],
                          "subject_id": [10000001, 10000001, 10000002, 10000003, 10000004],
                          "split": ["train", "train", "test", "validate", "train"]})
    _gz(jpg / schema.MIMIC_SPLIT_FILE, split[schema.MIMIC_SPLIT_COLUMNS])
    meta = pd.DataFrame({c: 0 for c in schema.MIMIC_METADATA_COLUMNS}, index=range(5))
    meta["dicom_id"] = split["dicom_id"]
    meta["study_id"], meta["subject_id"] = split["study_id"], split["subject_id"]
    meta["ViewPosition"] = ["AP", "PA", "AP", "PA", "LATERAL"]
    _gz(jpg / schema.MIMIC_METADATA_FILE, meta)
    chex = pd.DataFrame({"subject_id": [10000001, 10000004], "study_id": [50000001, 50000004],
                         **{lab: [np.nan, np.nan] for lab in sorted(CHEXBERT_LABELS)}})
    chex.loc[0, "Pleural Effusion"] = 1.0
    chex.loc[0, "Pneumothorax"] = -1.0
    _gz(jpg / schema.MIMIC_CHEXPERT_FILE, chex)
    return root


def test_report_dataset_sections_splits_and_drops(tmp_path):
    ds = load_report_dataset(_mimic_tree(tmp_path), **FINDINGS_OR_IMPRESSION)
    assert list(ds.frame["study_id"]) == [50000001, 50000002]
    assert list(ds.frame["report"]) == ["Small left effusion.", "No acute process."]
    assert list(ds.frame["dicom_id"]) == ["d1b", "d2"]          # PA before AP
    assert list(ds.frame["split"]) == ["train", "test"]
    assert dict(ds.dropped.counts) == {"no_text": 1, "no_frontal_image": 1, "no_split": 1}
    assert dict(ds.dropped.flagged) == {"no_label_row": 1}
    assert ds.labels.loc[0, "Pleural Effusion"] == 1.0 and ds.labels.loc[0, "Pneumothorax"] == -1.0
    assert ds.labels.iloc[1].isna().all() and list(ds.labels.columns) == list(CHEXBERT_LABELS)
    imp = load_report_dataset(tmp_path, section="impression", cleaning="none")
    assert list(imp.frame["report"])[:2] == ["Impression one.", "No acute process."]
    both = load_report_dataset(tmp_path, section="findings_and_impression", cleaning="r2gen")
    assert both.frame["report"].iloc[0] == "small left effusion . impression one ."
    assert load_report_dataset(tmp_path, section="findings", cleaning="none").dropped.counts["no_text"] == 2
    with pytest.raises(ValueError, match="section must be one of"):
        load_report_dataset(tmp_path, section="summary", cleaning="none")


def test_report_dataset_reads_another_labellers_table(tmp_path):
    root = _mimic_tree(tmp_path / "data")
    other = pd.DataFrame({"subject_id": [10000001, 10000002], "study_id": [50000001, 50000002],
                          **{lab: [np.nan, np.nan] for lab in CHEXBERT_LABELS}})
    other.loc[1, "Edema"] = -1.0
    path = tmp_path / "chexbert_labels.csv"
    other.to_csv(path, index=False)
    ds = load_report_dataset(root, labels_file=path, **FINDINGS_OR_IMPRESSION)
    assert np.isnan(ds.labels.loc[0, "Pleural Effusion"]) and ds.labels.loc[1, "Edema"] == -1.0
    other.loc[1, "Edema"] = 2.0
    other.to_csv(path, index=False)
    with pytest.raises(MimicFormatError, match=r"chexbert_labels\.csv: row 2 \(line 3\), column 'Edema'"):
        load_report_dataset(root, labels_file=path, **FINDINGS_OR_IMPRESSION)


def test_report_dataset_on_the_synthetic_tree(small_synthetic):
    root, _ = small_synthetic
    ds = load_report_dataset(root, **FINDINGS_OR_IMPRESSION)
    assert len(ds) > 0 and len(ds.labels) == len(ds)
    assert set(ds.frame["split"]) <= set(schema.SPLITS)
    assert ds.frame["study_id"].is_unique and not ds.frame["report"].str.strip().eq("").any()


# --- IU X-ray -----------------------------------------------------------------------------------
def _iu_tree(root: Path, data: dict | None = None) -> Path:
    data = data or {
        "train": [{"id": "CXR1_IM-1", "report": "The heart is normal.  No effusion.",
                   "image_path": ["CXR1_IM-1/0.png", "CXR1_IM-1/1.png"], "split": "train"},
                  {"id": "CXR2_IM-2", "report": " ", "image_path": ["CXR2_IM-2/0.png"], "split": "train"}],
        "val": [{"id": "CXR3_IM-3", "report": "Clear lungs.", "image_path": ["CXR3_IM-3/0.png"],
                 "split": "val"}],
        "test": [{"id": "CXR4_IM-4", "report": "No acute disease.", "image_path": ["CXR4_IM-4/0.png",
                                                                                   "CXR4_IM-4/1.png"],
                  "split": "test"}]}
    root.mkdir(parents=True, exist_ok=True)
    (root / "annotation.json").write_text(json.dumps(data))
    for items in data.values():
        for item in items:
            for p in item["image_path"][:1]:
                if item["id"] != "CXR3_IM-3":
                    (root / "images" / p).parent.mkdir(parents=True, exist_ok=True)
                    (root / "images" / p).write_bytes(b"png")
    return root


def test_iu_xray_reads_and_counts(tmp_path):
    ds = load_iu_xray(_iu_tree(tmp_path / "iu-xray"), frontal_index=0, cleaning="none")
    assert list(ds.frame["id"]) == ["CXR1_IM-1", "CXR4_IM-4"]
    assert list(ds.frame["split"]) == ["train", "test"]
    assert list(ds.frame["image"]) == ["CXR1_IM-1/0.png", "CXR4_IM-4/0.png"]
    assert ds.frame["other_images"].iloc[0] == "CXR1_IM-1/1.png"
    assert ds.frame["report"].iloc[0] == "The heart is normal. No effusion."
    assert dict(ds.dropped.counts) == {"empty_report": 1, "missing_image_file": 1}
    assert ds.dropped.denominator == 4
    second = load_iu_xray(tmp_path / "iu-xray", frontal_index=1, cleaning="none", check_images=False)
    assert list(second.frame["image"]) == ["CXR1_IM-1/1.png", "CXR4_IM-4/1.png"]
    assert second.dropped.counts["no_frontal_image"] == 1
    r2 = load_iu_xray(tmp_path / "iu-xray", frontal_index=0, cleaning="r2gen")
    assert r2.frame["report"].iloc[0] == "the heart is normal . no effusion ."


IU_BAD = [
    ("not json", "{", r"annotation\.json: not valid JSON"),
    ("list top", "[]", r"expected an object with the keys"),
    ("bad key", {"dev": []}, r"unknown split key\(s\) \['dev'\]"),
    ("items not list", {"train": {}}, r"'train' is dict, not a list"),
    ("missing field", {"train": [{"id": "a", "report": "r", "split": "train"}]},
     r"'train'\[0\] lacks field\(s\) \['image_path'\]"),
    ("path not list", {"test": [{"id": "a", "report": "r", "image_path": "a/0.png", "split": "test"}]},
     r"'test'\[0\], field 'image_path': 'a/0.png' is not a list of strings"),
    ("split mismatch", {"val": [{"id": "a", "report": "r", "image_path": [], "split": "test"}]},
     r"'val'\[0\], field 'split': 'test' under the key 'val'"),
    ("report not str", {"val": [{"id": "a", "report": 3, "image_path": [], "split": "val"}]},
     r"'val'\[0\], field 'report': 3 is not a string"),
    ("duplicate id", {"train": [{"id": "a", "report": "r", "image_path": [], "split": "train"}],
                      "test": [{"id": "a", "report": "r", "image_path": [], "split": "test"}]},
     r"'test'\[0\], field 'id': duplicate id 'a' \(first at 'train'\[0\]\)"),
]


@pytest.mark.parametrize("name,content,pattern", IU_BAD, ids=[c[0] for c in IU_BAD])
def test_iu_xray_bad_input(tmp_path, name, content, pattern):
    root = tmp_path / "iu-xray"
    root.mkdir()
    (root / "annotation.json").write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(DownstreamFormatError, match=pattern):
        load_iu_xray(root, frontal_index=0, cleaning="none")


# --- MS-CXR ---------------------------------------------------------------------------------------
def _ms_row(dicom, split, x=10, y=20, w=30, h=40, category="Pneumothorax", width=100, height=120):
    return {"dicom_id": dicom, "category_name": category, "label_text": "small left pneumothorax",
            "path": f"files/p10/p10000001/s50000001/{dicom}.dcm", "x": x, "y": y, "w": w, "h": h,
            "image_width": width, "image_height": height, "split": split}


def _ms_tree(root: Path, rows: list[dict]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=schema.MS_CXR_COLUMNS).to_csv(root / schema.MS_CXR_FILE, index=False)
    return root


MIMIC_SPLIT = pd.DataFrame({"dicom_id": ["a", "b", "c", "d"], "study_id": [1, 2, 3, 4],
                            "subject_id": [1, 2, 3, 4], "split": ["train", "validate", "test", "test"]})


def test_ms_cxr_split_policies(tmp_path):
    rows = [_ms_row("a", "train"), _ms_row("b", "val"), _ms_row("c", "train"), _ms_row("d", "test"),
            _ms_row("e", "test"), _ms_row("d", "test", x=90)]        # e: not in MIMIC; last: outside
    root = _ms_tree(tmp_path / "ms-cxr", rows)
    consistent = load_ms_cxr(root, mimic_split=MIMIC_SPLIT, split_policy="consistent")
    assert list(consistent.frame["dicom_id"]) == ["a", "b", "d"]
    assert list(consistent.frame["split"]) == ["train", "validate", "test"]
    assert dict(consistent.dropped.counts) == {"box_outside_image": 1, "not_in_mimic_split": 1,
                                               "split_inconsistent": 1}
    assert consistent.split_counts()["test"] == {"pairs": 1, "images": 1}
    mimic = load_ms_cxr(root, mimic_split=MIMIC_SPLIT, split_policy="mimic")
    assert list(mimic.frame["split"]) == ["train", "validate", "test", "test"]
    released = load_ms_cxr(root, split_policy="released")
    assert list(released.frame["split"]) == ["train", "validate", "train", "test", "test"]
    with pytest.raises(ValueError, match="needs MIMIC-CXR-JPG's split table"):
        load_ms_cxr(root, split_policy="consistent")
    with pytest.raises(SplitTooSmallError, match="has 1 pairs, fewer than the 30"):
        consistent.require_test_pairs(30)
    consistent.require_test_pairs(1)


MS_BAD = [
    ("missing column", lambda r: r.pop("h"), r"missing column\(s\) \['h'\]"),
    ("not a number", lambda r: r.update(x="ten"), r"row 1 \(line 2\), column 'x': cannot parse 'ten'"),
    ("zero width", lambda r: r.update(w=0), r"column 'w': box w 0 must be > 0"),
    ("fractional size", lambda r: r.update(image_width=100.5), r"column 'image_width': cannot parse '100.5' as an integer"),
    ("category", lambda r: r.update(category_name="Fracture"), r"column 'category_name': 'Fracture' is not one of"),
    ("path", lambda r: r.update(path="p10/x/a.dcm"), r"column 'path': 'p10/x/a.dcm' is not files/.../a.dcm"),
    ("split", lambda r: r.update(split="dev"), r"column 'split': unknown split 'dev'"),
    ("empty text", lambda r: r.update(label_text=" "), r"column 'label_text': empty field"),
]


@pytest.mark.parametrize("name,edit,pattern", MS_BAD, ids=[c[0] for c in MS_BAD])
def test_ms_cxr_bad_input(tmp_path, name, edit, pattern):
    row = _ms_row("a", "train")
    edit(row)
    root = tmp_path / "ms-cxr"
    root.mkdir()
    pd.DataFrame([row]).to_csv(root / schema.MS_CXR_FILE, index=False)
    with pytest.raises(DownstreamFormatError, match=pattern):
        load_ms_cxr(root, split_policy="released")


def test_ms_cxr_box_round_trip():
    image, grid = (2544, 3056), (636, 764)        # a MIMIC film and its quarter-scale grid
    box = (1000.0, 400.0, 300.0, 520.0)
    out = box_to_model(box, image, grid)
    # on the film grid: exact scaling of the corners
    assert out["grid"] == pytest.approx((250.0, 100.0, 325.0, 230.0))
    # on Qwen's 0-1000 grid: floor(v / size * 1000 + 0.5) of the corners
    assert out["q"] == (393, 131, 511, 301)
    back = box_from_model(out["q"], image, grid)
    half_step = (image[0] / 2000, image[1] / 2000)
    assert abs(back[0] - box[0]) <= half_step[0] and abs(back[1] - box[1]) <= half_step[1]
    assert abs(back[0] + back[2] - (box[0] + box[2])) <= half_step[0]
    assert abs(back[1] + back[3] - (box[1] + box[3])) <= half_step[1]
    # a coarser grid loses more, within its own half step
    coarse = box_from_model(box_to_model(box, image, grid, "q10")["q"], image, grid, "q10")
    assert abs(coarse[0] - box[0]) <= image[0] / 20
    with pytest.raises(ValueError, match="needs a 'q<N>'"):
        box_to_model(box, image, grid, "official_px")


# --- Medical-CXR-VQA ------------------------------------------------------------------------------
def _vqa_rows():
    return [{"subject_id": 1, "study_id": 11, "dicom_id": "a", "question_type": "abnormality",
             "question": "what abnormalities are seen in this image?", "answer": "edema, atelectasis",
             "split": "train"},
            {"subject_id": 2, "study_id": 22, "dicom_id": "b", "question_type": "presence",
             "question": "is there evidence of edema in this image?", "answer": "no", "split": ""},
            {"subject_id": 3, "study_id": 33, "dicom_id": "c", "question_type": "view",
             "question": "which view is this image taken?", "answer": "PA", "split": "test"},
            {"subject_id": 9, "study_id": 99, "dicom_id": "z", "question_type": "level",
             "question": "what level is the effusion?", "answer": "", "split": "test"}]


def _vqa_tree(root: Path, rows) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / schema.VQA_FILE, index=False)
    return root


def test_vqa_reads_types_and_split_policy(tmp_path):
    root = _vqa_tree(tmp_path / "vqa", _vqa_rows())
    split = pd.DataFrame({"dicom_id": ["a", "b", "c"], "study_id": [11, 22, 33], "subject_id": [1, 2, 3],
                          "split": ["train", "validate", "train"]})
    ds = load_vqa(root, mimic_split=split, split_policy="released")
    assert list(ds.frame["split"]) == ["train", "validate", "test"]
    assert ds.dropped.flagged["split_from_mimic"] == 1 and dict(ds.dropped.counts) == {"empty_answer": 1}
    assert ds.type_counts()["abnormality"] == 1 and sum(ds.type_counts().values()) == 3
    mimic = load_vqa(root, mimic_split=split, split_policy="mimic")
    assert list(mimic.frame["split"]) == ["train", "validate", "train"]
    assert mimic.dropped.counts["no_split"] == 1                       # study 99 is not in MIMIC
    alone = load_vqa(root, split_policy="released")
    assert alone.dropped.counts["no_split"] == 1


VQA_BAD = [
    ("generator output", lambda rows: [{k: r[k] for k in ("study_id", "subject_id", "question_type",
                                                          "question", "answer")} for r in rows],
     r"the question generator's output"),
    ("missing column", lambda rows: [{k: v for k, v in r.items() if k != "dicom_id"} for r in rows],
     r"missing column\(s\) \['dicom_id'\]"),
    ("type", lambda rows: [dict(rows[0], question_type="size")], r"row 1 \(line 2\), column 'question_type': 'size'"),
    ("study id", lambda rows: [rows[0], dict(rows[1], study_id="s22")], r"row 2 \(line 3\), column 'study_id': cannot parse 's22'"),
    ("split", lambda rows: [dict(rows[0], split="holdout")], r"column 'split': unknown split 'holdout'"),
]


@pytest.mark.parametrize("name,edit,pattern", VQA_BAD, ids=[c[0] for c in VQA_BAD])
def test_vqa_bad_input(tmp_path, name, edit, pattern):
    root = _vqa_tree(tmp_path / "vqa", edit(_vqa_rows()))
    with pytest.raises(DownstreamFormatError, match=pattern):
        load_vqa(root, split_policy="released")


# --- leakage --------------------------------------------------------------------------------------
def test_leakage_audit_names_a_test_patient_seen_in_pretraining():
    pretraining = pd.DataFrame({"subject_id": [1, 2, 3], "dicom_id": ["a", "b", "c"]})
    reports = pd.DataFrame({"subject_id": [1, 4, 5, 6], "study_id": [10, 40, 50, 60],
                            "dicom_id": ["x", "d", "e", "f"], "split": ["test", "train", "test", "validate"]})
    vqa = pd.DataFrame({"subject_id": [4, 5], "study_id": [40, 50], "dicom_id": ["d", "e"],
                        "split": ["test", "train"]})
    sets = sets_from_frames(pretraining=pretraining, reports=reports, vqa=vqa)
    table = leakage_audit(sets)
    row = table[(table["set_a"] == "REFLACX pretraining") & (table["set_b"] == "MIMIC-CXR test")].iloc[0]
    assert (row["shared_patients"], row["shared_images"], row["matters"]) == (1, 0, True)
    assert pd.isna(row["shared_studies"])                    # pretraining frame has no study ids
    both_train = table[(table["set_a"] == "MIMIC-CXR train") & (table["set_b"] == "VQA test")].iloc[0]
    assert both_train["shared_patients"] == 1 and both_train["matters"]
    eval_eval = table[(table["set_a"] == "MIMIC-CXR test") & (table["set_b"] == "VQA train")].iloc[0]
    assert eval_eval["shared_studies"] == 1 and eval_eval["matters"]
    found = leakage_findings(table)
    assert "1 patient of 'MIMIC-CXR test' is in 'REFLACX pretraining' (e.g. 1)" in found
    assert "1 patient of 'VQA test' is in 'MIMIC-CXR train', 1 study, 1 image (e.g. 4)" in found
    clean = leakage_audit({"a": ("train", pretraining), "b": ("eval", pd.DataFrame({"subject_id": [9]}))})
    assert leakage_findings(clean) == []
    with pytest.raises(ValueError, match="role must be one of"):
        leakage_audit({"a": ("test", pretraining)})


# --- check-data --------------------------------------------------------------------------------
def test_check_data_counts_downstream_against_published(tmp_path):
    from gazex_lib.data.check import check_data

    _ms_tree(tmp_path / schema.MS_CXR_DIR, [_ms_row("a", "train"), _ms_row("b", "val", x=95)])
    _vqa_tree(tmp_path / schema.VQA_DIR, _vqa_rows())
    _iu_tree(tmp_path / schema.IU_XRAY_DIR)
    found = check_data(tmp_path, progress=False)
    counts = found.counts.set_index(["dataset", "count"])
    assert counts.loc[("ms-cxr", "pairs"), "found"] == 2
    assert counts.loc[("ms-cxr", "pairs"), "published"] == 1162
    assert not counts.loc[("ms-cxr", "pairs"), "matches"]
    assert counts.loc[("medical-cxr-vqa", "abnormality"), "published"] == 190_525
    assert counts.loc[("iu-xray", "reports"), "found"] == 2
    drops = found.dropped.set_index(["dataset", "reason"])
    assert drops.loc[("ms-cxr", "box_outside_image"), "count"] == 1
    assert found.ok and "downstream counts" in found.summary()
    # a malformed file is a structural error naming its row and column, and the check goes on
    (tmp_path / schema.VQA_DIR / schema.VQA_FILE).write_text(
        "subject_id,study_id,dicom_id,question_type,question,answer,split\n1,2,a,colour,q,a,train\n")
    bad = check_data(tmp_path, progress=False)
    assert not bad.ok
    assert any(name == schema.VQA_DIR and "column 'question_type': 'colour'" in msg for name, msg in bad.errors)
    assert ("ms-cxr", "pairs") in set(zip(bad.counts["dataset"], bad.counts["count"]))
