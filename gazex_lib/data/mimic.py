"""MIMIC-CXR-JPG images and tables, and MIMIC-CXR sectioned reports, in their PhysioNet layouts.

* :func:`resolve_image_path` maps a REFLACX ``image`` (a MIMIC-CXR ``.dcm`` path such as
  ``.../physionet.org/files/mimic-cxr/2.0.0/files/p14/p14276052/s56035498/<dicom_id>.dcm``)
  to the JPG of MIMIC-CXR-JPG: ``<jpg_root>/files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg``,
  or ``<jpg_root>/2.1.0/files/...`` (the layout the official GazeX scripts expect).
* :func:`load_image` reads a greyscale uint8 array, optionally resized. **Filter:**
  downscaling uses ``PIL.Image.Resampling.BOX`` (area averaging, the PIL counterpart of the
  official code's ``cv2.INTER_AREA``; identical up to rounding for integer factors);
  upscaling uses ``BILINEAR`` (what ``INTER_AREA`` does when enlarging). ``scale=0.25``
  gives ``(H // 4, W // 4)`` like the official ``cv2.resize(img, (W // 4, H // 4))``.
* :class:`MimicCxrJpg` reads the split / CheXpert / metadata tables (``.csv.gz`` or ``.csv``).
* :func:`load_sectioned_reports` reads ``mimic_cxr_sectioned.csv`` written by MIT-LCP's
  ``create_section_files.py``.
"""
from __future__ import annotations

import gzip

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from gazex_lib.data import labels as _labels
from gazex_lib.data import schema
from gazex_lib.data._csv import (MimicFormatError, _check_columns, _parse, parse_int, scan_table,
                                 where)

__all__ = [
    "resolve_image_path", "jpg_relative_path", "load_image", "MimicCxrJpg",
    "load_sectioned_reports", "find_table", "read_label_table", "MimicFormatError", "RESAMPLE_DOWN", "RESAMPLE_UP",
]

RESAMPLE_DOWN = Image.Resampling.BOX
RESAMPLE_UP = Image.Resampling.BILINEAR

_IMAGE_RE = re.compile(r"(?:^|/)(p\d{2})/(p\d{8})/(s\d{8})/([^/]+)\.(?:dcm|jpg)$", re.IGNORECASE)

#: Sub-folders of ``jpg_root`` tried for ``files/``: the dataset root, or its version folder.
JPG_LAYOUTS = ("", "2.1.0")


def jpg_relative_path(image: str | Path) -> Path:
    """``files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg`` for a REFLACX/MIMIC image path.

    Accepts any prefix (or none), ``/`` or ``\\`` separators, ``.dcm`` or ``.jpg``.
    Raises ``ValueError`` naming the input when no ``pXX/pXXXXXXXX/sXXXXXXXX/<name>.dcm``
    tail is found, or when the two patient folders disagree.
    """
    text = str(image).strip().replace("\\", "/")
    m = _IMAGE_RE.search(text)
    if m is None:
        raise ValueError(f"cannot parse MIMIC-CXR image path {str(image)!r}: expected it to end "
                         "in pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.dcm")
    group, patient, study, dicom = m.groups()
    if patient[:3] != group:
        raise ValueError(f"cannot parse MIMIC-CXR image path {str(image)!r}: patient folder "
                         f"{patient!r} is not inside group folder {group!r}")
    return Path("files", group, patient, study, f"{dicom}.jpg")


def resolve_image_path(image: str | Path, jpg_root: str | Path, *, must_exist: bool = False) -> Path:
    """The MIMIC-CXR-JPG file for a REFLACX ``image`` (a ``.dcm`` path).

    Layouts tried: ``jpg_root/files/...`` then ``jpg_root/2.1.0/files/...``. The first whose
    file exists wins; if none exists, the first layout whose ``files/`` folder exists, else
    ``jpg_root/files/...``. With ``must_exist=True`` a missing file raises
    ``FileNotFoundError`` naming the REFLACX path and every JPG path tried.
    """
    rel = jpg_relative_path(image)
    root = Path(jpg_root).expanduser()
    candidates = [root / sub / rel if sub else root / rel for sub in JPG_LAYOUTS]
    for path in candidates:
        if path.is_file():
            return path
    if must_exist:
        tried = " or ".join(str(p) for p in candidates)
        raise FileNotFoundError(f"MIMIC-CXR-JPG image for REFLACX image {str(image)!r} not found: "
                                f"expected {tried}")
    for sub, path in zip(JPG_LAYOUTS, candidates):
        if (root / sub / "files").is_dir():
            return path
    return candidates[0]


def _target_size(width: int, height: int, scale: float | None,
                 size: tuple[int, int] | None) -> tuple[int, int]:
    if scale is not None and size is not None:
        raise ValueError("give scale or size, not both")
    if size is not None:
        w, h = (int(v) for v in size)
        if w < 1 or h < 1:
            raise ValueError(f"size must be positive (width, height), got {size!r}")
        return w, h
    if scale is None or scale == 1:
        return width, height
    if not scale > 0 or not math.isfinite(scale):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    # floor, like W // 4 for scale=0.25 (tiny epsilon so 1/3 * 300 is 100, not 99)
    return (max(1, int(math.floor(width * scale + 1e-9))),
            max(1, int(math.floor(height * scale + 1e-9))))


def load_image(path: str | Path, scale: float | None = None,
               size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an image as a 2-D uint8 greyscale array of shape (H, W), optionally resized.

    ``scale`` multiplies both sides (floored: ``scale=0.25`` -> ``(H // 4, W // 4)``);
    ``size`` is ``(width, height)`` as PIL takes it. Downscaling uses ``BOX`` (area
    average, like ``cv2.INTER_AREA``), upscaling ``BILINEAR``. 16-bit images are mapped to
    8 bits by ``round(v / 257)``; colour images are converted with PIL's ``"L"`` (ITU-R 601-2).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    with Image.open(path) as im:
        im.load()
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(im, dtype=np.float64)
            im = Image.fromarray(np.clip(np.round(arr / 257.0), 0, 255).astype(np.uint8), "L")
        elif im.mode != "L":
            im = im.convert("L")
        w, h = _target_size(im.width, im.height, scale, size)
        if (w, h) != (im.width, im.height):
            down = w <= im.width and h <= im.height
            im = im.resize((w, h), resample=RESAMPLE_DOWN if down else RESAMPLE_UP)
        return np.asarray(im, dtype=np.uint8).copy()


# --- tables ------------------------------------------------------------------------------

def find_table(root: str | Path, name: str, *, subdirs: tuple[str, ...] = ("", "2.1.0", "2.0.0")) -> Path:
    """``root/<sub>/name``, accepting the gzipped (``.csv.gz``) or plain (``.csv``) file.

    Raises ``FileNotFoundError`` listing every path tried.
    """
    root = Path(root).expanduser()
    base = name[:-3] if name.endswith(".gz") else name
    tried = []
    for sub in subdirs:
        folder = root / sub if sub else root
        for candidate in (base + ".gz", base):
            path = folder / candidate
            tried.append(str(path))
            if path.is_file():
                return path
    raise FileNotFoundError(f"{name} not found; tried {tried}")


def _read_table(path: Path, required: list[str], **kwargs) -> pd.DataFrame:
    """A MIMIC table (``.csv`` or ``.csv.gz``) through the shared strict layer
    (:func:`gazex_lib.data._csv.scan_table`: row shape, header, encoding, line breaks, physical
    lines), then pandas with ``kwargs``."""
    try:
        raw = Path(path).read_bytes()
        data = gzip.decompress(raw) if str(path).endswith(".gz") else raw
    except (OSError, EOFError) as exc:
        raise MimicFormatError(f"{path}: not a readable (gzipped) CSV file: {exc}") from None
    scan = scan_table(path, error=MimicFormatError, data=data)
    _check_columns(path, scan.header, required, MimicFormatError)
    df = _parse(scan, **kwargs)
    df.columns = scan.header
    return df


def _int_columns(df: pd.DataFrame, path: Path, columns: list[str]) -> pd.DataFrame:
    for col in columns:
        df[col] = parse_int(df[col].astype(str), path, col, error=MimicFormatError)
    return df


def read_label_table(path: str | Path) -> pd.DataFrame:
    """A CheXpert-format label table (MIMIC-CXR-JPG's ``mimic-cxr-2.0.0-chexpert.csv.gz``, or a
    CheXbert CSV in its layout): ``subject_id, study_id`` (int64) and the 14 labels (float64:
    1, 0, -1 uncertain, NaN blank). A value outside those raises, naming file, row and column."""
    path = Path(path)
    cols = ["subject_id", "study_id", *_labels.CHEXBERT_LABELS]
    df = _read_table(path, cols)
    for col in _labels.CHEXBERT_LABELS:
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = (vals.notna() & ~vals.isin([1.0, 0.0, -1.0])) | (vals.isna() & df[col].notna())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise MimicFormatError(f"{where(path, i, col)}: {df[col].iloc[i]!r} is not one "
                                   "of 1, 0, -1 or empty")
        df[col] = vals.astype(np.float64)
    return _int_columns(df[cols].copy(), path, ["subject_id", "study_id"])


class MimicCxrJpg:
    """MIMIC-CXR-JPG 2.x tables under ``root`` (``mimic-cxr-jpg/``, or its ``2.1.0/`` folder).

    ``.split``: ``dicom_id, study_id, subject_id, split`` (ids int64).
    ``.chexpert``: ``subject_id, study_id`` + the 14 labels, float64 (1, 0, -1 uncertain,
    NaN not mentioned) exactly as PhysioNet ships them.
    ``.metadata``: the DICOM metadata table (``dicom_id, ..., ViewPosition, Rows, Columns, ...``).
    Tables load on first access.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise FileNotFoundError(f"MIMIC-CXR-JPG root {self.root} is not a directory")
        self._split = self._chexpert = self._metadata = None

    def __repr__(self) -> str:
        return f"MimicCxrJpg(root={str(self.root)!r})"

    @property
    def split(self) -> pd.DataFrame:
        if self._split is None:
            path = find_table(self.root, schema.MIMIC_SPLIT_FILE)
            df = _read_table(path, schema.MIMIC_SPLIT_COLUMNS, dtype=str, keep_default_na=False)
            df = _int_columns(df[schema.MIMIC_SPLIT_COLUMNS].copy(), path, ["study_id", "subject_id"])
            bad = ~df["split"].isin(schema.SPLITS).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise MimicFormatError(f"{where(path, i, 'split')}: {df['split'].iloc[i]!r} is not "
                                       f"one of {list(schema.SPLITS)}")
            self._split = df
        return self._split

    @property
    def chexpert(self) -> pd.DataFrame:
        if self._chexpert is None:
            self._chexpert = read_label_table(find_table(self.root, schema.MIMIC_CHEXPERT_FILE))
        return self._chexpert

    @property
    def metadata(self) -> pd.DataFrame:
        if self._metadata is None:
            path = find_table(self.root, schema.MIMIC_METADATA_FILE)
            self._metadata = _read_table(path, schema.MIMIC_METADATA_COLUMNS,
                                         dtype={"dicom_id": str})
        return self._metadata

    def image_path(self, dicom_id: str, *, must_exist: bool = False) -> Path:
        """The JPG of ``dicom_id`` (looked up in ``.split`` for its subject and study)."""
        rows = self.split[self.split["dicom_id"] == dicom_id]
        if len(rows) != 1:
            raise KeyError(f"dicom_id {dicom_id!r} found {len(rows)} times in the split table "
                           f"of {self.root}; expected once")
        r = rows.iloc[0]
        subject = f"p{int(r['subject_id'])}"
        image = f"{subject[:3]}/{subject}/s{int(r['study_id'])}/{dicom_id}.dcm"
        return resolve_image_path(image, self.root, must_exist=must_exist)


def load_sectioned_reports(mimic_cxr_root: str | Path) -> pd.DataFrame:
    """``mimic_cxr_sectioned.csv`` (or ``.csv.gz``) under ``mimic_cxr_root`` (also accepted:
    the file itself). Columns ``study, impression, findings, last_paragraph, comparison``;
    empty sections are NaN; ``study`` (e.g. ``s50000014``) must be present and unique.
    """
    root = Path(mimic_cxr_root).expanduser()
    path = root if root.is_file() else find_table(root, schema.MIMIC_SECTIONED_FILE,
                                                  subdirs=("", "2.0.0", "files"))
    cols = list(schema.MIMIC_SECTIONED_COLUMNS)
    df = _read_table(path, cols, dtype=str, keep_default_na=False, na_values=[""])[cols].copy()
    missing = df["study"].isna().to_numpy()
    if missing.any():
        raise MimicFormatError(f"{where(path, int(np.flatnonzero(missing)[0]), 'study')}: "
                               "missing study id")
    dup = df["study"].duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise MimicFormatError(f"{where(path, i, 'study')}: duplicate study {df['study'].iloc[i]!r}")
    return df.astype(object)
