"""NLG scores (issue 11): pycocoevalcap is the reference; resampling from sufficient statistics
equals direct recomputation."""
from __future__ import annotations

import numpy as np
import pytest

from gazex_lib.eval.metrics.nlg import (meteor_from_stats, nlg_scores, nlg_statistics,
                                        ptb_tokenize, rescore)

REFS = ["There is a small left pleural effusion.", "The heart size is normal. No pneumothorax.",
        "Mild pulmonary edema, with bibasilar atelectasis.", "No acute cardiopulmonary process.",
        "Enlarged cardiac silhouette; lungs are clear.", "Right lower lobe consolidation."]
HYPS = ["Small left effusion.", "Heart size normal, no pneumothorax.",
        "Mild edema and atelectasis at both bases.", "No acute cardiopulmonary abnormality.",
        "The heart is enlarged. The lungs are clear.", "Consolidation in the right lung base."]


@pytest.fixture(scope="module")
def reference_scores():
    """pycocoevalcap's scorers called directly, on its own tokenizer's output."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": r}] for i, r in enumerate(REFS)})
    res = tok.tokenize({i: [{"caption": h}] for i, h in enumerate(HYPS)})
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    meteor, meteor_each = Meteor().compute_score(gts, res)
    return {"bleu": bleu, "meteor": meteor, "meteor_each": meteor_each,
            "rouge_l": Rouge().compute_score(gts, res)[0],
            "cider": Cider().compute_score(gts, res)[0], "tokens": [res[i][0] for i in range(6)]}


def test_tokenizer_equals_pycocoevalcaps(reference_scores):
    assert ptb_tokenize(HYPS) == reference_scores["tokens"]


def test_nlg_scores_equal_pycocoevalcap(reference_scores):
    got = nlg_scores(REFS, HYPS)
    ref = reference_scores
    for k in range(4):
        assert got[f"bleu_{k + 1}"] == pytest.approx(ref["bleu"][k], abs=1e-12)
    assert got["meteor"] == pytest.approx(ref["meteor"], abs=1e-9)
    assert got["rouge_l"] == pytest.approx(ref["rouge_l"], abs=1e-12)
    assert got["cider"] == pytest.approx(ref["cider"], abs=1e-12)


def test_meteor_formula_equals_the_jar_per_segment(reference_scores):
    stats = nlg_statistics(REFS, HYPS)["meteor"]
    for row, want in zip(stats, reference_scores["meteor_each"]):
        assert meteor_from_stats(row) == pytest.approx(want, abs=1e-9)


def test_rescoring_a_resample_equals_direct_recomputation():
    stats = nlg_statistics(REFS, HYPS)
    rng = np.random.default_rng(0)
    for _ in range(3):
        rows = rng.integers(0, len(REFS), len(REFS))
        got = rescore(stats, rows)
        direct = nlg_scores([REFS[i] for i in rows], [HYPS[i] for i in rows])
        for k in ("bleu_1", "bleu_2", "bleu_3", "bleu_4", "meteor", "rouge_l"):
            assert got[k] == pytest.approx(direct[k], abs=1e-9), k
        # CIDEr-D keeps the document frequencies of the whole set (by design): the mean of
        # the whole set's per-report scores over the resample
        assert got["cider"] == pytest.approx(stats["cider"][rows].mean())


# --- published examples -------------------------------------------------------------------------
def test_rouge_l_lin_2004_examples():
    """Lin (2004), section 3.1: against "police killed the gunman", S2 "police kill the gunman"
    has LCS 3 of 4 words (ROUGE-L 0.75); S3 "the gunman kill police" and S4 "the gunman police
    killed" have LCS 2 (0.5). Precision equals recall here, so beta (1.2) does not matter."""
    ref = "police killed the gunman"
    assert nlg_scores([ref], ["police kill the gunman"])["rouge_l"] == pytest.approx(0.75, abs=1e-12)
    assert nlg_scores([ref], ["the gunman kill police"])["rouge_l"] == pytest.approx(0.5, abs=1e-12)
    assert nlg_scores([ref], ["the gunman police killed"])["rouge_l"] == pytest.approx(0.5, abs=1e-12)


PAPINENI_REFS = [
    "It is a guide to action that ensures that the military will forever heed Party commands.",
    "It is the guiding principle which guarantees the military forces always being under the "
    "command of the Party.",
    "It is the practical guide for the army always to heed the directions of the party."]
PAPINENI_C1 = "It is a guide to action which ensures that the military always obeys the commands of the party."
PAPINENI_C2 = "It is to insure the troops forever hearing the activity guidebook that party direct."


def test_bleu_papineni_2002_modified_precisions():
    """Papineni et al. (2002), section 2.1: modified unigram precision 17/18 (candidate 1) and
    8/14 (candidate 2), modified bigram precision 10/17 and 1/13, and 2/7 for "the the the the
    the the the" against "The cat is on the mat." / "There is a cat on the mat."."""
    stats = nlg_statistics([PAPINENI_REFS, PAPINENI_REFS, ["The cat is on the mat.", "There is a cat on the mat."]],
                           [PAPINENI_C1, PAPINENI_C2, "the the the the the the the"])["bleu"]
    precision = stats["correct"] / stats["guess"]
    assert precision[0, :2] == pytest.approx([17 / 18, 10 / 17])
    assert precision[1, :2] == pytest.approx([8 / 14, 1 / 13])
    assert precision[2, 0] == pytest.approx(2 / 7)
    # candidate 1 has 18 words; the references have 16, 18 and 16: the closest length is 18
    assert stats["testlen"][0] == 18 and stats["reflen"][0] == 18
    # BLEU-1 of "the the ..." alone: 2/7, no brevity penalty (7 words against the closest, 7)
    assert nlg_scores([["The cat is on the mat.", "There is a cat on the mat."]],
                      ["the the the the the the the"])["bleu_1"] == pytest.approx(2 / 7, abs=1e-8)


def test_several_references_equal_pycocoevalcap():
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    refs = [PAPINENI_REFS, PAPINENI_REFS, [REFS[0], REFS[1]], [REFS[2]]]
    hyps = [PAPINENI_C1, PAPINENI_C2, HYPS[0], HYPS[2]]
    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": r} for r in rs] for i, rs in enumerate(refs)})
    res = tok.tokenize({i: [{"caption": h}] for i, h in enumerate(hyps)})
    got = nlg_scores(refs, hyps)
    for k, v in enumerate(Bleu(4).compute_score(gts, res, verbose=0)[0]):
        assert got[f"bleu_{k + 1}"] == pytest.approx(v, abs=1e-12)
    assert got["meteor"] == pytest.approx(Meteor().compute_score(gts, res)[0], abs=1e-9)
    assert got["rouge_l"] == pytest.approx(Rouge().compute_score(gts, res)[0], abs=1e-12)
    assert got["cider"] == pytest.approx(Cider().compute_score(gts, res)[0], abs=1e-12)
    with pytest.raises(ValueError, match="reference 1 must be a string or a non-empty list"):
        nlg_scores(["a", []], ["a", "b"])
