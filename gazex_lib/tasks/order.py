"""Frame orders for SDA: drawing shuffles, writing and reading the answer, scoring it.

A shuffle of ``n`` frames is stored as ``shuffled_indices``: ``s[p]`` = the 0-based
original (viewing) index of the frame shown at 0-based position ``p`` of the shuffled video
(the official ``Shuffle_Videos_*.py`` convention).

**Answer formats** (``order_format``):

``"ranks"`` (ours, default)
    ``<seq>q1,q2,...,qn</seq>`` where ``q_k`` is the **1-based position in the shuffled
    video of the frame viewed k-th**: the first number names the frame to look at first, as
    the official T6 prompt asks. ``q = argsort(s) + 1``. Comma-separated, so any ``n``
    decodes uniquely. Example: frames shown in viewing order ``[2, 0, 1]`` (``s``) give
    ``<seq>2,3,1</seq>``: the frame viewed first is shown 2nd, and so on.

``"official"`` (reproduces the official code exactly)
    ``<seq>{''.join(map(str, s))}</seq>``: the 0-based original index **at each shown
    position**, digits concatenated. Two official bugs are kept: the semantics are the
    inverse of what the prompt asks (and its example ``<seq>32145</seq>`` is 1-based while
    the target is 0-based), and from 10 frames on the string is ambiguous: ``s = [10, 1, 0,
    ...]`` and ``[1, 0, 10, ...]`` both start ``"1010"``. :func:`decode_order` reads one
    digit per index, so it recovers ``s`` only when ``n <= 10``.

**Identity shuffles.** The official code keeps whatever ``np.random.shuffle`` returns,
including the unshuffled order (half of all 2-frame videos). :func:`draw_shuffle` draws
again until the order differs from the identity (``redraw_identity=True``, default) when
``n >= 2``; ``n < 2`` cannot be shuffled (the official code skips such videos, so do we).
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["ORDER_FORMATS", "draw_shuffle", "ranks_from_shuffle", "shuffle_from_ranks",
           "order_truth", "encode_order", "decode_order", "order_accuracy", "order_metrics"]

ORDER_FORMATS = ("ranks", "official")
_SEQ_RE = re.compile(r"<seq>(.*?)(?:</seq>|$)", re.DOTALL)


def check_order_format(order_format: str) -> str:
    if order_format not in ORDER_FORMATS:
        raise ValueError(f"order_format must be one of {ORDER_FORMATS}, got {order_format!r}")
    return order_format


def draw_shuffle(n: int, rng: np.random.Generator, *, redraw_identity: bool = True) -> np.ndarray:
    """``shuffled_indices`` of ``n`` frames (module docstring); identity re-drawn if asked."""
    if n < 2:
        return np.arange(n)
    while True:
        s = rng.permutation(n)
        if not redraw_identity or (s != np.arange(n)).any():
            return s


def ranks_from_shuffle(shuffled) -> list[int]:
    """``q_k`` = 1-based shown position of the frame viewed k-th (``argsort(s) + 1``)."""
    return [int(v) + 1 for v in np.argsort(np.asarray(shuffled), kind="stable")]


def shuffle_from_ranks(ranks) -> list[int]:
    """Inverse of :func:`ranks_from_shuffle`."""
    return [int(v) for v in np.argsort(np.asarray(ranks) - 1, kind="stable")]


def order_truth(shuffled, order_format: str = "ranks") -> list[int]:
    """The numbers a correct answer writes, in ``order_format``."""
    check_order_format(order_format)
    if order_format == "ranks":
        return ranks_from_shuffle(shuffled)
    return [int(v) for v in shuffled]


def encode_order(order, order_format: str = "ranks") -> str:
    """``<seq>...</seq>`` for numbers already in ``order_format`` (:func:`order_truth`)."""
    check_order_format(order_format)
    sep = "," if order_format == "ranks" else ""
    return "<seq>" + sep.join(str(int(v)) for v in order) + "</seq>"


def decode_order(text: str, order_format: str = "ranks") -> list[int]:
    """The numbers of the first ``<seq>...</seq>`` (an unclosed tag runs to the end; no tag:
    the whole text). ``"ranks"``: every integer; ``"official"``: one index per digit."""
    check_order_format(order_format)
    m = _SEQ_RE.search(text)
    body = m.group(1) if m else text
    if order_format == "ranks":
        return [int(v) for v in re.findall(r"\d+", body)]
    return [int(c) for c in body if c.isdigit()]


def order_accuracy(pred, truth) -> float:
    """Share of positions of ``truth`` where ``pred`` has the same number (missing = wrong)."""
    truth = list(truth)
    if not truth:
        raise ValueError("empty truth order")
    pred = list(pred)
    return sum(i < len(pred) and pred[i] == t for i, t in enumerate(truth)) / len(truth)


def order_metrics(pred, truth) -> dict:
    """``exact`` (bool), ``position_accuracy`` (:func:`order_accuracy`), ``valid`` (``pred``
    is a permutation of ``truth``'s numbers) and ``kendall_tau`` between the two sequences
    (NaN when not valid or fewer than 2 items)."""
    pred, truth = list(pred), list(truth)
    valid = sorted(pred) == sorted(truth) and len(set(truth)) == len(truth)
    tau = float("nan")
    if valid and len(truth) >= 2:
        rank = {v: i for i, v in enumerate(truth)}
        r = [rank[v] for v in pred]
        n = len(r)
        conc = sum((r[j] > r[i]) - (r[j] < r[i]) for i in range(n) for j in range(i + 1, n))
        tau = conc / (n * (n - 1) / 2)
    return {"exact": pred == truth, "position_accuracy": order_accuracy(pred, truth),
            "valid": valid, "kendall_tau": tau}
