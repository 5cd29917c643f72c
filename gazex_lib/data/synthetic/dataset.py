"""Orchestration: plan the dataset, then stream image by image, reading by reading.

Randomness: one plan RNG (``SeedSequence([seed, 0])``) fixes ids, phases, readers, splits and
discards; each image draws its anatomy, findings, pixels and MIMIC rows from
``SeedSequence([seed, 1, image_index])``; each reading from ``SeedSequence([seed, 2,
reading_index])``, and which of its findings it dictates without their location from
``SeedSequence([seed, 3, reading_index])`` (:func:`unlocated_findings`). Readings are therefore
independent and reproducible, and memory holds one image and one reading at a time (plus one
small row per reading for the sorted tables).

Truth: ``synthetic_truth.json`` (header: version, seed, config, readers, multi-reader
agreement, counts) and two JSON-lines files streamed as we go
(``synthetic_truth_readings.jsonl``, ``synthetic_truth_images.jsonl``); :func:`load_truth`
joins them into one dict.
"""
from __future__ import annotations

import itertools
import json
import math
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from tqdm import tqdm

from gazex_lib.data import schema
from gazex_lib.data.labels import phase_labels

from . import config as C
from .anatomy import choose_kinds, make_anatomy, plant_findings
from .config import SyntheticConfig
from .gaze import gaze_strings
from .downstream import chexpert_from_labels, make_downstream
from .mimic import CHEXPERT_COLUMNS, metadata_row, split_row, study_sections
from .phantom import encode_jpeg, render
from .radiologists import READER_NAMES, READERS
from .reading import Reading, simulate_reading
from .writer import save_bytes, save_csv, save_csv_fast, save_csv_gz, save_csv_lf, save_text

TRUTH_FILE = "synthetic_truth.json"
TRUTH_READINGS_FILE = "synthetic_truth_readings.jsonl"
TRUTH_IMAGES_FILE = "synthetic_truth_images.jsonl"


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def phase_counts(n: int, multi_reader_images: tuple[int, int] | None = None) -> tuple[int, int, int]:
    """``(phase-1 images, phase-2 images, phase-3 readings)`` for ``n`` readings, REFLACX-like
    (3032 -> 59, 50, 2487); fewer than 15 readings are all phase 3. ``multi_reader_images``
    fixes the first two explicitly."""
    if multi_reader_images is not None:
        k1, k2 = multi_reader_images
        if C.READERS_PER_MULTI_IMAGE * (k1 + k2) > n:
            raise ValueError(f"{k1} + {k2} multi-reader images need more than n_readings={n}")
        return k1, k2, n - C.READERS_PER_MULTI_IMAGE * (k1 + k2)
    if n < C.MIN_READINGS_FOR_MULTI:
        return 0, 0, n
    k = C.READERS_PER_MULTI_IMAGE
    k1 = min(99, max(1, _round_half_up(n * C.PHASE1_FRACTION / k)))
    k2 = min(99, max(1, _round_half_up(n * C.PHASE2_FRACTION / k)))
    return k1, k2, n - k * (k1 + k2)


def split_counts(m: int, fractions) -> list[int]:
    """``m`` items apportioned to the splits in ``fractions`` (largest remainder; ties to the
    earlier split): the counts sum to ``m`` and each is within 1 of ``fraction * m``."""
    quota = np.asarray(fractions, dtype=float) * m
    counts = np.floor(quota + 1e-9).astype(int)
    rest = quota - counts
    for j in sorted(range(len(counts)), key=lambda j: (-rest[j], j))[: m - int(counts.sum())]:
        counts[j] += 1
    return counts.tolist()


def _draw_splits(rng: np.random.Generator, phases: list[int], fractions, every_split: bool) -> np.ndarray:
    """Split index (into ``schema.SPLITS``) of each image: the phase-3 images and the
    multi-reader images are each apportioned by :func:`split_counts` and shuffled. With
    ``every_split``, a split with a positive share but no image takes one from the largest
    split (a phase-3 image when it has one)."""
    phases = np.asarray(phases)
    splits = np.zeros(len(phases), dtype=int)
    for group in (phases == 3, phases != 3):
        idx = np.flatnonzero(group)
        labels = np.repeat(np.arange(len(fractions)), split_counts(len(idx), fractions))
        splits[idx] = labels[rng.permutation(len(idx))]
    if every_split:
        for s in range(len(fractions)):
            if fractions[s] > 0 and not (splits == s).any():
                counts = np.bincount(splits, minlength=len(fractions))
                donors = np.flatnonzero(splits == int(np.argmax(counts)))
                p3 = donors[phases[donors] == 3]
                donors = p3 if len(p3) else donors
                splits[donors[int(rng.integers(len(donors)))]] = s
    return splits


def plan_dataset(n: int, cfg: SyntheticConfig, seed: int) -> tuple[list[dict], list[dict]]:
    """Images and readings (ids, phases, readers, MIMIC ids, splits, discards); no pixels.

    Splits: ``cfg.split_fractions`` of the phase-3 images and of the multi-reader images
    (:func:`split_counts`, shuffled); from ``MIN_READINGS_ALL_SPLITS`` readings on, every split
    with a positive share has an image."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    k1, k2, n3 = phase_counts(n, cfg.multi_reader_images)
    images: list[dict] = []
    for phase, k in ((1, k1), (2, k2)):
        images += [{"phase": phase, "trial": t, "readers": list(READER_NAMES)} for t in range(1, k + 1)]
    images += [{"phase": 3, "trial": None, "readers": [READER_NAMES[int(rng.integers(len(READER_NAMES)))]]}
               for _ in range(n3)]
    m = len(images)
    subjects = rng.choice(10_000_000, size=m, replace=False) + 10_000_000
    studies = rng.choice(10_000_000, size=m, replace=False) + 50_000_000
    dicoms: set[str] = set()
    names = list(schema.SPLITS)
    splits = _draw_splits(rng, [im["phase"] for im in images], cfg.split_fractions,
                          n >= C.MIN_READINGS_ALL_SPLITS)
    views = rng.choice(["PA", "AP"], size=m, p=[0.6, 0.4])
    for i, im in enumerate(images):
        while True:
            d = "-".join(f"{int(v):08x}" for v in rng.integers(0, 2**32, size=5))
            if d not in dicoms:
                dicoms.add(d)
                break
        sid, study = int(subjects[i]), int(studies[i])
        folder = f"files/p{str(sid)[:2]}/p{sid}/s{study}"
        im.update(index=i, subject_id=sid, study_id=study, dicom_id=d, split=names[int(splits[i])],
                  view=str(views[i]), folder=folder,
                  image=f"physionet.org/files/mimic-cxr/2.0.0/{folder}/{d}.dcm")
    r_values = rng.choice(1_000_000, size=n, replace=False)
    readings: list[dict] = []
    for im in images:
        for reader in im["readers"]:
            r = int(r_values[len(readings)])
            rid = f"{schema.reflacx_id_prefix(im['phase'], im['trial'])}R{r:06d}"
            readings.append({"index": len(readings), "id": rid, "reader": reader, "image": im["index"],
                             "phase": im["phase"], "trial": im["trial"], "discarded": False})
    # discards: only multi-reader readings (as in REFLACX), at most MAX_DISCARDS_PER_IMAGE per image
    n_disc = _round_half_up(n * cfg.discard_fraction)
    if cfg.discard_fraction > 0 and n >= 20:
        n_disc = max(1, n_disc)
    per_image: dict[int, int] = {}
    for j in rng.permutation(len(readings)):
        if n_disc <= 0:
            break
        rd = readings[int(j)]
        if rd["phase"] == 3 or per_image.get(rd["image"], 0) >= C.MAX_DISCARDS_PER_IMAGE:
            continue
        rd["discarded"] = True
        per_image[rd["image"]] = per_image.get(rd["image"], 0) + 1
        n_disc -= 1
    # Guarantee the rare cases the readers must count (trailing words, a sentence without
    # gaze) at least once in any dataset of C.MIN_READINGS_FOR_EDGE_CASES readings or more.
    for rd in readings:
        rd["force_trailing"] = rd["force_no_gaze"] = False
    phase3 = [rd for rd in readings if rd["phase"] == 3 and not rd["discarded"]]
    if n >= C.MIN_READINGS_FOR_EDGE_CASES and len(phase3) >= 2:
        phase3[-1]["force_trailing"] = True
        phase3[-2]["force_no_gaze"] = True
    return images, readings


def unlocated_findings(seed: int, reading_index: int, n_findings: int, fraction: float) -> frozenset[int]:
    """The findings (indices) reading ``reading_index`` dictates without their location: one
    uniform per finding from ``SeedSequence([seed, 3, reading_index])``, below ``fraction``.
    Its own stream, so the reading's other draws do not depend on ``fraction``, and a larger
    ``fraction`` only adds unlocated sentences."""
    u = np.random.default_rng(np.random.SeedSequence([seed, 3, reading_index])).random(n_findings)
    return frozenset(int(i) for i in np.flatnonzero(u < fraction))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(type(obj).__name__)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _int(v: float) -> str:
    return str(int(np.round(v)))


def _write_reading(root: Path, rid: str, phase: int, rd: Reading) -> int:
    """The per-reading REFLACX files; returns bytes written."""
    main = root / schema.REFLACX_DIR / "main_data" / rid
    gz_dir = root / schema.REFLACX_DIR / "gaze_data" / rid
    main.mkdir(parents=True, exist_ok=True)
    gz_dir.mkdir(parents=True, exist_ok=True)
    files = schema.READING_FILES
    n = save_csv(pd.DataFrame([[_int(v) for v in rd.chest_box]], columns=schema.CHEST_BOX_COLUMNS),
                 main / files["chest_box"])
    labels = sorted(phase_labels(phase))
    rows = []
    for e in rd.ellipses:
        lab = rd.truth["findings"][[f["finding"] for f in rd.truth["findings"]].index(e["finding"])]["reflacx_label"]
        rows.append([_int(e["xmin"]), _int(e["ymin"]), _int(e["xmax"]), _int(e["ymax"]), int(e["certainty"])]
                    + [lab == c for c in labels])
    n += save_csv(pd.DataFrame(rows, columns=schema.ELLIPSE_COLUMNS + labels), main / files["ellipses"])
    if rd.gaze is not None:
        n += save_csv(rd.fixations, main / files["fixations"])
        n += save_csv(rd.words, main / files["words"])
        n += save_text(main / files["transcription"], rd.text)
        n += save_csv_fast(gz_dir / schema.GAZE_FILE, schema.GAZE_COLUMNS, gaze_strings(rd.gaze))
    return n


def _agreement(image: dict, truths: list[dict]) -> dict:
    """Who reported which planted finding, and how far apart their finding fixation centroids are."""
    out = {"phase": image["phase"], "trial": image["trial"], "readings": {}, "discarded_readers": [],
           "reported": {}, "centroids_px": {}, "pairwise_centroid_distance_px": {}}
    for t in truths:
        out["readings"][t["reader"]] = t["id"]
        if t["discarded"]:
            out["discarded_readers"].append(t["reader"])
        for f in t["findings"]:
            key = f"f{f['finding']}"
            out["reported"].setdefault(key, []).append(t["reader"])
            if f["fixation_centroid_px"] is not None:
                out["centroids_px"].setdefault(key, {})[t["reader"]] = f["fixation_centroid_px"]
    for key, cents in out["centroids_px"].items():
        out["pairwise_centroid_distance_px"][key] = {
            f"{a}-{b}": round(math.dist(cents[a], cents[b]), 2) for a, b in itertools.combinations(sorted(cents), 2)}
    return out


def make_dataset(root: str | Path, n_readings: int | None = None, seed: int = 0,
                 config: SyntheticConfig | Mapping[str, Any] | None = None, progress: bool = True,
                 downstream=None) -> dict:
    """Write a synthetic REFLACX + MIMIC-CXR(-JPG) dataset under ``root`` (see the package
    docstring for the layout); returns a summary (counts, ``bytes``, ``seconds``).

    ``n_readings=None`` uses ``config.n_readings``. ``downstream`` (the ``synthetic_downstream``
    section) adds the downstream corpus (:mod:`.downstream`) from its own random streams; the
    REFLACX tree does not change with it. The same ``seed`` and config give byte-identical files.
    """
    t0 = time.perf_counter()
    cfg = SyntheticConfig.from_any(config)
    n = int(cfg.n_readings if n_readings is None else n_readings)
    if n < 1:
        raise ValueError(f"n_readings must be >= 1, got {n}")
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    seed = int(seed)
    root = Path(root)
    W, H = cfg.image_size
    images, readings = plan_dataset(n, cfg, seed)
    for sub in (schema.REFLACX_DIR + "/main_data", schema.REFLACX_DIR + "/gaze_data",
                schema.MIMIC_JPG_DIR, schema.MIMIC_REPORTS_DIR):
        (root / sub).mkdir(parents=True, exist_ok=True)

    meta_rows: dict[int, list[dict]] = {1: [], 2: [], 3: []}
    split_rows, chex_rows, mmeta_rows, report_rows = [], [], [], []
    agreement = {}
    n_bytes = 0
    by_image: dict[int, list[dict]] = {}
    for rd in readings:
        by_image.setdefault(rd["image"], []).append(rd)
    bar = tqdm(total=n, disable=not progress, desc="synthetic readings", unit="reading")
    with open(root / TRUTH_READINGS_FILE, "w", encoding="utf-8") as f_read, \
            open(root / TRUTH_IMAGES_FILE, "w", encoding="utf-8") as f_img:
        for im in images:
            irng = np.random.default_rng(np.random.SeedSequence([seed, 1, im["index"]]))
            kinds = choose_kinds(irng)
            anatomy = make_anatomy(irng, W, H, "cardiomegaly" in kinds)
            findings = plant_findings(irng, anatomy, kinds)
            pixels = render(anatomy, findings, irng)
            n_bytes += save_bytes(root / schema.MIMIC_JPG_DIR / im["folder"] / f"{im['dicom_id']}.jpg",
                                  encode_jpeg(pixels, cfg.jpeg_quality))
            del pixels
            sid, study, d = im["subject_id"], im["study_id"], im["dicom_id"]
            split_rows.append(split_row(d, sid, study, im["split"]))
            mmeta_rows.append(metadata_row(irng, d, sid, study, im["view"], W, H))
            # the MIMIC report and labels: the sentence bank, from a stream of their own
            labels, sections = study_sections(np.random.default_rng(np.random.SeedSequence([seed, 101, im["index"]])),
                                              findings, study, im["view"])
            chex_rows.append(chexpert_from_labels(labels, sid, study))
            report_rows.append(sections)
            truths = []
            for plan in by_image[im["index"]]:
                rrng = np.random.default_rng(np.random.SeedSequence([seed, 2, plan["index"]]))
                rd = simulate_reading(rrng, anatomy=anatomy, findings=findings, habits=READERS[plan["reader"]],
                                      phase=im["phase"], ppd=cfg.pixels_per_degree, rate=cfg.sampling_rate_hz,
                                      discarded=plan["discarded"], force_trailing=plan["force_trailing"],
                                      force_no_gaze=plan["force_no_gaze"],
                                      unlocated=unlocated_findings(seed, plan["index"], len(findings),
                                                                   cfg.unlocated_fraction))
                n_bytes += _write_reading(root, plan["id"], im["phase"], rd)
                meta_rows[im["phase"]].append({
                    "id": plan["id"], "split": im["split"], "eye_tracking_data_discarded": plan["discarded"],
                    "image": im["image"], "dicom_id": d, "subject_id": sid, "image_size_x": W,
                    "image_size_y": H, **rd.labels})
                truth = {"id": plan["id"], "trial": im["trial"], "dicom_id": d, "subject_id": sid,
                         "study_id": study, "split": im["split"], **rd.truth}
                f_read.write(_dumps(truth) + "\n")
                truths.append(truth)
                bar.update(1)
            if im["phase"] in (1, 2):
                agreement[d] = _agreement(im, truths)
            f_img.write(_dumps({"dicom_id": d, "phase": im["phase"], "trial": im["trial"], "subject_id": sid,
                                "study_id": study, "split": im["split"], "view": im["view"],
                                "readings": [t["id"] for t in truths], "anatomy": anatomy.to_dict(),
                                "findings": findings}) + "\n")
    bar.close()
    down_counts = None
    if downstream is not None:
        down = make_downstream(root, seed, downstream, images, image_size=(W, H), jpeg_quality=cfg.jpeg_quality)
        split_rows += down["split"]
        chex_rows += down["chexpert"]
        mmeta_rows += down["metadata"]
        report_rows += down["reports"]
        n_bytes += down["bytes"]
        down_counts = down["counts"]

    rdir = root / schema.REFLACX_DIR / "main_data"
    for phase, rows in meta_rows.items():
        cols = schema.METADATA_COLUMNS + sorted(phase_labels(phase))
        df = pd.DataFrame(rows, columns=cols)
        df = df.sort_values("id" if phase < 3 else "image", kind="stable")
        n_bytes += save_csv(df, rdir / f"metadata_phase_{phase}.csv")
    key = ["subject_id", "study_id"]
    jdir = root / schema.MIMIC_JPG_DIR
    n_bytes += save_csv_gz(pd.DataFrame(split_rows, columns=schema.MIMIC_SPLIT_COLUMNS)
                           .sort_values(key + ["dicom_id"], kind="stable"), jdir / schema.MIMIC_SPLIT_FILE)
    n_bytes += save_csv_gz(pd.DataFrame(chex_rows, columns=CHEXPERT_COLUMNS).sort_values(key, kind="stable"),
                           jdir / schema.MIMIC_CHEXPERT_FILE)
    n_bytes += save_csv_gz(pd.DataFrame(mmeta_rows, columns=schema.MIMIC_METADATA_COLUMNS)
                           .sort_values(key + ["dicom_id"], kind="stable"), jdir / schema.MIMIC_METADATA_FILE)
    n_bytes += save_csv_lf(pd.DataFrame(report_rows, columns=schema.MIMIC_SECTIONED_COLUMNS)
                           .sort_values("study", kind="stable"),
                           root / schema.MIMIC_REPORTS_DIR / schema.MIMIC_SECTIONED_FILE)

    from . import GENERATOR_VERSION

    counts = {str(p): len(rows) for p, rows in meta_rows.items()}
    n_disc = sum(r["discarded"] for r in readings)
    header = {"generator_version": GENERATOR_VERSION, "seed": seed, "config": {**cfg.to_dict(), "n_readings": n},
              "readers": {k: h.to_truth(cfg.pixels_per_degree) for k, h in READERS.items()},
              "agreement": agreement, "counts": {"readings_per_phase": counts, "n_discarded": n_disc,
                                                  "n_images": len(images), "downstream": down_counts},
              "files": {"readings": TRUTH_READINGS_FILE, "images": TRUTH_IMAGES_FILE}}
    truth_text = json.dumps(header, sort_keys=True, indent=1, default=_json_default) + "\n"
    (root / TRUTH_FILE).write_text(truth_text, encoding="utf-8")
    n_bytes += len(truth_text) + (root / TRUTH_READINGS_FILE).stat().st_size + (root / TRUTH_IMAGES_FILE).stat().st_size
    return {"root": str(root), "n_readings": n, "readings_per_phase": counts, "n_discarded": n_disc,
            "n_images": len(images), "downstream": down_counts, "bytes": int(n_bytes),
            "seconds": round(time.perf_counter() - t0, 3)}


def load_truth(root: str | Path) -> dict:
    """The planted ground truth of a synthetic dataset as one dict.

    Keys: ``generator_version``, ``seed``, ``config``, ``readers`` (habits per reader
    name), ``readings`` (id -> record; each sentence has ``located``: whether a finding
    sentence states the finding's side/zone, ``None`` when there is nothing to state or for
    other sentences), ``images`` (dicom_id -> record), ``agreement``
    (dicom_id of each multi-reader image -> who reported what, fixation-centroid distances),
    ``counts``.
    """
    root = Path(root)
    header = json.loads((root / TRUTH_FILE).read_text(encoding="utf-8"))
    files = header.pop("files", {})
    out = dict(header)
    with open(root / files.get("readings", TRUTH_READINGS_FILE), encoding="utf-8") as fh:
        out["readings"] = {r["id"]: r for r in map(json.loads, fh)}
    with open(root / files.get("images", TRUTH_IMAGES_FILE), encoding="utf-8") as fh:
        out["images"] = {r["dicom_id"]: r for r in map(json.loads, fh)}
    return out
