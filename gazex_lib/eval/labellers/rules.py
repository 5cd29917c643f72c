"""The rule-based fallback labeller: mention phrases, then negspacy's NegEx for negation and
uncertainty. Used when no CheXbert checkpoint is given.

**Its numbers are not comparable to CheXbert-based numbers** (``comparable_to_chexbert`` is
False, and every frame it returns says so in ``attrs``): it is a different instrument, and the
literature's clinical-efficacy figures are CheXbert's. Use it to compare models *with each
other* on the same footing, never against a published CheXbert F1.

**Pipeline** (spaCy's blank English model: nothing to download):

1. ``sentencizer``: sentence boundaries (NegEx scopes end at a sentence's end).
2. ``entity_ruler``: the mention phrases of :mod:`.rule_tables` (case-insensitive; the longest
   match wins) become entities labelled with their CheXbert label; "absent" phrases carry the id
   ``absent``; ignored phrases ("pericardial effusion") are matched and then dropped.
3. ``negex`` (negspacy): negspacy's ``en_clinical`` termset with the changes in
   :data:`~.rule_tables.NEGATION_CHANGES` sets ``ent._.negex``.
4. a second ``negex`` with :data:`~.rule_tables.UNCERTAINTY` as its termset sets
   ``ent._.uncertain``: NegEx's scope rules (a preceding cue reaches forward to the end of the
   sentence or a termination phrase; a following cue reaches back) applied to uncertainty cues.

**A mention's value:** ``absent`` phrase -> 0; uncertain -> -1 (it wins over a negation whose
scope also covers the mention: in "no pneumothorax, possibly atelectasis" the nearer cue
decides); negated -> 0; otherwise 1.

**A label's value** (CheXpert's aggregation): 1 if any mention is positive, else -1 if any is
uncertain, else 0 if any is negative, else blank. ``No Finding`` is 1 when no label other than
``Support Devices`` is 1 or -1, else blank (CheXbert's ``No Finding`` head also answers only
blank or positive).

Validated on crafted hard sentences in ``tests/test_labellers.py`` (negation scope, "no change
in the moderate effusion", "cannot exclude", lists, "resolved pneumothorax", "heart size is
normal"); where it fails, the test says so.
"""
from __future__ import annotations

import hashlib
import json
from importlib.metadata import version

import numpy as np

from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.eval.labellers import rule_tables as T
from gazex_lib.eval.labellers.base import Labeller

__all__ = ["RuleLabeller", "negation_termset", "mention_values"]

_LABEL_INDEX = {lab: i for i, lab in enumerate(CHEXBERT_LABELS)}
_NO_FINDING = _LABEL_INDEX["No Finding"]
_NOT_FINDINGS = {_NO_FINDING, _LABEL_INDEX["Support Devices"]}


def negation_termset() -> dict[str, list[str]]:
    """negspacy's ``en_clinical`` termset with :data:`~.rule_tables.NEGATION_CHANGES` applied."""
    from negspacy.termsets import termset

    base = termset("en_clinical").get_patterns()
    out = {}
    for role, phrases in base.items():
        added, removed = T.NEGATION_CHANGES.get(role, ((), ()))
        kept = [p for p in phrases if p not in removed]
        out[role] = kept + [p for p in added if p not in kept]
    return out


def _uncertainty_termset() -> dict[str, list[str]]:
    return {role: list(phrases) for role, phrases in T.UNCERTAINTY.items()}


def _patterns() -> list[dict]:
    pats = []
    for label, phrases in T.MENTIONS.items():
        pats += [{"label": label, "pattern": p, "id": "mention"} for p in phrases]
    for label, phrases in T.ABSENT.items():
        pats += [{"label": label, "pattern": p, "id": "absent"} for p in phrases]
    pats += [{"label": T.IGNORE_LABEL, "pattern": p, "id": "ignored"} for p in T.IGNORED]
    return pats


def mention_values(doc) -> list[tuple[str, str, float]]:
    """``(text, label, value)`` for every mention in a processed ``doc`` (module docstring)."""
    out = []
    for ent in doc.ents:
        if ent.label_ == T.IGNORE_LABEL:
            continue
        if ent.ent_id_ == "absent":
            value = 0.0
        elif ent._.uncertain:
            value = -1.0
        elif ent._.negex:
            value = 0.0
        else:
            value = 1.0
        out.append((ent.text, ent.label_, value))
    return out


def _aggregate(mentions: list[tuple[str, str, float]]) -> np.ndarray:
    row = np.full(len(CHEXBERT_LABELS), np.nan)
    seen: dict[int, set[float]] = {}
    for _, label, value in mentions:
        seen.setdefault(_LABEL_INDEX[label], set()).add(value)
    for j, values in seen.items():
        row[j] = 1.0 if 1.0 in values else (-1.0 if -1.0 in values else 0.0)
    findings = [row[j] for j in range(len(row)) if j not in _NOT_FINDINGS]
    if not any(v in (1.0, -1.0) for v in findings):
        row[_NO_FINDING] = 1.0
    return row


class RuleLabeller(Labeller):
    """The rule-based fallback (module docstring). Not comparable to CheXbert."""

    name = "rules"
    comparable_to_chexbert = False

    def __init__(self, *, cache_dir=None, progress: bool = True, batch_size: int = 256):
        super().__init__(cache_dir=cache_dir, progress=progress)
        self.batch_size = int(batch_size)
        self._nlp = None
        self._fingerprint: str | None = None

    @property
    def nlp(self):
        """The spaCy pipeline (built on first use)."""
        if self._nlp is None:
            import spacy
            from negspacy.negation import Negex  # noqa: F401  (registers the "negex" factory)

            nlp = spacy.blank("en")
            nlp.add_pipe("sentencizer")
            ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
            ruler.add_patterns(_patterns())
            nlp.add_pipe("negex", name="negation",
                         config={"neg_termset": negation_termset(), "extension_name": "negex"})
            nlp.add_pipe("negex", name="uncertainty",
                         config={"neg_termset": _uncertainty_termset(), "extension_name": "uncertain"})
            self._nlp = nlp
        return self._nlp

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            tables = {"mentions": T.MENTIONS, "absent": T.ABSENT, "ignored": T.IGNORED,
                      "negation": negation_termset(), "uncertainty": T.UNCERTAINTY,
                      "versions": [version("spacy"), version("negspacy")], "rules": 1}
            blob = json.dumps(tables, sort_keys=True).encode()
            self._fingerprint = hashlib.sha256(blob).hexdigest()[:16]
        return self._fingerprint

    def mentions(self, text: str) -> list[tuple[str, str, float]]:
        """Every mention of ``text`` with its label and value: what decided its row."""
        return mention_values(self.nlp(text))

    def _label_texts(self, texts: list[str]) -> np.ndarray:
        from tqdm import tqdm

        docs = self.nlp.pipe(texts, batch_size=self.batch_size)
        rows = [_aggregate(mention_values(doc)) for doc in
                tqdm(docs, total=len(texts), desc="rule labeller", unit="text",
                     disable=not self.progress or len(texts) < 500)]
        return np.stack(rows) if rows else np.empty((0, len(CHEXBERT_LABELS)))
