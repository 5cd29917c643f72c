"""One simulated reading: answers, dictation and gaze on one clock, plus its truth record.

Timeline (seconds on the audio clock): gaze starts at ``-U(PRE_DICTATION_S)`` with an
ABCDE survey of the film (with glances at the findings the reader will report, and a few
off-image glances); from 0 the reader takes each sentence in turn: looks at its region (the
finding's ellipse, or the anatomy a normal sentence is about) for ``U(LOOK_S)``, starts
speaking after ``U(SPEECH_ONSET)`` of that look, keeps looking while speaking, pauses, and
moves on (sometimes glancing back at an earlier finding, ``revisit_prob``). Gaze ends
``U(POST_DICTATION_S)`` after the last word. A sentence dictated without its location
(``unlocated``) is spoken in the first word slots of its located twin: the reader's clock,
and so the gaze, follow the located dictation (the truth's ``located`` marks which is which).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazex_lib.data.schema import WORD_COLUMNS

from . import config as C
from .anatomy import KINDS, Anatomy, gaze_regions, reflacx_label
from .dictation import choose_sentences, other_finding, retime, time_words, trailing_words, transcription
from .gaze import Gaze, fixation_frame, make_samples
from .radiologists import (ReaderHabits, Scanpath, decide_report, draw_chest_box, draw_ellipses,
                           label_row)


@dataclass
class Reading:
    """Everything written for one reading (frames are ``None`` when discarded)."""

    labels: dict
    ellipses: list[dict]
    chest_box: list[float]
    truth: dict
    words: pd.DataFrame | None = None
    text: str | None = None
    gaze: Gaze | None = None
    fixations: pd.DataFrame | None = None


def _finding_region(f: dict) -> tuple[float, float, float, float, float]:
    (cx, cy), (ax, ay) = f["center_px"], f["axes_px"]
    return (cx, cy, max(0.6 * ax, 4.0), max(0.6 * ay, 4.0), 0.0)


def _comparison_region(rng: np.random.Generator, region: tuple, regions: dict, width: int) -> tuple:
    """Where a reader compares: the mirror image across the midline (the other lung), or, for
    regions near the midline, another named region."""
    cx, cy, ax, ay, order = region
    if abs(cx - width / 2) > 0.12 * width:
        return (width - cx, cy, ax, ay, order)
    names = sorted(k for k in regions if k not in ("lungs", "bones", "apices", "bases"))
    return regions[names[int(rng.integers(len(names)))]]


def simulate_reading(rng: np.random.Generator, *, anatomy: Anatomy, findings: list[dict], habits: ReaderHabits,
                     phase: int, ppd: float, rate: int, discarded: bool, force_trailing: bool = False,
                     force_no_gaze: bool = False, unlocated: frozenset[int] = frozenset()) -> Reading:
    """Simulate one reader reading one film (see the module docstring).

    ``force_trailing`` / ``force_no_gaze`` make the rare cases (words after the last period, a
    sentence whose window holds no valid gaze) certain for this reading; the random draws are
    made either way, so other readings are unaffected. Findings in ``unlocated`` (indices)
    are dictated without their side and zone; the gaze, and every draw, are those of the
    located dictation (only the words and their sentence's times change)."""
    W, H = anatomy.width, anatomy.height
    reported, certainty = decide_report(rng, findings, habits)
    other = other_finding(rng)
    labels = label_row(rng, phase, findings, reported, certainty, other)
    ellipses = draw_ellipses(rng, findings, reported, certainty, habits, ppd, W, H)
    chest_box = draw_chest_box(rng, anatomy)
    truth = {"phase": phase, "reader": habits.name, "discarded": discarded, "other": other,
             "missed_findings": [i for i in range(len(findings)) if i not in reported],
             "n_gaze_samples": 0, "n_nan_samples": 0, "n_offimage_samples": 0, "n_fixations": 0,
             "sentences": [], "trailing_words": None}
    ell_by_finding = {e["finding"]: e for e in ellipses}
    truth["findings"] = [{
        "finding": i, "kind": findings[i]["kind"], "reflacx_label": reflacx_label(findings[i]["kind"], phase),
        "chexbert_label": findings[i]["chexbert_label"], "center_px": findings[i]["center_px"],
        "axes_px": findings[i]["axes_px"], "certainty": certainty[i], "sentence_index": None,
        "ellipse_px": [int(round(ell_by_finding[i][k])) for k in ("xmin", "ymin", "xmax", "ymax")],
        "fixation_centroid_px": None, "n_fixations": 0} for i in reported]
    if discarded:
        return Reading(labels, ellipses, chest_box, truth)

    sentences = choose_sentences(rng, findings, reported, habits.order_jitter, other, frozenset(unlocated))
    regions = gaze_regions(anatomy)
    pre_s = float(rng.uniform(*C.PRE_DICTATION_S))
    scan = Scanpath(rng, habits, ppd, rate, -int(round(pre_s * rate)), W, H)

    # pre-dictation survey
    items = [(r[4], name, -1, None) for name, r in regions.items() if name not in ("lungs", "apices", "bases")]
    items += [(KINDS[f["kind"]]["order"], "finding", i, _finding_region(f)) for i, f in enumerate(findings)
              if i in reported or rng.random() < 0.3]
    n_off = int(rng.integers(C.OFF_IMAGE_GLANCES[0], C.OFF_IMAGE_GLANCES[1] + 1))
    off_at = set(rng.choice(len(items), size=min(n_off, len(items)), replace=False).tolist())
    while scan.cursor < 0:
        keys = [it[0] + rng.normal(0, habits.order_jitter) for it in items]
        for j in np.argsort(keys, kind="stable"):
            _, name, tag, reg = items[j]
            if j in off_at:
                scan.glance_off_image()
                off_at.discard(j)
            scan.look(reg if reg is not None else regions[name], tag=tag, n=int(rng.integers(1, 4)))
            if scan.cursor >= 0:
                break

    # dictation
    word_rows: list[tuple[str, float, float]] = []
    s_truth = []
    prev_end = 0.0
    said_findings: list[int] = []
    clock_end: list[float] = []  # per sentence: the end of its located dictation (drives the gaze)
    for k, s in enumerate(sentences):
        region = _finding_region(findings[s.finding]) if s.finding is not None else regions[s.region]
        tag = s.finding if s.finding is not None else -1
        if said_findings and rng.random() < habits.revisit_prob:
            back = said_findings[int(rng.integers(len(said_findings)))]
            scan.look(_finding_region(findings[back]), tag=back, n=int(rng.integers(1, 3)))
        look_start = scan.seconds
        look = float(rng.uniform(*C.LOOK_S))
        start = max(prev_end + float(rng.uniform(0.15, 0.5)), look_start + float(rng.uniform(*C.SPEECH_ONSET)) * look,
                    0.3)
        timed = time_words(rng, s.timing_tokens or s.tokens, start)
        prev_end = timed[-1][2]  # the reader's clock follows the located sentence
        clock_end.append(prev_end)
        if s.timing_tokens is not None:
            timed = retime(s.tokens, timed)
        word_rows += timed
        until = max(look_start + look, prev_end + float(rng.uniform(*C.PAUSE_S)))
        compare = None
        if rng.random() < C.COMPARE_PROB:
            # comparison look (other side, or a named region): the window then holds >= 2 foci
            compare = _comparison_region(rng, region, regions, W)
            split = look_start + (until - look_start) * float(rng.uniform(*C.COMPARE_SPLIT))
            scan.look(region, tag=tag, until=int(np.ceil(split * rate)))
            scan.look(compare, tag=-1, until=int(np.ceil(until * rate)))
        else:
            scan.look(region, tag=tag, until=int(np.ceil(until * rate)))
        s_truth.append({"text": " ".join(s.tokens), "kind": s.kind, "finding": s.finding, "region": s.region,
                        "located": s.located,
                        "t_start_s": timed[0][1], "t_end_s": timed[-1][2], "no_gaze": False,
                        "compare_center_px": None if compare is None else [float(compare[0]), float(compare[1])],
                        "word_index": [len(word_rows) - len(timed), len(word_rows) - 1]})
        if s.finding is not None:
            said_findings.append(s.finding)
            for tf in truth["findings"]:
                if tf["finding"] == s.finding:
                    tf["sentence_index"] = k
    trailing = trailing_words(rng, force=force_trailing)
    if trailing:
        timed = time_words(rng, trailing, prev_end + float(rng.uniform(0.3, 1.0)))
        word_rows += timed
        prev_end = timed[-1][2]
        truth["trailing_words"] = {"text": " ".join(trailing), "t_start_s": timed[0][1], "t_end_s": timed[-1][2]}
        scan.look(regions["lungs"], until=int(np.ceil(prev_end * rate)))
    scan.look(regions["lungs"], until=int(np.ceil((prev_end + float(rng.uniform(*C.POST_DICTATION_S))) * rate)))

    lost = []
    if len(s_truth) > 1 and (rng.random() < C.NO_GAZE_SENTENCE_PROB or force_no_gaze):
        j = int(rng.integers(1, len(s_truth)))
        s_truth[j]["no_gaze"] = True
        lost.append((s_truth[j]["t_start_s"] - C.NO_GAZE_LEAD_S - 0.25, clock_end[j] + 0.25))
    zoom = tuple(findings[reported[0]]["center_px"]) if reported else None
    g = make_samples(rng, scan.arrays(), scan.start, rate, W, H, ppd, lost, zoom)

    _fill_gaze_truth(truth, s_truth, g)
    text = transcription([s.tokens for s in sentences] + ([trailing] if trailing else []))
    words = pd.DataFrame(word_rows, columns=WORD_COLUMNS)
    return Reading(labels, ellipses, chest_box, truth, words, text, g, fixation_frame(g))


def _fill_gaze_truth(truth: dict, s_truth: list[dict], g: Gaze) -> None:
    valid = ~np.isnan(g.x)
    cum = np.r_[0, np.cumsum(valid)]
    for s in s_truth:
        a = np.searchsorted(g.t, round(s["t_start_s"] - C.NO_GAZE_LEAD_S, 3), side="left")
        b = np.searchsorted(g.t, s["t_end_s"], side="right")
        s["n_valid_samples_in_window"] = int(cum[b] - cum[a])
    truth["sentences"] = s_truth
    truth["n_gaze_samples"] = int(len(g.t))
    truth["n_nan_samples"] = g.n_nan
    truth["n_offimage_samples"] = g.n_offimage
    truth["n_fixations"] = int(len(g.fix["x"]))
    truth["t_gaze_start_s"] = float(g.t[0])
    truth["t_gaze_end_s"] = float(g.t[-1])
    truth["n_offimage_fixations"] = int((g.fix["tag"] == -2).sum())
    dur = g.fix["n"].astype(float)
    for tf in truth["findings"]:
        m = g.fix["tag"] == tf["finding"]
        tf["n_fixations"] = int(m.sum())
        if m.any():
            w = dur[m] / dur[m].sum()
            tf["fixation_centroid_px"] = [round(float((g.fix["x"][m] * w).sum()), 1),
                                          round(float((g.fix["y"][m] * w).sum()), 1)]
