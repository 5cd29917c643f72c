"""Baselines for the held-out gaze probes that a reviewer would accept.

Every baseline is fitted on **training records only**, answers each probe record in the
task's own format, and goes through the same scorer as the model
(:func:`gazex_lib.eval.score_answers`). Boxes and points are averaged on Qwen2-VL's 0-1000
grid over the film (``q1000``; a ``q<N>`` number is scaled by 1000 / N, an ``official_px``
FVP box divided by the film size) and written back in each record's ``coords``; the FVP layout (clean / official) is the one
of the training targets.

``input_ignoring`` (:class:`InputIgnoringBaseline`): uses no input but the task and the counts
the prompt states.

* FVP: the mean training observation box (the training *targets*, so after their shrink).
* GTM path: the mean training point at each sentence position (positions beyond the longest
  training path: the mean of all training points).
* SDA: the **best constant order** (:func:`best_constant_order`): for ``n`` frames, the
  permutation with the highest summed position accuracy on the training targets with ``n``
  frames, an assignment problem on the position x value count matrix
  (``scipy.optimize.linear_sum_assignment``). Fitted per (task, order format, ``n``) (the
  task is in the prompt; ``sda_finding`` always shows its holistic frame, and a constant
  order can exploit that), backing off to the order pooled over both SDA tasks for that
  ``n``, and to the identity only for frame counts never seen in training. The levels used
  are counted in ``stats["sda"]`` (``task``, ``pooled``, ``identity``).

``text_only`` (:class:`TextOnlyBaseline`): reads the sentence(s) of the prompt, not the film.

* FVP: the mean training box per finding key :func:`parse_finding` ``(kind, side, zone)`` of
  the sentence, backing off ``(kind, side, zone)`` -> ``(kind, side)`` -> ``(kind,)`` ->
  the mean of all training boxes when a key was not seen in training. A part the sentence
  does not state is ``None`` and is a key value of its own.
* GTM path: for each sentence of the path, the mean training point of its finding key (the
  points of the training paths, sentence by sentence), with the same backoff.
* SDA: no text model; the input-ignoring best constant orders.
* ``stats[task]`` counts the backoff level used (``kind_side_zone``, ``kind_side``, ``kind``,
  ``global``), one per FVP record and one per path sentence.

``stats`` (both classes) describes the **last** :meth:`answers` call. :func:`fit_baselines`
fits both. The chapter's ``trivial`` answers (identity SDA order) stay in
:class:`gazex_lib.eval.heldout.TrivialBaseline`.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment

from gazex_lib.tasks import encode_order, format_boxes, format_path, order_truth, record_target
from gazex_lib.tasks.coords import grid_steps

__all__ = ["parse_finding", "best_constant_order", "InputIgnoringBaseline", "TextOnlyBaseline",
           "fit_baselines", "BACKOFF_LEVELS", "CENTRE_BOX", "box_q1000", "box_out", "path_q1000",
           "path_out"]

SDA_TASKS = ("sda_global", "sda_finding")
#: Backoff levels of the text-only baseline, finest first: the key prefix length each uses.
BACKOFF_LEVELS = {"kind_side_zone": 3, "kind_side": 2, "kind": 1}
CENTRE_BOX = [250, 250, 750, 750, 500, 500]

# --- the finding of a sentence -----------------------------------------------------------------
#: ``(kind, pattern)``; the first kind in this order whose pattern occurs wins. Devices first,
#: then findings (the synthetic generator's kinds, :data:`gazex_lib.data.synthetic.anatomy.KINDS`,
#: and REFLACX label words), then the anatomy named by normal statements.
_KIND_PATTERNS = tuple((k, re.compile(p)) for k, p in (
    ("central_line", r"central (venous )?line|catheter|\bij\b|jugular|subclavian|\bpicc\b"),
    ("endotracheal_tube", r"endotracheal|\bet tube|\bett\b"),
    ("enteric_tube", r"enteric|nasogastric|orogastric|\b[no]g tube|feeding tube|dobhoff"),
    ("pacemaker", r"pacemaker|pacer|\bicd\b"),
    ("support_device", r"\btubes?\b|\blines?\b|device|drain|\bwires?\b|\bclips?\b|\bstents?\b"),
    ("cardiomegaly", r"cardiomegaly|enlarged? (cardiac|heart)|(cardiac|heart)\b[^.]*\benlarge"),
    ("effusion", r"effusion|costophrenic|blunting"),
    ("pneumothorax", r"pneumothora"),
    ("edema", r"edema|congestion"),
    ("atelectasis", r"atelecta"),
    ("consolidation", r"consolidat|pneumonia|infiltrat"),
    ("groundglass", r"ground[- ]?glass"),
    ("nodule", r"nodul"),
    ("mass", r"\bmass"),
    ("opacity", r"opacit"),
    ("fracture", r"fractur"),
    ("granuloma", r"granulom"),
    ("scoliosis", r"scolio"),
    ("trachea", r"trachea"),
    ("heart", r"heart|cardi"),
    ("mediastinum", r"mediastin|\bhil(um|a|ar)\b|aort"),
    ("bones", r"osseous|\bbones?\b|\bribs?\b|spine|skelet"),
    ("lungs", r"\blungs?\b|pulmonary|pleura"),
))
_ANATOMY = {"trachea", "heart", "mediastinum", "bones", "lungs"}
_NEGATION = re.compile(r"\b(no|not|without|negative for|free of)\b")
_CLAUSE = re.compile(r"[,;:]|\bbut\b|\bhowever\b")
_BILATERAL = re.compile(r"\b(bilateral(ly)?|both|bibasilar|bibasal|biapical)\b")
_ZONES = (("upper", r"\b(upper|apex|apices|apical)\b"),
          ("mid", r"\b(mid|middle|lingula|lingular)\b"),
          ("lower", r"\b(lower|bases?|basal|basilar|bibasilar|costophrenic)\b"))


def parse_finding(sentence: str) -> tuple[str | None, str | None, str | None]:
    """``(kind, side, zone)`` stated by a report sentence; ``None`` for a part not stated.

    * ``kind``: the first of :data:`_KIND_PATTERNS` whose words occur (lower-cased text):
      ``central_line``, ``endotracheal_tube``, ``enteric_tube``, ``pacemaker``,
      ``support_device``; ``cardiomegaly``, ``effusion``, ``pneumothorax``, ``edema``,
      ``atelectasis``, ``consolidation``, ``groundglass``, ``nodule``, ``mass``,
      ``opacity``, ``fracture``, ``granuloma``, ``scoliosis``; then the anatomy of a normal
      statement: ``trachea``, ``heart``, ``mediastinum``, ``bones``, ``lungs``. A finding
      negated in its clause (``no``, ``not``, ``without``, ``negative for``, ``free of``
      before it, no ``,`` ``;`` ``:`` ``but`` in between) gets the prefix ``no_``:
      ``"No pleural effusion."`` -> ``no_effusion``.
    * ``side`` (the patient's): ``bilateral`` (``bilateral``, ``both``, ``bibasilar``, or
      both ``right`` and ``left``), else ``right`` or ``left``.
    * ``zone``: ``upper`` (upper, apex, apical), ``mid`` (mid, middle, lingula), ``lower``
      (lower, base, basilar, costophrenic); the first stated.

    >>> parse_finding("There is a small nodule in the left upper lobe.")
    ('nodule', 'left', 'upper')
    >>> parse_finding("no pleural effusion .")
    ('no_effusion', None, None)
    """
    text = " ".join(str(sentence).lower().split())
    kind = None
    for name, pattern in _KIND_PATTERNS:
        m = pattern.search(text)
        if m:
            clause = _CLAUSE.split(text[:m.end()])[-1]
            negated = name not in _ANATOMY and _NEGATION.search(clause) is not None
            kind = f"no_{name}" if negated else name
            break
    right, left = re.search(r"\bright\b", text), re.search(r"\bleft\b", text)
    side = ("bilateral" if _BILATERAL.search(text) or (right and left)
            else "right" if right else "left" if left else None)
    found = [(m.start(), z) for z, p in _ZONES for m in [re.search(p, text)] if m]
    zone = min(found)[1] if found else None
    return kind, side, zone


# --- coordinates -------------------------------------------------------------------------------
def box_q1000(meta: dict) -> np.ndarray:
    """An FVP record's target observation box on the 0-1000 grid (floats), from its
    ``coords`` (``q<N>``: × 1000 / N; ``official_px``: ÷ film size × 1000)."""
    box = np.asarray(meta["observation"], dtype=float)
    steps = grid_steps(meta.get("coords", "q1000"))
    if steps is not None:
        return box * (1000 / steps)
    w, h = meta["film_size"]
    return box / np.array([w, h, w, h, w, h]) * 1000


def box_out(q, meta: dict) -> list[int]:
    """A 0-1000 box in the record's ``coords`` (``q<N>``: rounded to its grid;
    ``official_px``: truncated, as the targets)."""
    q = np.clip(np.asarray(q, dtype=float), 0, 1000)
    steps = grid_steps(meta.get("coords", "q1000"))
    if steps is not None:
        return np.rint(q * (steps / 1000)).astype(int).tolist()
    w, h = meta["film_size"]
    return [int(round(v, 6)) for v in q / 1000 * np.array([w, h, w, h, w, h])]


def path_q1000(meta: dict) -> list:
    """A ``gtm_path`` record's target points on the 0-1000 grid (floats)."""
    steps = grid_steps(meta.get("coords", "q1000"))
    return (np.asarray(meta["points"], dtype=float).reshape(-1, 2) * (1000 / steps)).tolist()


def path_out(points, meta: dict) -> list:
    """0-1000 points as integer points on the record's ``q<N>`` grid."""
    steps = grid_steps(meta.get("coords", "q1000"))
    q = np.clip(np.asarray(points, dtype=float).reshape(-1, 2), 0, 1000)
    return np.rint(q * (steps / 1000)).astype(int).tolist()


def rounded_mean(values) -> list[int]:
    """The mean of equal-length vectors, rounded to ints (q1000 answers)."""
    return np.rint(np.mean(np.asarray(values, dtype=float), axis=0)).astype(int).tolist()


def _fvp_style(train_records) -> str:
    """The FVP layout of the training targets (majority; ``clean`` without FVP records)."""
    styles = Counter("official" if " : [" in record_target(r) else "clean"
                     for r in train_records if r["task"] == "fvp" and r.get("messages"))
    return styles.most_common(1)[0][0] if styles else "clean"


def mean_path_by_position(paths) -> tuple[list, list]:
    """``(mean point at each sentence position, mean of all points)`` (q1000, ints);
    ``([], [500, 500])`` without paths."""
    if not paths:
        return [], [500, 500]
    longest = max(len(p) for p in paths)
    points = [rounded_mean([p[i] for p in paths if len(p) > i]) for i in range(longest)]
    return points, rounded_mean([pt for p in paths for pt in p])


# --- SDA: the best constant order --------------------------------------------------------------
def _order_values(n: int, order_format: str) -> list[int]:
    return sorted(order_truth(list(range(n)), order_format))


def best_constant_order(targets, n: int, order_format: str = "ranks") -> tuple[list[int], float]:
    """``(order, accuracy)``: the permutation of the numbers an ``n``-frame answer uses that
    maximises the summed position accuracy over ``targets`` (lists of those numbers), and
    its mean position accuracy on them (unitless). Position accuracy is linear in the
    indicator "value ``v`` at position ``p``", so this is the assignment problem on the
    count matrix ``C[p, v]``, solved exactly by ``linear_sum_assignment``."""
    values = _order_values(n, order_format)
    index = {v: i for i, v in enumerate(values)}
    counts = np.zeros((n, n))
    for t in targets:
        if sorted(t) != values:
            raise ValueError(f"target {list(t)} is not a permutation of {values}")
        for p, v in enumerate(t):
            counts[p, index[v]] += 1
    rows, cols = linear_sum_assignment(counts, maximize=True)
    acc = float(counts[rows, cols].sum() / (len(targets) * n)) if len(targets) else 0.0
    return [values[c] for c in cols], acc


class _ConstantOrders:
    """Best constant SDA orders per (task, format, n), pooled per (format, n), identity."""

    def __init__(self, train_records):
        by_task, pooled = defaultdict(list), defaultdict(list)
        for r in train_records:
            if r["task"] in SDA_TASKS:
                m = r["meta"]
                fmt, n = m.get("order_format", "ranks"), int(m["n_frames"])
                by_task[(r["task"], fmt, n)].append(m["order"])
                pooled[(fmt, n)].append(m["order"])
        self.task = {k: (*best_constant_order(v, k[2], k[1]), len(v)) for k, v in by_task.items()}
        self.pooled = {k: (*best_constant_order(v, k[1], k[0]), len(v)) for k, v in pooled.items()}

    def answer(self, record: dict, stats: Counter) -> str:
        m = record["meta"]
        fmt, n = m.get("order_format", "ranks"), int(m["n_frames"])
        if (record["task"], fmt, n) in self.task:
            order, level = self.task[(record["task"], fmt, n)][0], "task"
        elif (fmt, n) in self.pooled:
            order, level = self.pooled[(fmt, n)][0], "pooled"
        else:
            order, level = order_truth(list(range(n)), fmt), "identity"
        stats[level] += 1
        return encode_order(order, fmt)

    def to_dict(self) -> list[dict]:
        rows = [{"task": t, "order_format": f, "n_frames": n, "order": o,
                 "train_accuracy": round(a, 4), "n_train": k}
                for (t, f, n), (o, a, k) in sorted(self.task.items())]
        return rows + [{"task": "pooled", "order_format": f, "n_frames": n, "order": o,
                        "train_accuracy": round(a, 4), "n_train": k}
                       for (f, n), (o, a, k) in sorted(self.pooled.items())]


class _Baseline:
    """``fit(train_records)``, ``answers(records) -> list[str]`` (resets ``stats``),
    ``to_dict()``; subclasses fit their FVP and path answers in ``_fit``."""
    name = "baseline"

    @classmethod
    def fit(cls, train_records, **options):
        """The baseline fitted on ``train_records`` (training records only); ``options`` go
        to the constructor (a subclass's own settings)."""
        train_records = list(train_records)
        self = cls(**options)
        self.fvp_style = _fvp_style(train_records)
        self.orders = _ConstantOrders(train_records)
        self.n_train = dict(Counter(r["task"] for r in train_records))
        self._fit(train_records)
        return self

    def _fit(self, train_records) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict:
        """What was fitted (q1000) and the counts of the last :meth:`answers` call."""
        return {"name": self.name, "n_train": self.n_train, "fvp_style": self.fvp_style,
                **self._fitted(), "sda_orders": self.orders.to_dict(),
                "stats": {t: dict(sorted(c.items())) for t, c in
                          getattr(self, "stats", {}).items()}}

    def answers(self, records) -> list[str]:
        """One answer per record, in the record's task format; ``stats`` counts this call."""
        self.stats = {"fvp": Counter(), "gtm_path": Counter(), "sda": Counter()}
        return [self.answer(r) for r in records]

    def answer(self, record: dict) -> str:
        task = record["task"]
        if task == "fvp":
            return self._fvp(record)
        if task == "gtm_path":
            return self._path(record)
        if task in SDA_TASKS:
            return self.orders.answer(record, self._stats("sda"))
        raise ValueError(f"{self.name}: no answer for task {task!r}")

    def _stats(self, task: str) -> Counter:
        if not hasattr(self, "stats"):
            self.stats = {"fvp": Counter(), "gtm_path": Counter(), "sda": Counter()}
        return self.stats[task]


# --- the baselines -----------------------------------------------------------------------------
class InputIgnoringBaseline(_Baseline):
    """Answers that ignore film, video and text (module docstring).
    ``InputIgnoringBaseline.fit(train_records)``."""
    name = "input_ignoring"

    def _fit(self, train_records) -> None:
        boxes = [box_q1000(r["meta"]) for r in train_records if r["task"] == "fvp"]
        self.fvp_box = rounded_mean(boxes) if boxes else list(CENTRE_BOX)
        self.path_points, self.path_mean = mean_path_by_position(
            [path_q1000(r["meta"]) for r in train_records if r["task"] == "gtm_path"])

    def _fvp(self, record: dict) -> str:
        self._stats("fvp")["mean_box"] += 1
        return format_boxes([], box_out(self.fvp_box, record["meta"]), self.fvp_style)

    def _path(self, record: dict) -> str:
        n = int(record["meta"]["n_points"])
        self._stats("gtm_path")["mean_point"] += n
        return format_path(path_out([self.path_points[i] if i < len(self.path_points)
                                     else self.path_mean for i in range(n)], record["meta"]))

    def _fitted(self) -> dict:
        return {"fvp_box_q1000": self.fvp_box, "path_points_q1000": self.path_points,
                "path_mean_q1000": self.path_mean}


class _KeyMeans:
    """Mean q1000 values per finding key at every backoff level, and over everything."""

    def __init__(self, pairs):
        pairs = list(pairs)
        self.tables = {}
        for level, k in BACKOFF_LEVELS.items():
            groups = defaultdict(list)
            for key, value in pairs:
                groups[key[:k]].append(value)
            self.tables[level] = {g: (np.mean(v, axis=0), len(v)) for g, v in groups.items()}
        self.global_mean = np.mean([v for _, v in pairs], axis=0) if pairs else None

    def lookup(self, key: tuple, stats: Counter, default):
        for level, k in BACKOFF_LEVELS.items():
            if key[:k] in self.tables[level]:
                stats[level] += 1
                return self.tables[level][key[:k]][0]
        stats["global"] += 1
        return self.global_mean if self.global_mean is not None else np.asarray(default, float)

    def to_dict(self) -> dict:
        fine = [{"kind": k[0], "side": k[1], "zone": k[2], "n": n,
                 "mean_q1000": np.rint(v).astype(int).tolist()}
                for k, (v, n) in sorted(self.tables["kind_side_zone"].items(),
                                        key=lambda kv: str(kv[0]))]
        return {"keys_per_level": {lvl: len(t) for lvl, t in self.tables.items()},
                "global_q1000": None if self.global_mean is None
                else np.rint(self.global_mean).astype(int).tolist(), "by_key": fine}


class TextOnlyBaseline(_Baseline):
    """Answers from the prompt's sentence(s) alone (module docstring).
    ``TextOnlyBaseline.fit(train_records)``."""
    name = "text_only"

    def _fit(self, train_records) -> None:
        self.fvp = _KeyMeans((parse_finding(r["meta"]["sentence"]), box_q1000(r["meta"]))
                             for r in train_records if r["task"] == "fvp")
        self.path = _KeyMeans((parse_finding(s), np.asarray(p, dtype=float))
                              for r in train_records if r["task"] == "gtm_path"
                              for s, p in zip(r["meta"]["sentences"], path_q1000(r["meta"])))

    def _fvp(self, record: dict) -> str:
        meta = record["meta"]
        q = self.fvp.lookup(parse_finding(meta["sentence"]), self._stats("fvp"), CENTRE_BOX)
        return format_boxes([], box_out(q, meta), self.fvp_style)

    def _path(self, record: dict) -> str:
        stats = self._stats("gtm_path")
        pts = [self.path.lookup(parse_finding(s), stats, (500, 500))
               for s in record["meta"]["sentences"]]
        return format_path(path_out(pts, record["meta"]))

    def _fitted(self) -> dict:
        return {"fvp": self.fvp.to_dict(), "gtm_path": self.path.to_dict()}


def fit_baselines(train_records) -> dict:
    """``{"input_ignoring": InputIgnoringBaseline, "text_only": TextOnlyBaseline}``, both
    fitted on ``train_records`` (the training records only, never held-out ones)."""
    train_records = list(train_records)
    return {"input_ignoring": InputIgnoringBaseline.fit(train_records),
            "text_only": TextOnlyBaseline.fit(train_records)}

