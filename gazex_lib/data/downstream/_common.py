"""What the downstream readers share: split names, drop accounting, and checked text columns."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gazex_lib.data._csv import DownstreamFormatError, where

__all__ = ["SPLIT_ALIASES", "canonical_splits", "Dropped", "require_choice", "check_choices",
           "mimic_split_of"]

#: Split spellings of the released files -> MIMIC-CXR's names (``train / validate / test``).
SPLIT_ALIASES = {"train": "train", "val": "validate", "valid": "validate", "validate": "validate",
                 "validation": "validate", "test": "test"}


def canonical_splits(values: pd.Series, path: Path, column: str = "split") -> pd.Series:
    """The split column in MIMIC-CXR's names; an unknown value raises naming its row."""
    key = values.astype(str).str.strip().str.lower()
    out = key.map(SPLIT_ALIASES)
    bad = out.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DownstreamFormatError(f"{where(path, i, column)}: unknown split {values.iloc[i]!r}; "
                                    f"expected one of {sorted(SPLIT_ALIASES)}")
    return out


def require_choice(name: str, value, choices) -> None:
    """A reader option outside its documented choices raises ``ValueError`` naming them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def check_choices(values: pd.Series, path: Path, column: str, choices) -> None:
    """Every cell of a text column is one of ``choices`` (the error names the first that is not)."""
    bad = ~values.isin(list(choices)).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DownstreamFormatError(f"{where(path, i, column)}: {values.iloc[i]!r} is not one of "
                                    f"{list(choices)}")


@dataclass
class Dropped:
    """What a reader left out on purpose (``counts``: reason -> items dropped) and what it kept
    but flags (``flagged``: reason -> items), over ``denominator`` items read."""
    dataset: str
    denominator: int = 0
    counts: Counter = field(default_factory=Counter)
    flagged: Counter = field(default_factory=Counter)

    def add(self, reason: str, n: int = 1) -> None:
        if n:
            self.counts[reason] += int(n)

    def flag(self, reason: str, n: int = 1) -> None:
        if n:
            self.flagged[reason] += int(n)

    @property
    def total(self) -> int:
        return int(sum(self.counts.values()))

    def frame(self) -> pd.DataFrame:
        """One row per reason: ``dataset, reason, action`` (``dropped`` or ``kept``), ``count``,
        ``denominator`` (the quality-report shape)."""
        rows = [{"dataset": self.dataset, "reason": r, "action": action, "count": c,
                 "denominator": self.denominator}
                for action, counter in (("dropped", self.counts), ("kept", self.flagged))
                for r, c in sorted(counter.items())]
        return pd.DataFrame(rows, columns=["dataset", "reason", "action", "count", "denominator"])

    def __str__(self) -> str:
        parts = ", ".join(f"{r} {c}" for r, c in sorted(self.counts.items())) or "nothing"
        flags = "".join(f"; kept {r} {c}" for r, c in sorted(self.flagged.items()))
        return f"{self.dataset}: dropped {parts} of {self.denominator}{flags}"


def mimic_split_of(jpg_root: Path | None):
    """The MIMIC-CXR-JPG split table (``dicom_id, study_id, subject_id, split``), or None
    when ``jpg_root`` is None, is not a folder, or has no split table."""
    if jpg_root is None:
        return None
    from gazex_lib.data.mimic import MimicCxrJpg

    try:
        return MimicCxrJpg(jpg_root).split
    except FileNotFoundError:
        return None

