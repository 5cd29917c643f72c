"""What the simulated radiologist says, and when each word is spoken.

A report is a list of :class:`Sentence` (one per reported finding, 1-3 normal statements
that never contradict the planted findings, sometimes an "Other" remark), ordered by the
ABCDE key of its anatomy plus the reader's ``order_jitter``. Words are timed on the audio
clock at about 2.5 words/s; ``.`` and ``,`` are separate tokens whose start and end are the
end of the preceding word. The transcription is the sentences' text joined by spaces, so
``transcription.replace('.', ' .').replace(',', ' ,') == ' '.join(tokens)`` (REFLACX's own
assertion) holds by construction.

A finding with a side or zone is said either *located* (:data:`_TEMPLATES`: "There is a small
nodule in the right upper lobe.") or, for the readings' share ``unlocated_fraction``,
*unlocated* (:data:`_UNLOCATED_TEMPLATES`, the same template without its location words:
"There is a small nodule."). Both come from the same draws, and an unlocated sentence is
spoken in the first word slots of its located twin (:func:`retime`), so the reader's gaze is
the same either way: only the words change.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import config as C
from .anatomy import KINDS

_LUNG_KINDS = {"consolidation", "groundglass", "nodule", "mass", "edema", "atelectasis"}

#: Normal statements: (text, gaze region, planted kinds that forbid it, ABCDE order key).
NORMAL_SENTENCES = (
    ("The trachea is midline.", "trachea", set(), 0.0),
    ("No pneumothorax.", "apices", {"pneumothorax"}, 1.0),
    ("There is no pneumothorax.", "apices", {"pneumothorax"}, 1.0),
    ("The lungs are clear.", "lungs", _LUNG_KINDS, 1.4),
    ("No focal consolidation.", "lungs", _LUNG_KINDS, 1.4),
    ("Lung volumes are normal, without focal opacity.", "lungs", _LUNG_KINDS, 1.4),
    ("There is no pulmonary edema.", "hila", {"edema"}, 1.5),
    ("The heart size is normal.", "heart", {"cardiomegaly"}, 2.0),
    ("The cardiomediastinal silhouette is within normal limits.", "heart", {"cardiomegaly"}, 2.0),
    ("The mediastinal contours are normal.", "mediastinum", set(), 2.2),
    ("No pleural effusion.", "bases", {"effusion"}, 3.0),
    ("No pleural effusion or pneumothorax.", "bases", {"effusion", "pneumothorax"}, 3.0),
    ("No acute osseous abnormality.", "bones", set(), 4.0),
)

#: Located templates per finding kind (or device): they state the finding's side and, where
#: its zone varies, the zone (``{side}``, ``{zone}``, ``{lobe}``); effusion's zone is always a
#: base, devices, cardiomegaly and the tubes have no zone. Placeholders: ``{side}``, ``{zone}``,
#: ``{sev}``, ``{lobe}``, ``{sevly}`` (capitalised: the value capitalised).
_TEMPLATES = {
    "effusion": ("There is a {sev} {side} pleural effusion.", "{Sev} {side} pleural effusion.",
                 "Blunting of the {side} costophrenic angle, consistent with a {sev} effusion."),
    "cardiomegaly": ("The heart is {sevly} enlarged.", "There is {sev} cardiomegaly.",
                     "Enlarged cardiac silhouette."),
    "pneumothorax": ("There is a {sev} {side} {zone} zone pneumothorax.",
                     "{Sev} {side} pneumothorax along the {zone} chest wall."),
    "edema": ("There is {sev} pulmonary edema in both {zone} lungs.",
              "Bilateral {zone} lung opacities, consistent with {sev} pulmonary edema.",
              "{Sev} bilateral interstitial edema in the {zone} zones."),
    "atelectasis": ("{Lobe} atelectasis.", "Plate like atelectasis in the {lobe}.",
                    "There is {side} {zone} zone atelectasis."),
    "consolidation": ("There is consolidation in the {lobe}.", "Focal consolidation in the {lobe}.",
                      "{Lobe} consolidation."),
    "groundglass": ("Hazy groundglass opacity in the {lobe}.", "There is a {sev} groundglass opacity in the {lobe}."),
    "nodule": ("There is a small nodule in the {lobe}.", "{Side} {zone} lung nodule."),
    "mass": ("There is a large mass in the {lobe}.", "{Lobe} mass, which is new."),
    "central line": ("A {side} internal jugular central line terminates in the svc.",
                     "{Side} ij catheter with tip in the distal svc."),
    "endotracheal tube": ("Endotracheal tube in standard position.",
                          "The endotracheal tube terminates above the carina."),
    "enteric tube": ("An enteric tube courses below the diaphragm.", "Nasogastric tube with tip in the stomach."),
}
#: The same sentences without their location words (index-matched with :data:`_TEMPLATES`;
#: never more words than the located one, so they fit its timing). Kinds with nothing to
#: locate (cardiomegaly, the endotracheal and enteric tubes) have none.
_UNLOCATED_TEMPLATES = {
    "effusion": ("There is a {sev} pleural effusion.", "{Sev} pleural effusion.",
                 "Findings consistent with a {sev} pleural effusion."),
    "pneumothorax": ("There is a {sev} pneumothorax.", "{Sev} pneumothorax."),
    "edema": ("There is {sev} pulmonary edema.", "Opacities consistent with {sev} pulmonary edema.",
              "{Sev} interstitial edema."),
    "atelectasis": ("Mild atelectasis.", "Plate like atelectasis.", "There is some atelectasis."),
    "consolidation": ("There is focal consolidation.", "Focal consolidation.", "Consolidation is present."),
    "groundglass": ("Hazy groundglass opacity.", "There is a {sev} groundglass opacity."),
    "nodule": ("There is a small nodule.", "Small lung nodule."),
    "mass": ("There is a large mass.", "Large mass, which is new."),
    "central line": ("A central line terminates in the svc.", "Catheter with tip in the distal svc."),
}
_OTHER = {"Scoliosis": ("Mild scoliosis of the thoracic spine.", "bones"),
          "Calcified granuloma": ("There is a calcified granuloma.", "lungs"),
          "Old rib fracture": ("Old healed rib fracture.", "bones")}
TRAILING = ("end of report", "thank you", "next case")


@dataclass
class Sentence:
    """One dictated sentence. ``tokens`` include the closing ``.`` (none for trailing words);
    ``finding`` is the image finding index it describes (``None`` for normal/other).
    ``located``: for a finding with a side or zone, whether the sentence states them
    (``None`` otherwise); ``timing_tokens``: the located sentence, whose timing the reader
    follows (``None``: ``tokens``)."""

    tokens: list[str]
    kind: str  # "finding" | "normal" | "other" | "trailing"
    finding: int | None
    region: str | None
    order: float
    located: bool | None = None
    timing_tokens: list[str] | None = None


def tokenize(text: str) -> list[str]:
    """REFLACX tokens of a transcription piece: punctuation split off, single spaces."""
    return text.replace(".", " .").replace(",", " ,").split(" ")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def has_location(f: dict) -> bool:
    """Whether finding ``f`` has words to locate it (a side or zone with an unlocated template)."""
    return (f.get("device") or f["kind"]) in _UNLOCATED_TEMPLATES


def _fill(template: str, f: dict) -> str:
    side, zone, sev = f.get("side") or "", f.get("zone") or "", f.get("severity") or "mild"
    lobe = f"{side} {zone} lobe" if zone in ("upper", "lower") else f"{side} mid lung"
    words = {"side": side, "zone": zone, "sev": sev, "lobe": lobe, "sevly": {"mild": "mildly"}.get(sev, "moderately")}
    words.update({_cap(k): _cap(v) for k, v in words.items()})
    return _cap(template.format(**words))


def finding_sentences(rng: np.random.Generator, f: dict) -> tuple[str, str | None]:
    """``(located, unlocated)`` sentences about planted finding ``f`` (side is the patient's)
    from one template draw; ``unlocated`` is ``None`` when ``f`` has nothing to locate."""
    key = f.get("device") or f["kind"]
    j = int(rng.integers(len(_TEMPLATES[key])))
    unloc = _UNLOCATED_TEMPLATES.get(key)
    return _fill(_TEMPLATES[key][j], f), (None if unloc is None else _fill(unloc[j], f))


def finding_sentence(rng: np.random.Generator, f: dict) -> str:
    """A located sentence describing planted finding ``f`` (the MIMIC-CXR reports use it)."""
    return finding_sentences(rng, f)[0]


def choose_sentences(rng: np.random.Generator, findings: list[dict], reported: list[int],
                     order_jitter: float, other: str, unlocated: frozenset[int] = frozenset()) -> list[Sentence]:
    """The report of one reading, ABCDE-ordered with the reader's jitter. Findings in
    ``unlocated`` (indices) that have a location are dictated without it; the draws do not
    depend on ``unlocated``."""
    out: list[Sentence] = []
    for i in reported:
        f = findings[i]
        order = KINDS[f["kind"]]["order"] + {"upper": 0.0, "mid": 0.3, "lower": 0.6}.get(f.get("zone") or "", 0.0)
        located, bare = finding_sentences(rng, f)
        if bare is None:
            out.append(Sentence(tokenize(located), "finding", i, None, order))
        elif i in unlocated:
            out.append(Sentence(tokenize(bare), "finding", i, None, order, False, tokenize(located)))
        else:
            out.append(Sentence(tokenize(located), "finding", i, None, order, True))
    if other:
        text, region = _OTHER[other]
        out.append(Sentence(tokenize(text), "other", None, region, 4.0))
    planted = {f["kind"] for f in findings}
    allowed = [s for s in NORMAL_SENTENCES if not (s[2] & planted)]
    n_normal = max(int(rng.integers(1, 4)), C.MIN_SENTENCES - len(out))
    used_regions: set[str] = set()
    for j in rng.permutation(len(allowed)):
        text, region, _, order = allowed[j]
        if region in used_regions:
            continue
        used_regions.add(region)
        out.append(Sentence(tokenize(text), "normal", None, region, order))
        if len(used_regions) >= n_normal:
            break
    keys = [s.order + rng.normal(0, order_jitter) for s in out]
    return [out[k] for k in np.argsort(keys, kind="stable")]


def other_finding(rng: np.random.Generator) -> str:
    """``''`` mostly; sometimes an "Other" free-text finding name."""
    if rng.random() < C.OTHER_FINDING_PROB:
        return str(rng.choice(list(_OTHER)))
    return ""


def trailing_words(rng: np.random.Generator, force: bool = False) -> list[str] | None:
    """Words dictated after the last period (no closing ``.``), or ``None``."""
    if rng.random() < C.TRAILING_WORDS_PROB or force:
        return str(rng.choice(TRAILING)).split(" ")
    return None


def time_words(rng: np.random.Generator, tokens: list[str], start_s: float) -> list[tuple[str, float, float]]:
    """``(token, start, end)`` seconds (3 dp) from ``start_s``; punctuation takes the end
    of the preceding word as both its start and end."""
    out = []
    t = start_s
    end = start_s
    sigma = 0.3
    for tok in tokens:
        if tok in (".", ","):
            out.append((tok, round(end, 3), round(end, 3)))
            continue
        dur = float(np.clip(rng.lognormal(np.log(C.WORD_MS_MEDIAN), sigma), 100, 900)) / 1000.0
        start, end = t, t + dur
        out.append((tok, round(start, 3), round(end, 3)))
        t = end + float(rng.uniform(*C.WORD_GAP_MS)) / 1000.0
    return out


def retime(tokens: list[str], timed: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """``tokens`` spoken in the time slots of ``timed`` (another sentence's timing, with at
    least as many words): the k-th word takes the k-th word's start and end, punctuation the
    end of the preceding word. Used for an unlocated sentence, which is said in the first
    slots of its located twin (the reader then pauses, still looking at the finding)."""
    slots = [(a, b) for tok, a, b in timed if tok not in (".", ",")]
    out, k, end = [], 0, timed[0][1]
    for tok in tokens:
        if tok in (".", ","):
            out.append((tok, end, end))
            continue
        if k >= len(slots):
            raise ValueError(f"{' '.join(tokens)!r} has more words than its timing ({len(slots)})")
        start, end = slots[k]
        out.append((tok, start, end))
        k += 1
    return out


def transcription(sentences: list[list[str]]) -> str:
    """The transcription text from token lists: punctuation re-attached, single spaces."""
    text = " ".join(" ".join(toks) for toks in sentences)
    return text.replace(" .", ".").replace(" ,", ",")
