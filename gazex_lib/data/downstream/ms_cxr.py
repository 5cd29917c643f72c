"""MS-CXR phrase grounding (Boecking et al. 2022): ``ms-cxr/MS_CXR_Local_Alignment_v1.1.0.csv``.

One row per phrase-box pair: ``dicom_id, category_name, label_text, path, x, y, w, h,
image_width, image_height, split``. The box is the top-left corner ``(x, y)`` plus width and
height ``(w, h)`` in the original image's pixels; ``path`` is the MIMIC-CXR file
(``files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.dcm``). Converting a box to what the model sees is
:func:`gazex_lib.tasks.coords.box_to_model` (tested round trip).

**The split** (``split_policy``; ``downstream.ms_cxr_split``). MS-CXR's own ``split`` column
disagrees with MIMIC-CXR's official split for many images (one public analysis found 349 of
1,227 dicoms inconsistent), and a model fine-tuned on MIMIC-CXR's train split must not be
tested on its images. Policies:

* ``consistent`` (both profiles): keep the pairs whose released split equals MIMIC-CXR's official
  split of the image; the others are dropped and counted (``split_inconsistent``);
* ``mimic``: MIMIC-CXR's official split for every pair (the released column ignored);
* ``released``: the released column as is (for comparison with papers that used it).

``consistent`` and ``mimic`` need the MIMIC-CXR-JPG split table; a pair whose image is not in it
is dropped (``not_in_mimic_split``). :meth:`MsCxr.split_counts` gives n per split and
:meth:`MsCxr.require_test_pairs` refuses a test set too small to say anything.

**Validation** (errors name file, row, line and column): the columns by name; numbers finite;
``w, h > 0``; ``image_width, image_height`` positive integers; ``category_name`` one of the eight
MS-CXR categories; ``path`` under ``files/`` and ending in the row's ``dicom_id``. **Dropped,
counted:** ``box_outside_image`` (a box reaching more than 1 px beyond the image), and the split
reasons above.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazex_lib.data import schema
from gazex_lib.data._csv import DownstreamFormatError, parse_float, parse_int, read_text_table, where
from gazex_lib.data.downstream._common import Dropped, canonical_splits, check_choices, require_choice

__all__ = ["SPLIT_POLICIES", "MsCxr", "load_ms_cxr", "SplitTooSmallError"]

SPLIT_POLICIES = ("consistent", "mimic", "released")
_TOLERANCE_PX = 1.0


class SplitTooSmallError(ValueError):
    """A test split with fewer pairs than the analysis needs."""


@dataclass
class MsCxr:
    """``frame``: the pairs kept, with ``split`` (the policy's, MIMIC's names),
    ``released_split``, ``mimic_split`` (NaN without the table), the box ``x, y, w, h`` (float,
    original px) and image size; ``dropped``; ``split_policy``."""
    frame: pd.DataFrame
    dropped: Dropped
    split_policy: str

    def __len__(self) -> int:
        return len(self.frame)

    def split_counts(self) -> dict:
        """Pairs and images per split."""
        return {s: {"pairs": int((self.frame["split"] == s).sum()),
                    "images": int(self.frame.loc[self.frame["split"] == s, "dicom_id"].nunique())}
                for s in schema.SPLITS}

    def require_test_pairs(self, minimum: int) -> None:
        """Raise :class:`SplitTooSmallError` when the test split has fewer than ``minimum`` pairs."""
        n = self.split_counts()["test"]["pairs"]
        if n < minimum:
            raise SplitTooSmallError(f"MS-CXR test split ({self.split_policy} policy) has {n} pairs, "
                                     f"fewer than the {minimum} the analysis needs "
                                     "(downstream.min_test_pairs)")


def _read(path: Path) -> pd.DataFrame:
    raw = read_text_table(path, schema.MS_CXR_COLUMNS, error=DownstreamFormatError)
    df = pd.DataFrame({"dicom_id": raw["dicom_id"].str.strip(), "category_name": raw["category_name"],
                       "label_text": raw["label_text"], "path": raw["path"].str.strip()})
    for col in ("x", "y", "w", "h"):
        df[col] = parse_float(raw[col], path, col, allow_missing=False, error=DownstreamFormatError)
    for col in ("w", "h"):
        bad = df[col].to_numpy() <= 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DownstreamFormatError(f"{where(path, i, col)}: box {col} {df[col].iloc[i]:g} must be > 0")
    for col in ("image_width", "image_height"):
        df[col] = parse_int(raw[col], path, col, low=1, high=schema.IMAGE_SIZE_RANGE[1],
                            error=DownstreamFormatError)
    check_choices(df["category_name"], path, "category_name", schema.MS_CXR_CATEGORIES)
    empty = (df["label_text"].str.strip() == "").to_numpy() | (df["dicom_id"] == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        col = "dicom_id" if df["dicom_id"].iloc[i] == "" else "label_text"
        raise DownstreamFormatError(f"{where(path, i, col)}: empty field")
    stem = df["path"].str.rsplit("/", n=1).str[-1].str.rsplit(".", n=1).str[0]
    bad = (~df["path"].str.startswith("files/") | (stem != df["dicom_id"])).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DownstreamFormatError(f"{where(path, i, 'path')}: {df['path'].iloc[i]!r} is not "
                                    f"files/.../{df['dicom_id'].iloc[i]}.dcm")
    df["released_split"] = canonical_splits(raw["split"], path)
    return df


def load_ms_cxr(root: str | Path, *, split_policy: str, mimic_split: pd.DataFrame | None = None) -> MsCxr:
    """MS-CXR under ``root`` (``ms-cxr/``; module docstring).

    :param mimic_split: MIMIC-CXR-JPG's split table (``MimicCxrJpg(...).split``), needed by
        the ``consistent`` and ``mimic`` policies.
    :param split_policy: ``consistent``, ``mimic`` or ``released`` (``downstream.ms_cxr_split``).
    """
    require_choice("split_policy", split_policy, SPLIT_POLICIES)
    path = Path(root) / schema.MS_CXR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"MS-CXR: {path} not found")
    df = _read(path)
    dropped = Dropped("ms-cxr", denominator=len(df))
    outside = ((df["x"] < -_TOLERANCE_PX) | (df["y"] < -_TOLERANCE_PX)
               | (df["x"] + df["w"] > df["image_width"] + _TOLERANCE_PX)
               | (df["y"] + df["h"] > df["image_height"] + _TOLERANCE_PX))
    dropped.add("box_outside_image", int(outside.sum()))
    df = df[~outside]
    if mimic_split is None:
        if split_policy != "released":
            raise ValueError(f"MS-CXR split policy {split_policy!r} needs MIMIC-CXR-JPG's split table "
                             "(mimic_split=...); use split_policy='released' without it")
        df = df.assign(mimic_split=np.nan)
    else:
        lookup = mimic_split.drop_duplicates("dicom_id").set_index("dicom_id")["split"]
        df = df.assign(mimic_split=df["dicom_id"].map(lookup))
        if split_policy != "released":
            missing = df["mimic_split"].isna()
            dropped.add("not_in_mimic_split", int(missing.sum()))
            df = df[~missing]
    if split_policy == "consistent":
        bad = df["released_split"] != df["mimic_split"]
        dropped.add("split_inconsistent", int(bad.sum()))
        df = df[~bad]
    df = df.assign(split=df["mimic_split"] if split_policy == "mimic" else df["released_split"])
    cols = ["dicom_id", "category_name", "label_text", "path", "x", "y", "w", "h", "image_width",
            "image_height", "split", "released_split", "mimic_split"]
    return MsCxr(frame=df[cols].reset_index(drop=True), dropped=dropped, split_policy=split_policy)
