"""Coordinate systems of the numbers the FVP and GTM-path answers write.

``"q1000"`` (the clean default)
    Qwen2-VL's 0-1000 grid over the film, the grid it was pretrained to ground on:
    ``q = floor(v / size * 1000 + 0.5)`` clipped to [0, 1000] (round half up), ``size`` the
    film's width (x) or height (y) on the key-frame grid. Back: ``q / 1000 * size``.
``"q<N>"`` (``2 <= N <= 1000``; the ci profile's cheaper coordinates)
    The same rule on a 0-N grid: ``floor(v / size * N + 0.5)`` clipped to [0, N]. Qwen2's
    tokenizer writes every digit as its own token, so a 0-1000 number costs up to 4 tokens and
    a 0-9 one exactly 1; a box of 6 numbers goes from 18-24 digit tokens to 6. The price is
    precision: a coordinate is off by up to ``size / (2 N)`` (5 % of the film for ``q10``),
    for the targets, the baselines and the model alike (all write the same grid). A ci-only
    switch (``tasks.coords``, ``book/fidelity.md``): the full profile keeps ``q1000``.
``"official_px"`` (FVP only)
    Pixels of the ¼-scale film, truncated with ``int()`` (the official code).
"""
from __future__ import annotations

import re

from gazex_lib.gaze.boxes import from_grid, to_grid   # the one grid rule (q1000 included)

__all__ = ["QGRID_MAX", "check_coords", "grid_steps", "to_grid", "from_grid", "box_to_model",
           "box_from_model"]

QGRID_MAX = 1000
_Q_RE = re.compile(r"q([0-9]+)")


def grid_steps(coords: str) -> int | None:
    """``N`` of a ``"q<N>"`` coordinate system, ``None`` for ``"official_px"``."""
    if coords == "official_px":
        return None
    m = _Q_RE.fullmatch(str(coords))
    n = int(m.group(1)) if m else 0
    if not 2 <= n <= QGRID_MAX:
        raise ValueError(f"coords must be 'official_px' or 'q<N>' with 2 <= N <= {QGRID_MAX} "
                         f"(e.g. 'q1000', Qwen2-VL's grid), got {coords!r}")
    return n


def check_coords(coords: str, *, allow_px: bool = True) -> str:
    """``coords`` if valid (module docstring), else ValueError."""
    if grid_steps(coords) is None and not allow_px:
        raise ValueError(f"coords {coords!r} is FVP-only; use 'q<N>' (e.g. 'q1000')")
    return coords


def box_to_model(box_xywh, image_size, grid_size, coords: str = "q1000") -> dict:
    """An MS-CXR box (top-left ``x, y`` plus ``w, h``, original pixels of an image of
    ``image_size = (width, height)``) on the film the model sees (``grid_size = (width,
    height)`` px, the image resized to it) and in ``coords`` (``"q<N>"``, default Qwen2-VL's
    0-1000 grid):

    * ``"grid"``: ``(x0, y0, x1, y1)`` floats, ``x * grid_w / width`` (exact, no rounding);
    * ``"q"``: the same corners as ints on the 0-N grid (``floor(v / size * N + 0.5)``).

    :func:`box_from_model` goes back; the round trip through ``"q"`` is exact to half a grid
    step (``width / (2 N)`` original px)."""
    n = grid_steps(coords)
    if n is None:
        raise ValueError("box_to_model needs a 'q<N>' coordinate system, not 'official_px'")
    (w_img, h_img), (gw, gh) = image_size, grid_size
    if min(w_img, h_img, gw, gh) <= 0:
        raise ValueError(f"sizes must be positive: image {image_size}, grid {grid_size}")
    x, y, w, h = (float(v) for v in box_xywh)
    grid = (x * gw / w_img, y * gh / h_img, (x + w) * gw / w_img, (y + h) * gh / h_img)
    q = tuple(int(to_grid(v, size, n)) for v, size in zip(grid, (gw, gh, gw, gh)))
    return {"grid": grid, "q": q}


def box_from_model(q_box, image_size, grid_size, coords: str = "q1000") -> tuple:
    """``(x, y, w, h)`` in original pixels of a ``(x0, y0, x1, y1)`` box on the ``coords`` grid
    (the inverse of :func:`box_to_model`'s ``"q"``)."""
    n = grid_steps(coords)
    if n is None:
        raise ValueError("box_from_model needs a 'q<N>' coordinate system, not 'official_px'")
    (w_img, h_img), (gw, gh) = image_size, grid_size
    x0, y0, x1, y1 = (float(from_grid(q, size, n)) for q, size in zip(q_box, (gw, gh, gw, gh)))
    return (x0 * w_img / gw, y0 * h_img / gh, (x1 - x0) * w_img / gw, (y1 - y0) * h_img / gh)
