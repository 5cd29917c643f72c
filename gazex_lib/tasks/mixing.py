"""Task mixing and the final seeded shuffle.

**Ratios** (``ratios={task: weight}``) are relative weights, normalised over the tasks that
have records; a task missing from ``ratios`` or with weight 0 is left out. They set each
task's **share of the mixed set**:

* ``n_records=None``: the largest mix that repeats nothing, ``N = floor(min_t n_t / p_t)``
  over tasks with ``p_t > 0`` (``n_t`` records available, ``p_t`` its share); the abundant
  tasks are subsampled (without replacement).
* ``n_records=N``: exactly ``N`` records; a task that needs more than it has takes all its
  records, then repeats them (a fresh permutation each round; copies get ``#2``, ``#3``...
  appended to their ``id`` and ``meta["repeat"]``).

Per-task counts are ``p_t * N`` rounded by the largest remainder (they sum to ``N``), so each
share is within one record of the ratio. ``ratios=None`` keeps every record (the official
mix: whatever each task yields), or, with ``n_records``, scales the natural proportions. A
task with weight > 0 but no records is reported (``unavailable``) and the others are
renormalised. Subsamples are drawn with ``record_rng(seed, "mix", task)``.

**Order.** :func:`shuffle_records` permutes the final list with ``record_rng(seed,
"shuffle")`` (the official code shuffles its list with ``sklearn.utils.shuffle``, unseeded).
"""
from __future__ import annotations

import copy
import math

import numpy as np

from gazex_lib.tasks.records import record_rng

__all__ = ["apportion", "mix_records", "shuffle_records"]


def apportion(shares: dict, total: int) -> dict:
    """Integer counts proportional to ``shares`` summing to ``total`` (largest remainder;
    ties broken by task order)."""
    weight = sum(shares.values())
    if total < 0 or (total and weight <= 0):
        raise ValueError(f"cannot apportion {total} over shares {shares}")
    if not total:
        return {k: 0 for k in shares}
    exact = {k: v / weight * total for k, v in shares.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    keys = list(shares)
    for k in sorted(keys, key=lambda k: (-(exact[k] - counts[k]), keys.index(k)))[:left]:
        counts[k] += 1
    return counts


def _take(records: list, n: int, rng: np.random.Generator) -> list:
    if n <= len(records):
        return [records[i] for i in np.sort(rng.permutation(len(records))[:n])]
    out, rounds = list(records), 1
    while len(out) < n:
        rounds += 1
        for i in rng.permutation(len(records))[:n - len(out)]:
            rec = copy.deepcopy(records[i])
            rec["id"] = f"{rec['id']}#{rounds}"
            rec["meta"]["repeat"] = rounds
            out.append(rec)
    return out


def mix_records(records_by_task: dict, ratios: dict | None = None, *,
                n_records: int | None = None, seed: int = 0) -> tuple[list, dict]:
    """Mix per-task record lists (module docstring). Returns ``(records, info)`` with
    ``info = {"counts": {task: n}, "available": {...}, "shares": {...}, "unavailable": [...]}``;
    records are grouped by task, in ``records_by_task`` order (shuffle them afterwards)."""
    available = {t: len(r) for t, r in records_by_task.items()}
    if ratios is None:
        weights = dict(available)
    else:
        unknown = sorted(set(ratios) - set(records_by_task))
        if unknown:
            raise ValueError(f"ratios name tasks that were not built: {unknown} "
                             f"(built: {list(records_by_task)})")
        bad = {t: w for t, w in ratios.items() if not (np.isfinite(w) and w >= 0)}
        if bad:
            raise ValueError(f"ratios must be finite and >= 0, got {bad}")
        weights = {t: float(ratios.get(t, 0.0)) for t in records_by_task}
    unavailable = [t for t, w in weights.items() if w > 0 and available[t] == 0]
    weights = {t: (w if available[t] else 0.0) for t, w in weights.items()}
    info = {"available": available, "unavailable": unavailable, "ratios": ratios,
            "n_records": n_records}
    if ratios is None and n_records is None:
        n_all = max(1, sum(available.values()))
        info.update(shares={t: n / n_all for t, n in available.items()}, counts=dict(available))
        return [r for recs in records_by_task.values() for r in recs], info
    total_w = sum(weights.values())
    if total_w <= 0:
        info.update(shares={t: 0.0 for t in weights}, counts={t: 0 for t in weights})
        return [], info
    shares = {t: w / total_w for t, w in weights.items()}
    if n_records is None:        # the largest mix without repeats (guarding float rounding)
        n_records = int(min(math.floor(available[t] / p + 1e-9) for t, p in shares.items()
                            if p > 0))
        while any(c > available[t] for t, c in apportion(shares, n_records).items()):
            n_records -= 1
    counts = apportion(shares, int(n_records))
    out = []
    for t, recs in records_by_task.items():
        if counts[t]:
            out.extend(_take(list(recs), counts[t], record_rng(seed, "mix", t)))
    info.update(shares=shares, counts=counts)
    return out, info


def shuffle_records(records: list, seed: int = 0) -> list:
    """A seeded permutation of ``records`` (deterministic for a seed)."""
    perm = record_rng(seed, "shuffle").permutation(len(records))
    return [records[i] for i in perm]
