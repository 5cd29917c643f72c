"""Downstream metrics (issue 11, first part): clinical F1 under every published convention,
box IoU and grounding accuracy, VQA accuracy."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.eval.metrics import (box_iou, clinical_counts, clinical_f1, clinical_f1_table,
                                    f1_from_counts, grounding_scores, normalize_answer,
                                    vqa_accuracy)


def _labels(rows):
    """A CheXbert frame from ``[{label: value}, ...]`` (every other label blank)."""
    df = pd.DataFrame(np.nan, index=range(len(rows)), columns=list(CHEXBERT_LABELS))
    for i, r in enumerate(rows):
        for k, v in r.items():
            df.loc[i, k] = v
    return df


# The crafted six-report case. Labels not named are blank (negative in every convention).
#   R1: ref Cardiomegaly 1, Edema 1       hyp Cardiomegaly 1, Edema 0
#   R2: ref Atelectasis -1                hyp Atelectasis 1
#   R3: ref Pleural Effusion 1            hyp Pleural Effusion -1
#   R4: ref Pneumothorax 1                hyp Pneumothorax 1          (not one of the five)
#   R5: ref No Finding 1                  hyp No Finding 1            (not one of the five)
#   R6: ref Consolidation 0               hyp Consolidation 1
REF = _labels([{"Cardiomegaly": 1, "Edema": 1}, {"Atelectasis": -1}, {"Pleural Effusion": 1},
               {"Pneumothorax": 1}, {"No Finding": 1}, {"Consolidation": 0}])
HYP = _labels([{"Cardiomegaly": 1, "Edema": 0}, {"Atelectasis": 1}, {"Pleural Effusion": -1},
               {"Pneumothorax": 1}, {"No Finding": 1}, {"Consolidation": 1}])

# By hand:
# uncertain negative, 14 labels: TP = Card(R1) + Ptx(R4) + NoF(R5) = 3; FP = Atel(R2) + Cons(R6)
#   = 2; FN = Edema(R1) + PE(R3) = 2 -> micro P = R = F1 = 3/5.
#   macro: F1 1 for Card, Ptx, NoF; 0 for Edema, Atel, PE, Cons and the 7 labels never positive
#   (zero_division 0) -> 3/14.
#   example: R1 2TP/(2TP+FN) = 2/3, R2 0, R3 0, R4 1, R5 1, R6 0 -> (8/3)/6 = 4/9.
# uncertain positive, 14: R2 and R3 become TPs -> TP 5, FP 1, FN 1 -> micro 5/6.
# five labels, uncertain negative: TP Card; FP Atel, Cons; FN Edema, PE -> micro 1/3;
#   macro: Card 1, the other four 0 -> 1/5.
# five labels, uncertain positive: TP Card, Atel, PE; FP Cons; FN Edema -> micro P = R = 3/4,
#   F1 = 2*3/(2*3+1+1) = 3/4; macro: Card 1, Atel 1, PE 1, Edema 0, Cons 0 -> 3/5.
HAND = {
    "llava_rad_micro_14": 3 / 5, "llava_rad_macro_14": 3 / 14, "llava_rad_micro_5": 1 / 3,
    "llava_rad_macro_5": 1 / 5, "f1chexbert_micro_14": 5 / 6, "f1chexbert_micro_5": 3 / 4,
    "f1chexbert_macro_5": 3 / 5, "promptmrg_example_14": 4 / 9, "r2gen_micro_14": 3 / 5,
    "r2gen_macro_14": 3 / 14,
}


def test_the_convention_table_matches_the_hand_computation():
    table = clinical_f1_table(REF, HYP)
    for name, f1 in HAND.items():
        assert table.loc[name, "f1"] == pytest.approx(f1), name
    assert set(table["source"]) == {"LLaVA-Rad", "f1chexbert / RadEval", "PromptMRG",
                                    "R2Gen (scikit-learn)"}
    micro = clinical_f1(REF, HYP)
    assert micro["precision"] == micro["recall"] == pytest.approx(3 / 5)
    assert micro["n_reports"] == 6


def test_counts_rescore_any_resample_as_a_direct_recomputation():
    rng = np.random.default_rng(0)
    for uncertain in ("negative", "positive"):
        for labels in (14, 5):
            counts = clinical_counts(REF, HYP, labels=labels, uncertain=uncertain)
            for average in ("micro", "macro", "example"):
                full = f1_from_counts(counts, average=average)
                direct = clinical_f1(REF, HYP, labels=labels, average=average, uncertain=uncertain)
                assert full["f1"] == pytest.approx(direct["f1"])
                for _ in range(5):
                    rows = rng.integers(0, len(REF), len(REF))
                    got = f1_from_counts(counts, rows, average=average)
                    want = clinical_f1(REF.iloc[rows], HYP.iloc[rows], labels=labels,
                                       average=average, uncertain=uncertain)
                    for k in ("f1", "precision", "recall"):
                        assert got[k] == pytest.approx(want[k]), (labels, average, uncertain, k)


def test_clinical_inputs_are_checked():
    bad = REF.copy()
    bad.loc[2, "Edema"] = 2
    with pytest.raises(ValueError, match="row 2, column 'Edema'"):
        clinical_f1(bad, HYP)
    with pytest.raises(ValueError, match="lacks CheXbert column"):
        clinical_f1(REF.drop(columns=["Fracture"]), HYP)
    with pytest.raises(ValueError, match="one reference per hypothesis"):
        clinical_f1(REF, HYP.iloc[:5])
    for kwargs in ({"labels": 13}, {"average": "weighted"}, {"uncertain": "ignore"}):
        with pytest.raises(ValueError):
            clinical_f1(REF, HYP, **kwargs)


# --- boxes -----------------------------------------------------------------------------------
def test_box_iou_published_values_and_torchvision():
    import torch
    from torchvision.ops import box_iou as tv_box_iou

    # torchvision's own test case (test/test_ops.py, TestBoxIou): 100 px, 50 px and a far box
    boxes = [[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300]]
    expected = [[1.0, 0.25, 0.0], [0.25, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert np.allclose(box_iou(boxes, boxes), expected)
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 100, (20, 2))
    a = np.hstack([xy, xy + rng.uniform(1, 50, (20, 2))])
    xy = rng.uniform(0, 100, (7, 2))
    b = np.hstack([xy, xy + rng.uniform(1, 50, (7, 2))])
    want = tv_box_iou(torch.tensor(a), torch.tensor(b)).numpy()
    assert np.allclose(box_iou(a, b), want, atol=1e-12)


def test_box_iou_edge_cases():
    assert box_iou([0, 0, 10, 10], [20, 20, 30, 30])[0, 0] == 0.0          # disjoint
    assert box_iou([0, 0, 10, 10], [2, 2, 7, 7])[0, 0] == pytest.approx(0.25)  # contained
    assert box_iou([0, 0, 10, 10], [10, 0, 20, 10])[0, 0] == 0.0           # touching edges
    assert box_iou([5, 5, 5, 5], [5, 5, 5, 5])[0, 0] == 0.0                # zero area: a miss
    assert box_iou([5, 5, 5, 5], [0, 0, 10, 10])[0, 0] == 0.0
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    with pytest.raises(ValueError, match="inverted"):
        box_iou([10, 0, 0, 10], [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        box_iou([0, 0, 1], [0, 0, 1, 1])


def test_grounding_scores():
    pred = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    true = [[0, 0, 10, 10], [0, 0, 10, 20], [0, 0, 10, 40]]      # IoU 1, 0.5, 0.25
    got = grounding_scores(pred, true)
    assert got == {"miou": pytest.approx(1.75 / 3), "acc@0.5": pytest.approx(2 / 3),
                   "acc@0.3": pytest.approx(2 / 3), "n": 3}
    with pytest.raises(ValueError, match="one per phrase"):
        grounding_scores(pred, true[:2])


# --- VQA -------------------------------------------------------------------------------------
def test_vqa_accuracy_closed_open_and_lists():
    refs = ["Yes", "no", "pleural effusion, atelectasis", "left", "PA", "mild", "cardiomegaly"]
    preds = ["yes.", "Yes", "atelectasis and pleural effusion", "the left", "ap", "Mild",
             "cardiomegaly, edema"]
    types = ["presence", "presence", "abnormality", "location", "view", "level", "abnormality"]
    got = vqa_accuracy(refs, preds, types)
    # hits: yes/yes.; no/Yes miss; the list matches as a set; "the left" -> "left"; PA/ap miss;
    # mild; a list with an extra item misses (no partial credit)
    assert got["overall"] == pytest.approx(4 / 7)
    assert got["closed"] == pytest.approx(1 / 2) and got["open"] == pytest.approx(3 / 5)
    assert got["by_type"] == {"abnormality": 0.5, "level": 1.0, "location": 1.0,
                              "presence": 0.5, "view": 0.0}
    assert got["n"]["closed"] == 2 and got["n"]["by_type"]["abnormality"] == 2
    assert normalize_answer("  The  Right-Lower lobe!! ") == "right-lower lobe"
    with pytest.raises(ValueError, match="one of each"):
        vqa_accuracy(refs, preds[:-1], types)
