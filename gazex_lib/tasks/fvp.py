"""FVP (T4): image + finding sentence -> the gaze boxes behind it.

One record per sentence whose holistic frame has a box. The target lists the sentence's
**cluster boxes** ("visual clues", time order; present only when the window had >= 2
clusters, the official rule the key-frame table already applies) then the **holistic box**
("observation"). Each box is written as its corners and its gaze centroid.

**Coordinates** (``coords``):

``"q1000"`` (our default)
    Qwen2-VL's 0-1000 grid (what it was pretrained to ground on):
    ``floor(v / size * 1000 + 0.5)`` clipped to [0, 1000], ``size`` = the film's width (x)
    or height (y) on the key-frame grid (:func:`gazex_lib.gaze.boxes.to_qwen1000`; equals
    the table's ``box_q1000_*`` columns). Invariant to the resizing the processor does
    (``smart_resize`` to multiples of 28, pixel caps), unlike absolute pixels.
``"q<N>"``
    the same rule on a coarser 0-N grid (the ci profile's cheaper coordinates,
    :mod:`gazex_lib.tasks.coords`).
``"official_px"``
    pixels of the ¼-scale film (the table's ``box_*`` columns), truncated with ``int()``
    after the shrink, centroid ``int()`` too: exactly ``Create_Training_Data.py``.

**Shrink** (``shrink``, :func:`gazex_lib.gaze.boxes.shrink_box`): ``"none"`` (clean
default), ``"official_percent"`` (official default: 0.35 % clusters / 0.15 % holistic, the
percent bug), ``"fraction"`` (35 % / 15 %). Applied to the table's grid boxes before the
conversion; a table built with a shrink already applied refuses a second one.

**Text** (follows ``prompt_style``):

* official: ``visual clues : [(x1,y1)(x2,y2)(cx,cy),(x1,y1)(x2,y2)(cx,cy)] observation :
  [(x1,y1)(x2,y2)(cx,cy)]``, or only ``observation : [...]`` without clues;
* clean: ``visual clues: [(x1,y1),(x2,y2),(cx,cy); ...] observation: [(x1,y1),(x2,y2),
  (cx,cy)]``, always both parts (``visual clues: []`` without clues), so the format never
  depends on the answer; one prompt for both cases.

Sentences whose holistic frame has no box (status ``no_gaze``, ``trimmed_empty``,
``offimage``) are skipped and counted as ``"no_box:<status>"``; a cluster row without a box
(possible, never seen) is left out of the clues and counted as ``"clue_without_box"``.
:func:`parse_fvp` reads either text back; :func:`fvp_to_grid` maps its numbers to film px.
"""
from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np

from gazex_lib.gaze.boxes import SHRINK_MODES, Box, shrink_box
from gazex_lib.tasks import prompts as P
from gazex_lib.tasks.coords import check_coords, from_grid, grid_steps, to_grid
from gazex_lib.tasks.records import clean_sentence, film_ref, make_record, style_default

__all__ = ["COORDS", "fvp_records", "format_boxes", "parse_fvp", "fvp_to_grid", "row_box",
           "box_iou"]

#: The named coordinate systems; any ``"q<N>"`` (2 <= N <= 1000) is accepted too.
COORDS = ("q1000", "official_px")
_GRID = ("box_x_min", "box_y_min", "box_x_max", "box_y_max", "box_cx", "box_cy")
_PAIR_RE = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")


def row_box(row) -> Box:
    """The grid (¼-scale px) box of a table row."""
    return Box(*(float(row[c]) for c in _GRID))


def _convert(box: Box, coords: str, film_wh) -> list[int]:
    steps = grid_steps(coords)
    if steps is None:
        return [int(v) for v in box.as_tuple()]
    w, h = film_wh
    return [int(to_grid(v, s, steps)) for v, s in zip(box.as_tuple(), (w, h, w, h, w, h))]


def format_boxes(clues: list, observation, style: str) -> str:
    """Target text of converted boxes (lists of 6 ints) in the ``style``'s layout."""
    if style == "official":
        one = "({},{})({},{})({},{})".format
        obs = "observation : [" + one(*observation) + "]"
        return f"visual clues : [{','.join(one(*c) for c in clues)}] {obs}" if clues else obs
    one = "({},{}),({},{}),({},{})".format
    return (f"visual clues: [{'; '.join(one(*c) for c in clues)}] "
            f"observation: [{one(*observation)}]")


def _shrink_amounts(rows) -> dict:
    """``{"cluster": ..., "holistic": ...}``: the shrink amounts of the key-frame config the
    table was built with (``gaze.shrink_cluster`` / ``gaze.shrink_holistic``; official 0.35 and
    0.15), read from its ``params`` column."""
    try:
        params = json.loads(rows["params"].iloc[0])
        return {"cluster": float(params["shrink_cluster"]),
                "holistic": float(params["shrink_holistic"])}
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError("the key-frame rows carry no shrink amounts in their 'params' column "
                         "(gaze.shrink_cluster / gaze.shrink_holistic): rebuild the table") from exc


def _table_shrink(rows) -> str:
    if "params" not in rows.columns or not len(rows):
        return "none"
    try:
        return json.loads(rows["params"].iloc[0]).get("shrink", "none")
    except (TypeError, ValueError):
        return "none"


def fvp_records(rows, *, prompt_style: str = "clean", coords: str | None = None,
                shrink: str | None = None, extra_meta: dict | None = None):
    """FVP records of one reading's table rows. Returns ``(records, skipped: Counter)``.

    ``coords`` defaults to ``"official_px"`` for ``prompt_style="official"`` and ``"q1000"``
    otherwise; ``shrink`` to ``"official_percent"`` / ``"none"`` (module docstring).
    """
    P.check_style(prompt_style)
    coords = style_default(coords, prompt_style, "official_px", "q1000")
    shrink = style_default(shrink, prompt_style, "official_percent", "none")
    check_coords(coords)
    if shrink not in SHRINK_MODES:
        raise ValueError(f"shrink must be one of {SHRINK_MODES}, got {shrink!r}")
    if shrink != "none" and _table_shrink(rows) != "none":
        raise ValueError(f"the key-frame table's boxes are already shrunk "
                         f"({_table_shrink(rows)!r}); use shrink='none'")
    records, skipped = [], Counter()
    amounts = _shrink_amounts(rows) if shrink != "none" and len(rows) else {}
    rows = rows.sort_values("frame_index", kind="stable")
    for sidx, g in rows.groupby("sentence_index", sort=True):
        hol = g[g["frame_kind"] == "holistic"]
        if len(hol) != 1:
            raise ValueError(f"reading {g['reading_id'].iloc[0]!r} sentence {sidx}: "
                             f"{len(hol)} holistic rows (expected 1)")
        h = hol.iloc[0]
        if not bool(h["has_box"]):
            skipped[f"no_box:{h['status']}"] += 1
            continue
        film_wh = (int(h["film_width"]), int(h["film_height"]))
        cl = g[g["frame_kind"] == "cluster"].sort_values("cluster_rank", kind="stable")
        skipped["clue_without_box"] += int((~cl["has_box"].astype(bool)).sum())
        cl = cl[cl["has_box"].astype(bool)]
        clue_grid = [row_box(r) for _, r in cl.iterrows()]
        obs_grid = row_box(h)
        clues = [_convert(shrink_box(b, amounts.get("cluster", 0.0), shrink), coords, film_wh)
                 for b in clue_grid]
        obs = _convert(shrink_box(obs_grid, amounts.get("holistic", 0.0), shrink), coords,
                       film_wh)
        text = str(h["text"])
        if prompt_style == "official":
            prompt = (P.OFFICIAL_FVP_CLUES if clues else P.OFFICIAL_FVP_NO_CLUES).format(
                sentence=text)
        else:
            prompt = P.CLEAN_FVP.format(sentence=clean_sentence(text),
                                        coords=P.clean_fvp_coords(coords))
        meta = {"sentence_index": int(sidx), "sentence": text, "status": str(h["status"]),
                "n_clusters": int(h["n_clusters"]), "coords": coords, "shrink": shrink,
                "film_size": list(film_wh), "clues": clues, "observation": obs,
                "clues_grid": [list(b.as_tuple()) for b in clue_grid],
                "observation_grid": list(obs_grid.as_tuple()), **(extra_meta or {})}
        records.append(make_record("fvp", h["reading_id"], prompt,
                                   format_boxes(clues, obs, prompt_style),
                                   images=[film_ref(h["reading_id"])], meta=meta,
                                   sentence_index=int(sidx)))
    skipped = Counter({k: v for k, v in skipped.items() if v})
    return records, skipped


def _triples(text: str) -> list[tuple]:
    nums = [(float(a), float(b)) for a, b in _PAIR_RE.findall(text)]
    return [tuple(v for pair in nums[i:i + 3] for v in pair) for i in range(0, len(nums) - 2, 3)]


def parse_fvp(text: str) -> dict:
    """``{"clues": [(x1, y1, x2, y2, cx, cy), ...], "observation": (...) | None}`` from an
    FVP answer in either layout (numbers as written; incomplete triples are dropped)."""
    i = text.rfind("observation")
    head, tail = (text, "") if i < 0 else (text[:i], text[i:])
    obs = _triples(tail)
    return {"clues": _triples(head), "observation": obs[0] if obs else None}


def fvp_to_grid(box, coords: str, film_size) -> tuple | None:
    """A parsed box (6 numbers in ``coords``) in film-grid pixels (``film_size=(w, h)``)."""
    if box is None:
        return None
    steps = grid_steps(coords)
    if steps is None:
        return tuple(float(v) for v in box)
    w, h = film_size
    return tuple(float(from_grid(v, s, steps)) for v, s in zip(box, (w, h, w, h, w, h)))


def box_iou(a, b) -> float:
    """IoU of two ``(x_min, y_min, x_max, y_max, ...)`` boxes (continuous extents)."""
    ax0, ay0, ax1, ay1 = a[:4]
    bx0, by0, bx1, by1 = b[:4]
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return float(inter / union) if union > 0 else float(np.nan)
