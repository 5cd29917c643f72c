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
