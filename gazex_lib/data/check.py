"""Check the data before the long run: every file under ``data_root``, eagerly, in one pass.

``python -m gazex_lib.run check-data --data-root ...`` (``make check-data``) and
:func:`check_data`:

* list the datasets present (REFLACX phases and readings; MIMIC-CXR-JPG tables and their
  version folder; MIMIC-CXR reports; IU X-ray, MS-CXR, Medical-CXR-VQA);
* read each downstream dataset with its reader (:mod:`gazex_lib.data.downstream`): format
  errors, counts against the published ones (MS-CXR's 1,162 pairs, Medical-CXR-VQA's 780,014
  and per type; a partial or synthetic copy shows its own), and what each reader drops;
* read every REFLACX file of every reading (metadata, fixations, gaze when ``gaze_data/`` is
  there, words, transcript, chest box, ellipses), collecting **every** structural error (a
  file that does not follow its format: file, physical line, column) instead of stopping at
  the first, and every domain fault (:mod:`gazex_lib.data.faults`);
* report folder-level problems (:func:`tree_issues`): reading folders that no metadata file
  lists, metadata rows without their folder, a phase whose folders exist but whose metadata
  file is missing;
* optionally verify PhysioNet's ``SHA256SUMS.txt`` (``checksums=True``: slow, it reads every
  byte);
* and the data-quality report (:func:`gazex_lib.data.quality.quality_summary`).

The result is ``ok`` when nothing structural was found (and, with ``strict=True``, no domain
fault either). The full profile runs it once per data fingerprint before anything else
(:mod:`gazex_lib.runtime`), so damage is found in minutes, not hours into training.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gazex_lib.data import schema
from gazex_lib.data._csv import DataFormatError

__all__ = ["DataCheck", "check_data", "tree_issues", "verify_checksums", "downstream_counts"]

_ID_RE = re.compile(r"^P[123]\d\dR\d+$")


@dataclass
class DataCheck:
    """What :func:`check_data` found."""
    datasets: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)          # (file or reading, message)
    faults: Counter = field(default_factory=Counter)    # reason -> readings
    issues: pd.DataFrame | None = None                  # tree_issues
    quality: pd.DataFrame | None = None                 # quality_summary
    checksums: dict | None = None                       # verify_checksums, when asked
    strict: bool = False
    counts: pd.DataFrame | None = None                  # downstream counts vs published
    dropped: pd.DataFrame | None = None                 # downstream readers' drop accounting

    @property
    def ok(self) -> bool:
        bad_sums = bool(self.checksums and (self.checksums["mismatched"]
                                            or self.checksums["missing"]))
        return not self.errors and not bad_sums and not (self.strict and self.faults)

    def summary(self) -> str:
        """A plain-text report (what the command prints)."""
        lines = ["datasets:"]
        lines += [f"  {k}: {v}" for k, v in self.datasets.items()] or ["  none found"]
        lines.append(f"structural errors: {len(self.errors)}")
        lines += [f"  {msg}" for _, msg in self.errors[:50]]
        if len(self.errors) > 50:
            lines.append(f"  ... and {len(self.errors) - 50} more")
        lines.append("domain faults (readings excluded from what is built on the faulty file): "
                     + (", ".join(f"{r} {n}" for r, n in sorted(self.faults.items())) or "none"))
        if self.issues is not None and len(self.issues):
            lines.append("folder issues:")
            lines += [f"  {r.reason}: {r.count} ({r.examples})" for r in self.issues.itertuples()]
        if self.checksums is not None:
            c = self.checksums
            lines.append(f"checksums: {c['verified']} verified, {len(c['mismatched'])} "
                         f"mismatched, {len(c['missing'])} missing")
            lines += [f"  mismatch: {p}" for p in c["mismatched"][:20]]
            lines += [f"  missing: {p}" for p in c["missing"][:20]]
        if self.counts is not None and len(self.counts):
            lines.append("downstream counts (published: the released files' documented sizes):")
            lines += ["  " + ln for ln in self.counts.to_string(index=False).splitlines()]
        if self.dropped is not None and len(self.dropped):
            lines.append("downstream readers' drops:")
            lines += ["  " + ln for ln in self.dropped.to_string(index=False).splitlines()]
        if self.quality is not None:
            lines.append("quality report:")
            lines += ["  " + ln for ln in self.quality.to_string(index=False).splitlines()]
        lines.append("OK" if self.ok else "NOT OK")
        return "\n".join(lines)


def _few(items, k: int = 3) -> str:
    items = sorted(map(str, items))
    return ", ".join(items[:k]) + (f" (+{len(items) - k} more)" if len(items) > k else "")


def tree_issues(root: Path | str, metadata: pd.DataFrame | None) -> pd.DataFrame:
    """Folder-level problems of a REFLACX tree: ``reason, count, examples`` rows for
    ``unlisted_main_folder`` / ``unlisted_gaze_folder`` (a reading folder no metadata file
    lists), ``missing_main_folder`` (a listed reading without ``main_data/<id>/``),
    ``missing_gaze_folder`` (a listed, non-discarded reading without ``gaze_data/<id>/`` while
    ``gaze_data/`` exists) and ``missing_metadata_file`` (folders of a phase exist, its
    ``metadata_phase_N.csv`` does not)."""
    root = Path(root)
    main, gaze = root / "main_data", root / "gaze_data"
    listed = set(metadata.index) if metadata is not None else set()
    rows = []

    def add(reason, items):
        items = sorted(items)
        if items:
            rows.append({"reason": reason, "count": len(items), "examples": _few(items)})

    folders = {p.name for p in main.iterdir() if p.is_dir() and _ID_RE.match(p.name)} \
        if main.is_dir() else set()
    add("unlisted_main_folder", folders - listed)
    add("missing_main_folder", listed - folders)
    if gaze.is_dir():
        gfolders = {p.name for p in gaze.iterdir() if p.is_dir() and _ID_RE.match(p.name)}
        add("unlisted_gaze_folder", gfolders - listed)
        if metadata is not None:
            kept = set(metadata.index[~metadata["eye_tracking_data_discarded"].astype(bool)])
            add("missing_gaze_folder", kept - gfolders)
    phases = {int(f[1]) for f in folders}
    add("missing_metadata_file", [f"metadata_phase_{p}.csv" for p in phases
                                  if not (main / f"metadata_phase_{p}.csv").is_file()])
    return pd.DataFrame(rows, columns=["reason", "count", "examples"])


def verify_checksums(folder: Path | str) -> dict | None:
    """Check every line ``<sha256>  <relative path>`` of ``folder/SHA256SUMS.txt``;
    ``None`` without that file. Returns ``verified`` (count), ``mismatched``, ``missing``."""
    folder = Path(folder)
    sums = folder / "SHA256SUMS.txt"
    if not sums.is_file():
        return None
    out = {"verified": 0, "mismatched": [], "missing": []}
    for line in sums.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.strip().partition(" ")
        name = name.strip().lstrip("*")
        path = folder / name
        if not path.is_file():
            out["missing"].append(name)
            continue
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != digest.lower():
            out["mismatched"].append(name)
        else:
            out["verified"] += 1
    return out


_DATASET_DIRS = (schema.REFLACX_DIR, schema.MIMIC_JPG_DIR, schema.MIMIC_REPORTS_DIR, schema.IU_XRAY_DIR,
                 schema.MS_CXR_DIR, schema.VQA_DIR)


def downstream_counts(root: Path | str, out: "DataCheck") -> None:
    """Read each downstream dataset present under ``root`` with its reader, collect format
    errors in ``out.errors``, its counts against the published ones in ``out.counts``, and its
    drops in ``out.dropped``. MS-CXR and VQA are counted as released (their split policies
    are the evaluation's business)."""
    from gazex_lib.data.downstream import load_iu_xray, load_ms_cxr, load_report_dataset, load_vqa
    from gazex_lib.data.downstream._common import mimic_split_of

    root = Path(root)
    try:
        mimic_split = mimic_split_of(root / schema.MIMIC_JPG_DIR)
    except DataFormatError:
        mimic_split = None          # reported by the MIMIC-CXR reports' reader below
    rows, drops = [], []
    readers = [
        (schema.MIMIC_REPORTS_DIR,
         lambda: load_report_dataset(root, section="findings_or_impression", cleaning="none"),
         lambda d: [("studies", len(d), None)]),
        (schema.IU_XRAY_DIR, lambda: load_iu_xray(root / schema.IU_XRAY_DIR, frontal_index=0, cleaning="none"),
         lambda d: [("reports", len(d), None)]),
        (schema.MS_CXR_DIR, lambda: load_ms_cxr(root / schema.MS_CXR_DIR, split_policy="released"),
         lambda d: [("pairs", d.dropped.denominator, schema.PUBLISHED_COUNTS["ms-cxr pairs"])]),
        (schema.VQA_DIR, lambda: load_vqa(root / schema.VQA_DIR, split_policy="released", mimic_split=mimic_split),
         lambda d: [("pairs", d.dropped.denominator, schema.PUBLISHED_COUNTS["medical-cxr-vqa pairs"])]
         + [(t, int((d.frame["question_type"] == t).sum()), schema.PUBLISHED_COUNTS[f"medical-cxr-vqa {t}"])
            for t in schema.VQA_TYPES]),
    ]
    for name, read, count in readers:
        if not (root / name).is_dir() or (name == schema.MIMIC_REPORTS_DIR
                                           and not (root / schema.MIMIC_JPG_DIR).is_dir()):
            continue
        try:
            data = read()
        except (DataFormatError, FileNotFoundError, ValueError) as exc:
            out.errors.append((name, str(exc)))
            continue
        for what, n, published in count(data):
            rows.append({"dataset": name, "count": what, "found": n,
                         "published": published if published is not None else pd.NA,
                         "matches": pd.NA if published is None else n == published})
        drops.append(data.dropped.frame())
    out.counts = pd.DataFrame(rows, columns=["dataset", "count", "found", "published", "matches"])
    out.dropped = pd.concat(drops, ignore_index=True) if drops else None


def _datasets(root: Path) -> dict:
    found = {}
    for name in _DATASET_DIRS:
        folder = root / name
        if folder.is_dir():
            versions = sorted(p.name for p in folder.iterdir()
                              if p.is_dir() and re.fullmatch(r"\d+\.\d+\.\d+", p.name))
            sums = (folder / "SHA256SUMS.txt").is_file()
            found[name] = (f"present; version folders {versions or 'none'}; "
                           f"SHA256SUMS.txt {'present' if sums else 'absent'}")
    return found


def check_data(data_root: Path | str, *, checksums: bool = False, strict: bool = False,
               progress: bool = True) -> DataCheck:
    """Validate everything under ``data_root`` (module docstring). Never raises for damaged
    data: every problem is collected in the returned :class:`DataCheck`."""
    from gazex_lib.data.faults import ReadingFaultError
    from gazex_lib.data.quality import quality_report, quality_summary
    from gazex_lib.data.reflacx import DiscardedReadingError, load_reflacx

    root = Path(data_root)
    out = DataCheck(datasets=_datasets(root), strict=strict)
    if checksums:
        out.checksums = {"verified": 0, "mismatched": [], "missing": []}
        for name in out.datasets:
            got = verify_checksums(root / name)
            if got:
                out.checksums["verified"] += got["verified"]
                out.checksums["mismatched"] += [f"{name}/{p}" for p in got["mismatched"]]
                out.checksums["missing"] += [f"{name}/{p}" for p in got["missing"]]
    downstream_counts(root, out)
    reflacx = root / schema.REFLACX_DIR
    if not reflacx.is_dir():
        return out
    try:
        ds = load_reflacx(reflacx)
    except (DataFormatError, FileNotFoundError) as exc:
        out.errors.append(("metadata", str(exc)))
        out.issues = tree_issues(reflacx, None)
        return out
    out.datasets[schema.REFLACX_DIR] += (f"; phases {list(ds.phases)}; {len(ds)} readings "
                                         f"({int(ds.metadata['eye_tracking_data_discarded'].sum())}"
                                         " discarded)")
    out.issues = tree_issues(reflacx, ds.metadata)
    ids = ds.ids(discarded=None)
    it = ids
    if progress:
        from tqdm import tqdm

        it = tqdm(ids, desc="check-data", unit="reading")
    good = []
    for rid in it:
        kinds = ["chest_box", "ellipses"]
        if not ds.is_discarded(rid):
            kinds = ["fixations", "words", "transcription", *kinds]
            if ds.has_gaze_data:
                kinds.append("gaze")
        broken = False
        for kind in kinds:
            try:
                getattr(ds, kind)(rid)
            except (DataFormatError, FileNotFoundError) as exc:
                if (rid, str(exc)) not in out.errors:     # a file read by two accessors
                    out.errors.append((rid, str(exc)))
                broken = True
            except (ReadingFaultError, DiscardedReadingError):
                pass
        faults = ds.reading_faults(rid) if not broken else {}
        out.faults.update({r: 1 for r in faults})
        if not broken and ds.has_gaze_data:
            good.append(rid)
    if good:
        out.quality = quality_summary(quality_report(ds, good, progress=False))
    extra = _extra_columns(ds, ids)
    if extra:
        row = pd.DataFrame([{"reason": "unknown_columns", "count": len(extra),
                             "examples": _few(f"{k}: {v}" for k, v in extra.items())}])
        out.issues = pd.concat([out.issues, row], ignore_index=True)
    return out


def _extra_columns(ds, ids) -> dict:
    """``{file (relative to the REFLACX root): extra columns}`` of every file read so far."""
    from gazex_lib.data._csv import extra_columns

    paths = [ds.main_data / f"metadata_phase_{p}.csv" for p in ds.phases]
    for rid in ids:
        paths += [ds.main_data / rid / f for f in schema.READING_FILES.values()]
        paths.append(ds.gaze_data / rid / schema.GAZE_FILE)
    return {str(p.relative_to(ds.root)): cols for p in paths if (cols := extra_columns(p))}
