"""The report-labeller interface, and the per-text cache every labeller shares.

A labeller turns report (or sentence) texts into a frame of the 14 CheXbert labels
(:data:`gazex_lib.data.labels.CHEXBERT_LABELS`, in that order), one row per text, values
``1.0`` (positive), ``0.0`` (negative), ``-1.0`` (uncertain) and NaN (blank: not mentioned), the
coding that CheXbert's ``label.py`` writes and that :func:`gazex_lib.eval.metrics.clinical_f1`
reads.

**Caching.** A book labels the same sentences many times (every reference report is labelled
once per model and per convention). :meth:`Labeller.label` labels each *distinct* text once per
process (an in-memory table keyed by the text's SHA-1) and, when ``cache_dir`` is given, keeps
the table on disk as ``<cache_dir>/<name>-<fingerprint>.parquet``. The fingerprint changes
whenever the labeller would answer differently (the rule tables and library versions of the
fallback; the checkpoint's and tokenizer's bytes for CheXbert), so a stale cache is never read.

**Provenance.** The returned frame's ``attrs`` say which labeller made it (``labeller``,
``fingerprint``), whether its numbers are comparable to CheXbert-based ones
(``comparable_to_chexbert``), how many distinct texts were labelled now (``labelled``), and how
many texts were answered without running the labeller (``cache_hits``: from the cache, or a
repeat of a text earlier in the same call).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from gazex_lib.data.labels import CHEXBERT_LABELS

__all__ = ["Labeller", "LABEL_VALUES", "text_key"]

#: The values a labeller writes (and NaN for blank).
LABEL_VALUES = (1.0, 0.0, -1.0)


def text_key(text: str) -> str:
    """The cache key of a text: the SHA-1 of its UTF-8 bytes (hex)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Labeller:
    """Base class: subclasses set :attr:`name`, :attr:`comparable_to_chexbert`, and implement
    :meth:`_label_texts` (distinct texts -> an ``(n, 14)`` float array) and :meth:`fingerprint`.

    :param cache_dir: folder of the on-disk cache (created on first save); ``None`` keeps the
        cache in memory only.
    :param progress: show a tqdm bar while labelling (default True).
    """

    name: str = "labeller"
    comparable_to_chexbert: bool = False

    def __init__(self, *, cache_dir: str | os.PathLike | None = None, progress: bool = True):
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.progress = progress
        self._memory: dict[str, np.ndarray] | None = None

    # --- what subclasses provide ---------------------------------------------------------------
    def fingerprint(self) -> str:
        """A short hash that changes whenever this labeller's answers could change."""
        raise NotImplementedError

    def _label_texts(self, texts: list[str]) -> np.ndarray:
        """Label distinct ``texts``: a float array ``(len(texts), 14)`` in CheXbert order."""
        raise NotImplementedError

    # --- the interface -------------------------------------------------------------------------
    def label(self, texts: Iterable[str] | pd.Series) -> pd.DataFrame:
        """The 14-label frame of ``texts``, one row per text in the given order (a Series keeps
        its index). A text that is not a string raises ``TypeError`` naming its position; an
        empty or blank text is allowed (CheXbert labels it like any other)."""
        index = texts.index if isinstance(texts, pd.Series) else None
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"{self.name}: text {i} is {type(t).__name__} ({t!r}), not a string")
        memory = self._table()
        keys = [text_key(t) for t in texts]
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in memory and k not in todo:
                todo[k] = t
        if todo:
            values = np.asarray(self._label_texts(list(todo.values())), dtype=np.float64)
            if values.shape != (len(todo), len(CHEXBERT_LABELS)):
                raise RuntimeError(f"{self.name} returned shape {values.shape} for {len(todo)} texts")
            memory.update(zip(todo.keys(), values))
            self._save()
        rows = np.stack([memory[k] for k in keys]) if keys else np.empty((0, len(CHEXBERT_LABELS)))
        out = pd.DataFrame(rows, columns=list(CHEXBERT_LABELS),
                           index=index if index is not None else pd.RangeIndex(len(texts)))
        out.attrs.update(labeller=self.name, fingerprint=self.fingerprint(),
                         comparable_to_chexbert=self.comparable_to_chexbert,
                         cache_hits=len(texts) - len(todo), labelled=len(todo))
        return out

    def __call__(self, texts) -> pd.DataFrame:
        return self.label(texts)

    # --- the cache -----------------------------------------------------------------------------
    @property
    def cache_path(self) -> Path | None:
        """``<cache_dir>/<name>-<fingerprint>.parquet``, or None without a cache folder."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{self.name}-{self.fingerprint()}.parquet"

    def _table(self) -> dict[str, np.ndarray]:
        if self._memory is None:
            self._memory = {}
            path = self.cache_path
            if path is not None and path.exists():
                frame = pd.read_parquet(path)
                missing = [c for c in ("text_sha1", *CHEXBERT_LABELS) if c not in frame.columns]
                if missing:
                    raise ValueError(f"{path}: not a label cache (missing columns {missing}); delete it")
                values = frame[list(CHEXBERT_LABELS)].to_numpy(dtype=np.float64)
                self._memory.update(zip(frame["text_sha1"], values))
        return self._memory

    def _save(self) -> None:
        path = self.cache_path
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame(np.stack(list(self._memory.values())), columns=list(CHEXBERT_LABELS))
        frame.insert(0, "text_sha1", list(self._memory.keys()))
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".parquet.tmp")
        os.close(fd)
        try:
            frame.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(fingerprint={self.fingerprint()!r}, cache_dir={self.cache_dir})"
