"""Natural-language scores of generated reports, as the report-generation literature computes
them with pycocoevalcap: corpus BLEU-1..4, METEOR 1.5, ROUGE-L (beta 1.2) and CIDEr-D.

**Tokenisation.** Both sides go through pycocoevalcap's Stanford PTB tokenizer (Java, lower
case, one line per text, punctuation tokens ``'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - --
... ;`` removed), as ``pycocoevalcap.eval`` does. Our wrapper (:func:`ptb_tokenize`) writes its
temporary file to the system's temporary folder, not into the package folder as
pycocoevalcap's does, so a read-only installation works.

**References.** One per hypothesis, as a string (the report-generation datasets have one); a
list of strings gives several, as pycocoevalcap accepts (BLEU clips each n-gram at its largest
count in any reference; METEOR and ROUGE-L keep the best reference; CIDEr-D averages them).

**The JVM.** METEOR's JVM starts once per process (:func:`meteor_process`) and is reused.

**Resampling.** Corpus BLEU, METEOR and CIDEr-D are not means of per-report scores, so
:func:`nlg_statistics` returns each report's *sufficient statistics* once:

* BLEU: the clipped n-gram matches and guesses (n = 1..4), the hypothesis length and the
  reference length (with several references, the one closest to the hypothesis's length, as
  pycocoevalcap's ``Bleu`` chooses with ``option="closest"``);
* METEOR: the 23 segment statistics the METEOR 1.5 jar reports (lengths, function words,
  matches per module, chunks), aggregated by :func:`meteor_from_stats` with the jar's own
  formula and its English defaults (alpha 0.85, beta 0.20, gamma 0.60, delta 0.75; module
  weights 1.0 / 0.6 / 0.8 / 0.6 for exact / stem / synonym / paraphrase);
* ROUGE-L: the per-report F-measure (the corpus score is its mean);
* CIDEr-D: the per-report score with the document frequencies fixed on the whole set.

:func:`rescore` scores any resample of reports from them without Java; on the whole set it
equals :func:`nlg_scores`.
"""
from __future__ import annotations

import math
import os
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

__all__ = ["nlg_scores", "nlg_statistics", "rescore", "ptb_tokenize", "meteor_from_stats",
           "meteor_process", "NLG_KEYS"]

NLG_KEYS = ("bleu_1", "bleu_2", "bleu_3", "bleu_4", "meteor", "rouge_l", "cider")
PUNCTUATIONS = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",",
                ":", "-", "--", "...", ";"}
#: METEOR 1.5's English defaults (the jar's ``-l en``): alpha, beta, gamma, delta, and the
#: weights of the exact, stem, synonym and paraphrase modules.
METEOR_PARAMS = (0.85, 0.20, 0.60, 0.75)
METEOR_WEIGHTS = (1.0, 0.6, 0.8, 0.6)


def _package_dir(sub: str) -> Path:
    import pycocoevalcap.bleu as _b      # a namespace package: locate it through a module

    return Path(_b.__path__[0]).parent / sub


def ptb_tokenize(texts) -> list[str]:
    """pycocoevalcap's PTB tokenisation of each text (module docstring), one string each."""
    texts = [str(t).replace("\n", " ") for t in texts]
    if not texts:
        return []
    jar_dir = _package_dir("tokenizer")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write("\n".join(texts))
        name = fh.name
    try:
        out = subprocess.run(["java", "-cp", "stanford-corenlp-3.4.1.jar",
                              "edu.stanford.nlp.process.PTBTokenizer", "-preserveLines",
                              "-lowerCase", name], cwd=jar_dir, capture_output=True, check=True)
    finally:
        os.remove(name)
    lines = out.stdout.decode().split("\n")
    return [" ".join(w for w in line.rstrip().split(" ") if w not in PUNCTUATIONS)
            for line in lines[:len(texts)]]


_METEOR: dict = {}


def meteor_process():
    """The process's METEOR 1.5 JVM (started on first use, reused after)."""
    proc = _METEOR.get("proc")
    if proc is None or proc.poll() is not None:
        proc = subprocess.Popen(["java", "-jar", "-Xmx2G", "meteor-1.5.jar", "-", "-", "-stdio",
                                 "-l", "en", "-norm"], cwd=_package_dir("meteor"),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        _METEOR.update(proc=proc, lock=threading.Lock())
    return proc


def _meteor_stats(hyps, refs) -> np.ndarray:
    proc = meteor_process()
    rows = []
    with _METEOR["lock"]:
        for h, r in zip(hyps, refs):
            h = h.replace("|||", "").replace("  ", " ")
            proc.stdin.write(" ||| ".join(("SCORE", *r, h)).encode() + b"\n")
            proc.stdin.flush()
            rows.append([float(v) for v in proc.stdout.readline().decode().split()])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 23)


def meteor_from_stats(stats) -> float:
    """METEOR 1.5 of summed segment statistics (``(n, 23)``; module docstring)."""
    s = np.asarray(stats, dtype=np.float64).reshape(-1, 23).sum(axis=0)
    alpha, beta, gamma, delta = METEOR_PARAMS
    tst_len, ref_len, tst_fun, ref_fun = s[:4]
    stages = s[4:20].reshape(4, 4)        # per module: test content, ref content, test/ref function
    chunks, tst_words, ref_words = s[20:23]
    w = np.asarray(METEOR_WEIGHTS)
    tst_content, ref_content = tst_len - tst_fun, ref_len - ref_fun
    p_den = delta * tst_content + (1 - delta) * tst_fun
    r_den = delta * ref_content + (1 - delta) * ref_fun
    p = (w * (delta * stages[:, 0] + (1 - delta) * stages[:, 2])).sum() / p_den if p_den else 0.0
    r = (w * (delta * stages[:, 1] + (1 - delta) * stages[:, 3])).sum() / r_den if r_den else 0.0
    if p == 0 or r == 0:
        return 0.0
    fmean = p * r / (alpha * p + (1 - alpha) * r)
    matches = (tst_words + ref_words) / 2
    frag = chunks / matches if matches else 0.0
    return float(fmean * (1 - gamma * frag ** beta))


def _bleu_stats(hyps, refs) -> dict:
    from pycocoevalcap.bleu.bleu_scorer import BleuScorer

    scorer = BleuScorer(n=4)
    for h, r in zip(hyps, refs):
        scorer += (h, r)
    comps = scorer.ctest
    # the reference length pycocoevalcap's Bleu uses: the closest to the hypothesis's length
    closest = [min((abs(length - c["testlen"]), length) for length in c["reflen"])[1] for c in comps]
    return {"testlen": np.array([c["testlen"] for c in comps], dtype=np.float64),
            "reflen": np.array(closest, dtype=np.float64),
            "guess": np.array([c["guess"] for c in comps], dtype=np.float64),
            "correct": np.array([c["correct"] for c in comps], dtype=np.float64)}


def _bleu_from_stats(b: dict, idx) -> list[float]:
    """pycocoevalcap's corpus BLEU-1..4 (its smoothing constants) from summed statistics."""
    tiny, small = 1e-15, 1e-9
    guess, correct = b["guess"][idx].sum(0), b["correct"][idx].sum(0)
    testlen, reflen = b["testlen"][idx].sum(), b["reflen"][idx].sum()
    out, bleu = [], 1.0
    for k in range(4):
        bleu *= (correct[k] + tiny) / (guess[k] + small)
        out.append(bleu ** (1.0 / (k + 1)))
    ratio = (testlen + tiny) / (reflen + small)
    if ratio < 1:
        out = [v * math.exp(1 - 1 / ratio) for v in out]
    return out


def _reference_lists(references) -> list[list[str]]:
    out = []
    for i, r in enumerate(references):
        refs = [r] if isinstance(r, str) else list(r)
        if not refs or not all(isinstance(x, str) for x in refs):
            raise ValueError(f"reference {i} must be a string or a non-empty list of strings, got {r!r}")
        out.append(refs)
    return out


def nlg_statistics(references, hypotheses) -> dict:
    """Per-report sufficient statistics of every score (module docstring), after tokenising.
    Each reference is a string, or a list of strings for several references."""
    refs, hyps = _reference_lists(references), list(hypotheses)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references and {len(hyps)} hypotheses: one reference "
                         "(or one list of references) per hypothesis")
    if not refs:
        raise ValueError("no report to score")
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    flat = [x for r in refs for x in r]
    tok = ptb_tokenize(flat + hyps)
    h_tok, r_tok, k = tok[len(flat):], [], 0
    for r in refs:
        r_tok.append(tok[k:k + len(r)])
        k += len(r)
    gts = {i: r for i, r in enumerate(r_tok)}
    res = {i: [h] for i, h in enumerate(h_tok)}
    _, rouge = Rouge().compute_score(gts, res)
    _, cider = Cider().compute_score(gts, res)
    return {"n": len(refs), "bleu": _bleu_stats(h_tok, r_tok),
            "meteor": _meteor_stats(h_tok, r_tok), "rouge_l": np.asarray(rouge, dtype=np.float64),
            "cider": np.asarray(cider, dtype=np.float64)}


def rescore(stats: dict, rows=None) -> dict:
    """Every score of the reports ``rows`` (indices, repeats allowed; ``None``: all) from
    :func:`nlg_statistics`, without Java."""
    idx = np.arange(stats["n"]) if rows is None else np.asarray(rows)
    bleu = _bleu_from_stats(stats["bleu"], idx)
    return {**{f"bleu_{k + 1}": float(v) for k, v in enumerate(bleu)},
            "meteor": meteor_from_stats(stats["meteor"][idx]),
            "rouge_l": float(stats["rouge_l"][idx].mean()),
            "cider": float(stats["cider"][idx].mean())}


def nlg_scores(references, hypotheses) -> dict:
    """``{"bleu_1", ..., "bleu_4", "meteor", "rouge_l", "cider"}`` of the hypotheses, one
    reference each (a string; a list of strings gives several; module docstring)."""
    return rescore(nlg_statistics(references, hypotheses))
