"""GTM path (ours, not in the paper): the film + the report -> where the gaze rested per sentence.

The paper's GTM tasks (:mod:`.gtm`) map gaze to text. To *measure* whether a model mimics the
inspection trajectory we need the reverse, with a numeric answer: given the film and the
dictated sentences in order, the model names, for each sentence, the point its gaze was
centred on while it was dictated. That point is the intensity-weighted centroid of the
sentence's holistic attention map (the key-frame table's ``box_*_cx`` / ``box_*_cy`` of the
holistic row), so the answer is the reading's trajectory at one point per sentence. Scored as
the centroid error in original image pixels (:mod:`gazex_lib.eval.heldout`).

It is a probe task: in the ``tasks.names`` of both profiles so that the held-out evaluation
can score trajectories, and removable from the mix for a paper-only pretraining run
(``book/fidelity.md``).

**Text.** Coordinates on Qwen2-VL's 0-1000 grid over the film (``coords="q1000"``, as FVP's
default), or on a coarser 0-N grid (``"q<N>"``, :mod:`gazex_lib.tasks.coords`), one
``k:(x,y)`` per sentence, numbered as the prompt numbers the sentences:
``<path>1:(412,233),2:(520,610)</path>``. :func:`parse_path` reads the points back in the
order written (labels dropped); :func:`parse_path_labelled` keeps each point's label (the
sentence number before the colon), which the scorer matches on.

**Skipped, and counted.** Sentences whose holistic frame has no box (``no_gaze``,
``trimmed_empty``, ``offimage``) are left out of the prompt and the answer
(``"sentence_without_box"``); a reading with no sentence left gives no record
(``"no_sentence_with_box"``).
"""
from __future__ import annotations

import re
from collections import Counter

from gazex_lib.tasks import prompts as P
from gazex_lib.tasks.coords import check_coords, grid_steps, to_grid
from gazex_lib.tasks.records import clean_sentence, film_ref, make_record

__all__ = ["gtm_path_records", "format_path", "parse_path", "parse_path_labelled"]

_PATH_RE = re.compile(r"<path>(.*?)(?:</path>|$)", re.DOTALL)
_PAIR = r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)"
_POINT_RE = re.compile(_PAIR)
_LABELLED_RE = re.compile(r"(?:(\d+)\s*:\s*)?" + _PAIR)


def format_path(points) -> str:
    """``<path>1:(x1,y1),2:(x2,y2),...</path>`` of integer points, numbered like the
    sentences of the prompt (the number names the sentence a point belongs to)."""
    return "<path>" + ",".join(f"{i}:({int(x)},{int(y)})"
                               for i, (x, y) in enumerate(points, 1)) + "</path>"


def parse_path(text: str) -> list[tuple[float, float]]:
    """The ``(x, y)`` pairs of the first ``<path>...</path>`` (an unclosed tag runs to the end;
    no tag: the whole text), as written."""
    m = _PATH_RE.search(text)
    body = m.group(1) if m else text
    return [(float(a), float(b)) for a, b in _POINT_RE.findall(body)]


def parse_path_labelled(text: str) -> list[tuple[int | None, float, float]]:
    """``(label, x, y)`` of every point of the first ``<path>...</path>`` (same body as
    :func:`parse_path`, same points in the same order). ``label`` is the integer written
    before the colon (``2:(x,y)`` -> 2, the 1-based sentence number), ``None`` when the point
    has none. Duplicates and out-of-range labels are kept as written: the caller decides."""
    m = _PATH_RE.search(text)
    body = m.group(1) if m else text
    return [(int(k) if k else None, float(a), float(b)) for k, a, b in _LABELLED_RE.findall(body)]


def gtm_path_records(rows, *, coords: str | None = None, extra_meta: dict | None = None):
    """The path record of one reading's key-frame rows. Returns ``(records, skipped)``.

    ``coords``: ``"q<N>"`` (``None``: ``"q1000"``). ``meta`` carries the truth: ``points``
    (in ``coords``), ``coords``, ``points_grid`` (film-grid px),
    ``points_orig`` (original image px), ``sentence_index`` and ``sentences`` of the listed
    sentences, and ``film_size`` (grid ``[width, height]``)."""
    coords = check_coords("q1000" if coords is None else coords, allow_px=False)
    steps = grid_steps(coords)
    rows = rows.sort_values("frame_index", kind="stable")
    hol = rows[rows["frame_kind"] == "holistic"].sort_values("sentence_index", kind="stable")
    if not len(hol):
        return [], Counter(no_sentence_with_box=1)
    rid = str(hol["reading_id"].iloc[0])
    has = hol["has_box"].astype(bool)
    skipped = Counter(sentence_without_box=int((~has).sum()))
    hol = hol[has]
    if not len(hol):
        skipped["no_sentence_with_box"] += 1
        return [], +skipped
    film_w, film_h = int(hol["film_width"].iloc[0]), int(hol["film_height"].iloc[0])
    grid = [(float(x), float(y)) for x, y in zip(hol["box_cx"], hol["box_cy"])]
    points = [(to_grid(x, film_w, steps), to_grid(y, film_h, steps)) for x, y in grid]
    sentences = [clean_sentence(str(t)) for t in hol["text"]]
    listing = " ".join(f"{i}. {s}" for i, s in enumerate(sentences, 1))
    meta = {"sentence_index": [int(v) for v in hol["sentence_index"]],
            "sentences": sentences, "n_points": len(points), "points": [list(p) for p in points], "coords": coords,
            "points_grid": [list(p) for p in grid],
            "points_orig": [[float(x), float(y)]
                            for x, y in zip(hol["box_orig_cx"], hol["box_orig_cy"])],
            "film_size": [film_w, film_h], **(extra_meta or {})}
    prompt = P.CLEAN_GTM_PATH.format(n=len(points), sentences=listing, steps=steps)
    return [make_record("gtm_path", rid, prompt, format_path(points), images=[film_ref(rid)],
                        meta=meta)], +skipped
