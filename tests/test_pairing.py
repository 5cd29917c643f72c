"""Pairing sentences with gaze centroids across readers (issue 13), on crafted sentences."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazex_lib.analysis.pairing import sentence_centroids, targets_by_label, targets_by_planted_finding
from gazex_lib.data.labels import CHEXBERT_LABELS


def _table(rows):
    out = []
    for rid, k, text, cx, cy in rows:
        base = {"reading_id": rid, "sentence_index": k, "text": text, "has_box": cx is not None,
                "box_orig_cx": cx if cx is not None else np.nan, "box_orig_cy": cy if cy is not None else np.nan}
        out.append({**base, "frame_kind": "holistic"})
        out.append({**base, "frame_kind": "cluster", "box_orig_cx": -1.0, "box_orig_cy": -1.0})
    return pd.DataFrame(out)


TABLE = _table([("A1", 0, "Small left effusion .", 100.0, 500.0),
                ("A1", 1, "The trachea is midline .", 300.0, 100.0),
                ("A1", 2, "Left effusion again .", 120.0, 520.0),
                ("A2", 0, "There is a left pleural effusion .", 90.0, 480.0),
                ("A2", 1, "Right upper lobe nodule .", None, None)])
TRUTH = {"readings": {
    "A1": {"dicom_id": "img", "reader": "R1", "sentences": [
        {"text": "Small left effusion .", "finding": 0}, {"text": "The trachea is midline .", "finding": None},
        {"text": "Left effusion again .", "finding": 0}]},
    "A2": {"dicom_id": "img", "reader": "R2", "sentences": [
        {"text": "There is a left pleural effusion .", "finding": 0},
        {"text": "Right upper lobe nodule .", "finding": 1}]}},
    "images": {"img": {"findings": [{"chexbert_label": "Pleural Effusion"}, {"chexbert_label": "Lung Lesion"}]}}}


def test_sentence_centroids_take_the_holistic_frame():
    c = sentence_centroids(TABLE)
    assert len(c) == 5 and list(c.loc[0, ["cx", "cy"]]) == [100.0, 500.0]
    assert np.isnan(c.loc[4, "cx"])                              # no box: no centroid
    with pytest.raises(ValueError, match="two holistic frames for reading A1 sentence 0"):
        sentence_centroids(pd.concat([TABLE, TABLE.iloc[:1]]))


def test_targets_by_planted_finding():
    t = targets_by_planted_finding(sentence_centroids(TABLE), TRUTH, ["A1", "A2"])
    eff = t[t["target"] == "img#0"].set_index("reader")
    # R1 dictated the effusion twice: the mean of its two sentences' centroids
    assert list(eff.loc["R1", ["cx", "cy", "n_sentences"]]) == [110.0, 510.0, 2]
    assert list(eff.loc["R2", ["cx", "cy", "n_sentences"]]) == [90.0, 480.0, 1]
    assert set(t["label"]) == {"Pleural Effusion", "Lung Lesion"}
    nodule = t[t["target"] == "img#1"].iloc[0]
    assert nodule["reader"] == "R2" and np.isnan(nodule["cx"]) and nodule["n_sentences"] == 0
    bad = {**TRUTH, "readings": {**TRUTH["readings"], "A2": {**TRUTH["readings"]["A2"], "sentences": [
        {"text": "No pneumothorax .", "finding": 0}]}}}
    with pytest.raises(ValueError, match="A2 sentence 0: key frames say 'There is a left pleural effusion .'"):
        targets_by_planted_finding(sentence_centroids(TABLE), bad, ["A2"])


def test_targets_by_label():
    c = sentence_centroids(TABLE)
    labels = pd.DataFrame(np.nan, index=c.index, columns=list(CHEXBERT_LABELS))
    labels.loc[[0, 2, 3], "Pleural Effusion"] = 1.0
    labels.loc[1, "Pleural Effusion"] = 0.0                     # a negative sentence is not a target
    meta = pd.DataFrame({"dicom_id": ["img", "img"]}, index=["A1", "A2"])
    t = targets_by_label(c, meta, labels, {"A1": "R1", "A2": "R2"})
    assert list(t["target"]) == ["img#Pleural Effusion"] * 2
    assert list(t.set_index("reader").loc["R1", ["cx", "cy"]]) == [110.0, 510.0]
    with pytest.raises(ValueError, match="4 label rows for 5 sentences"):
        targets_by_label(c, meta, labels.iloc[:4], {})
