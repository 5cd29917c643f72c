"""Finding detection against a consensus (issue 13): leave-one-out against the official
convention on a hand-made five-reader table, and an outside candidate."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazex_lib.analysis.consensus import candidate_vs_consensus, detection_vs_consensus

REPORTED = {"A": {"R1": {"effusion", "edema"}, "R2": {"effusion"}, "R3": {"effusion", "pneumothorax"},
                  "R4": set(), "R5": {"edema"}},
            "B": {"R1": {"nodule"}, "R2": set(), "R3": {"nodule"}, "R4": {"nodule"}, "R5": set()}}
READERS = {img: list(by) for img, by in REPORTED.items()}
POSITIVES = pd.DataFrame([(img, r, lab) for img, by in REPORTED.items() for r, labs in by.items()
                          for lab in sorted(labs)], columns=["image", "reader", "label"])


def test_leave_one_out_by_hand():
    out = detection_vs_consensus(POSITIVES, READERS, min_agree=2, leave_one_out=True)
    # R1 on A: the others vote effusion 2 (R2, R3), edema 1, pneumothorax 1 -> {effusion}:
    #   R1's {effusion, edema} is 1 tp, 1 fp; on B the others vote nodule 2 -> 1 tp.
    # R2 on A: others vote effusion 2, edema 2 (R1, R5) -> 1 tp, 1 fn; on B nodule 3 -> 1 fn.
    # R3 on A: others effusion 2, edema 2 -> tp 1, fn 1, fp 1 (pneumothorax); on B tp 1.
    # R4 on A: effusion 3, edema 2 -> fn 2; on B nodule 2 -> tp 1.
    # R5 on A: effusion 3, edema 1 -> fn 1 (effusion), fp 1 (edema); on B nodule 3 -> fn 1.
    expected = {"R1": (2, 0, 1), "R2": (1, 2, 0), "R3": (2, 1, 1), "R4": (1, 2, 0), "R5": (0, 2, 1),
                "all": (6, 7, 3)}
    for reader, (tp, fn, fp) in expected.items():
        assert tuple(out.loc[reader, ["tp", "fn", "fp"]]) == (tp, fn, fp), reader
    assert out.loc["R2", "sensitivity"] == pytest.approx(1 / 3) and out.loc["R5", "precision"] == 0.0
    assert (out["n_images"].drop("all") == 2).all() and out.loc["all", "n_images"] == 10


def test_official_convention_counts_a_reader_against_themself():
    out = detection_vs_consensus(POSITIVES, READERS, min_agree=2, leave_one_out=False)
    # consensus of all five: A {effusion, edema}, B {nodule}
    expected = {"R1": (3, 0, 0), "R2": (1, 2, 0), "R3": (2, 1, 1), "R4": (1, 2, 0), "R5": (1, 2, 0),
                "all": (8, 7, 1)}
    for reader, (tp, fn, fp) in expected.items():
        assert tuple(out.loc[reader, ["tp", "fn", "fp"]]) == (tp, fn, fp), reader
    loo = detection_vs_consensus(POSITIVES, READERS, min_agree=2, leave_one_out=True)
    assert out.loc["all", "precision"] > loo.loc["all", "precision"]     # self-agreement inflates it


def test_candidate_and_bad_input():
    got = candidate_vs_consensus({"A": {"effusion", "fracture"}, "B": set()}, POSITIVES, READERS)
    assert (got["tp"], got["fn"], got["fp"], got["n_images"]) == (1, 2, 1, 2)
    assert np.isnan(candidate_vs_consensus({}, POSITIVES, READERS)["sensitivity"])
    with pytest.raises(ValueError, match="image 'C', which no reader read"):
        candidate_vs_consensus({"C": set()}, POSITIVES, READERS)
    stray = pd.concat([POSITIVES, pd.DataFrame([("A", "R9", "edema")], columns=POSITIVES.columns)])
    with pytest.raises(ValueError, match="reader 'R9' reported on image 'A' but is not among its readers"):
        detection_vs_consensus(stray, READERS)
