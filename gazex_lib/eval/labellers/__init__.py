"""Report labellers: texts -> the 14 CheXbert labels (1 / 0 / -1 / NaN, CheXbert's order).

One interface (:class:`~.base.Labeller`: ``label(texts) -> DataFrame``, cached per text), two
implementations:

* :class:`~.chexbert.CheXbertLabeller`, when ``labeller.chexbert_path`` points to the public
  ``chexbert.pth`` (and ``labeller.tokenizer_path`` to a local ``bert-base-uncased`` folder);
* :class:`~.rules.RuleLabeller`, the rule-based fallback otherwise (negspacy's NegEx for
  negation and uncertainty). **Its numbers are not comparable to CheXbert-based numbers.**

:func:`get_labeller` picks one from the ``labeller`` section of ``configs/<profile>.yaml``;
:func:`~.agreement.labeller_agreement` measures the fallback against CheXbert where both exist.
"""
from __future__ import annotations

from gazex_lib.eval.labellers.agreement import AGREEMENT_COLUMNS, labeller_agreement
from gazex_lib.eval.labellers.base import Labeller, text_key
from gazex_lib.eval.labellers.chexbert import CheXbertLabeller, CheXbertLoadError, load_chexbert
from gazex_lib.eval.labellers.rules import RuleLabeller

__all__ = ["Labeller", "CheXbertLabeller", "CheXbertLoadError", "RuleLabeller", "get_labeller",
           "labeller_agreement", "AGREEMENT_COLUMNS", "load_chexbert", "text_key"]


def get_labeller(section, *, chexbert_path=None, tokenizer_path=None, cache_dir=None,
                 progress: bool = True) -> Labeller:
    """CheXbert when a checkpoint is given, else the rule-based fallback.

    :param section: the run's ``config.labeller`` (its ``chexbert_path``, ``tokenizer_path``,
        ``batch_size``, ``device``); keyword arguments override it.
    :param cache_dir: the on-disk label cache folder (None: memory only).
    A checkpoint without a tokenizer folder raises ``ValueError``: CheXbert's numbers depend on
    its own tokenizer, so the fallback is never substituted silently.
    """
    ckpt = chexbert_path if chexbert_path is not None else section.chexbert_path
    tok = tokenizer_path if tokenizer_path is not None else section.tokenizer_path
    if ckpt is None:
        return RuleLabeller(cache_dir=cache_dir, progress=progress)
    if tok is None:
        raise ValueError(f"CheXbert checkpoint {ckpt} given without labeller.tokenizer_path "
                         "(a local bert-base-uncased folder)")
    return CheXbertLabeller(ckpt, tok, batch_size=section.batch_size, device=section.device,
                            cache_dir=cache_dir, progress=progress)
