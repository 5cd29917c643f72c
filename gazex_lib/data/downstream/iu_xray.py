"""IU X-ray as R2Gen released it: ``iu-xray/annotation.json`` beside ``iu-xray/images/``.

IU X-ray (Demner-Fushman et al. 2016, OpenI) is not on PhysioNet. R2Gen's preprocessed release
(linked from the zhjohnchan/R2Gen README) is what the report-generation literature uses:
``{"train" | "val" | "test": [{"id": "CXR2384_IM-0942", "report": "...", "image_path":
["CXR2384_IM-0942/0.png", "CXR2384_IM-0942/1.png"], "split": "train"}, ...]}`` with the PNGs
under ``images/``. GazeX evaluates on it zero-shot, so every split is read and kept (the
``split`` column says where each item was).

**The frontal image.** A single-image model gets ``image_path[frontal_index]``
(``downstream.iu_frontal_index``; the profiles use 0: the first image R2Gen lists, the frontal
film of the pair in its release). The release carries no view metadata, so the files cannot confirm it;
the switch exists for a copy that orders the pair differently.

**Validation.** The error names the file, the split key, the item's position and the field
(``annotation.json: "val"[12], field 'image_path': ...``). **Dropped, counted by reason:**
``empty_report``, ``no_frontal_image`` (fewer images than ``frontal_index + 1``),
``missing_image_file`` (the frontal PNG is not under ``images/``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gazex_lib.data import schema
from gazex_lib.data._csv import DownstreamFormatError
from gazex_lib.data.downstream._common import SPLIT_ALIASES, Dropped
from gazex_lib.data.downstream.reports import clean_report

__all__ = ["IuXray", "load_iu_xray"]


@dataclass
class IuXray:
    """``frame``: one row per item: ``id, split`` (MIMIC's names), ``report``, ``image``
    (the frontal PNG's path), ``other_images`` (the rest, ``;``-joined); ``dropped``."""
    frame: pd.DataFrame
    dropped: Dropped
    root: Path

    def __len__(self) -> int:
        return len(self.frame)


def _where(path: Path, key: str, i: int, field: str) -> str:
    return f"{path}: {key!r}[{i}], field {field!r}"


def _check_item(path: Path, key: str, i: int, item) -> None:
    if not isinstance(item, dict):
        raise DownstreamFormatError(f"{path}: {key!r}[{i}] is {type(item).__name__}, not an object")
    missing = [k for k in schema.IU_ITEM_KEYS if k not in item]
    if missing:
        raise DownstreamFormatError(f"{path}: {key!r}[{i}] lacks field(s) {missing}; expected "
                                    f"{list(schema.IU_ITEM_KEYS)}")
    for k in ("id", "report", "split"):
        if not isinstance(item[k], str):
            raise DownstreamFormatError(f"{_where(path, key, i, k)}: {item[k]!r} is not a string")
    paths = item["image_path"]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise DownstreamFormatError(f"{_where(path, key, i, 'image_path')}: {paths!r} is not a "
                                    "list of strings")
    if item["split"] != key:
        raise DownstreamFormatError(f"{_where(path, key, i, 'split')}: {item['split']!r} under "
                                    f"the key {key!r}")


def load_iu_xray(root: str | Path, *, frontal_index: int, cleaning: str,
                 check_images: bool = True) -> IuXray:
    """The IU X-ray release under ``root`` (``iu-xray/``; module docstring).

    :param frontal_index: which ``image_path`` entry is the frontal film
        (``downstream.iu_frontal_index``).
    :param cleaning: ``none`` or ``r2gen`` (R2Gen's ``clean_report_iu_xray``).
    :param check_images: drop items whose frontal PNG is missing (counted).
    """
    root = Path(root)
    path = root / schema.IU_ANNOTATION_FILE
    if not path.is_file():
        raise FileNotFoundError(f"IU X-ray: {path} not found (R2Gen's annotation.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DownstreamFormatError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise DownstreamFormatError(f"{path}: expected an object with the keys {list(schema.IU_SPLITS)}")
    unknown = [k for k in data if k not in schema.IU_SPLITS]
    if unknown:
        raise DownstreamFormatError(f"{path}: unknown split key(s) {unknown}; expected {list(schema.IU_SPLITS)}")
    images = root / schema.IU_IMAGES_DIR
    rows, seen = [], {}
    dropped = Dropped("iu-xray", denominator=sum(len(v) if isinstance(v, list) else 0 for v in data.values()))
    for key, items in data.items():
        if not isinstance(items, list):
            raise DownstreamFormatError(f"{path}: {key!r} is {type(items).__name__}, not a list")
        for i, item in enumerate(items):
            _check_item(path, key, i, item)
            if item["id"] in seen:
                raise DownstreamFormatError(f"{_where(path, key, i, 'id')}: duplicate id {item['id']!r} "
                                            f"(first at {seen[item['id']]})")
            seen[item["id"]] = f"{key!r}[{i}]"
            if not item["report"].strip():
                dropped.add("empty_report")
                continue
            paths = item["image_path"]
            if len(paths) <= frontal_index:
                dropped.add("no_frontal_image")
                continue
            if check_images and not (images / paths[frontal_index]).is_file():
                dropped.add("missing_image_file")
                continue
            rows.append({"id": item["id"], "split": SPLIT_ALIASES[key],
                         "report": clean_report(item["report"], cleaning, dataset="iu"),
                         "image": paths[frontal_index],
                         "other_images": ";".join(p for j, p in enumerate(paths) if j != frontal_index)})
    frame = pd.DataFrame(rows, columns=["id", "split", "report", "image", "other_images"])
    return IuXray(frame=frame, dropped=dropped, root=root)
