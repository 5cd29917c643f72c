"""What produced a result: commit, packages, device, data fingerprint, model identity.

Everything here is cheap enough to run at every notebook start, and deterministic for the
same checkout, machine kind, data and model (no timestamps), so the seeded ci profile still
writes byte-identical result files.

* :func:`data_fingerprint` never hashes image or gaze bytes: for each dataset folder it hashes
  PhysioNet's ``SHA256SUMS.txt`` when the folder has one, else the names, sizes and mtimes of
  its files (every file of ``reflacx/``, which is small; the top-level tables of the others,
  whose image trees hold hundreds of thousands of files).
* :func:`model_identity` of a checkpoint folder: its path, the sha256 of ``config.json`` and
  the names, sizes and mtimes of its weight files. ``None``: the tiny random config.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

#: Packages whose versions every result file records.
KEY_PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "torch", "torchvision",
                "transformers", "peft", "accelerate", "pycocoevalcap", "pingouin")

#: Dataset folders of ``data_root`` (DESIGN.md) and whether every file is fingerprinted.
DATASET_DIRS = {"reflacx": True, "mimic-cxr-jpg": False, "mimic-cxr": False, "ms-cxr": False,
                "medical-cxr-vqa": False, "iu-xray": False}

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(obj) -> str:
    """16 hex digits of the sha256 of ``obj`` as sorted JSON."""
    return _sha(json.dumps(obj, sort_keys=True, default=str).encode())[:16]


@lru_cache(maxsize=1)
def git_state(repo: str | None = None) -> dict:
    """``{"commit": sha or None, "dirty": bool or None}`` of the checkout (tracked files only)."""
    from gazex_lib.config import REPO_ROOT

    cwd = repo or str(REPO_ROOT)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=cwd, capture_output=True, text=True, timeout=10,
                                check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def package_versions(names=KEY_PACKAGES) -> dict:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_info() -> dict:
    """``{"device": "cpu"}`` or the GPU's name, count and CUDA version (torch, if installed)."""
    try:
        import torch
    except ImportError:
        return {"device": "cpu"}
    if not torch.cuda.is_available():
        return {"device": "cpu"}
    return {"device": "cuda", "gpu": torch.cuda.get_device_name(0),
            "gpu_count": torch.cuda.device_count(), "cuda": torch.version.cuda}


def _stat_entries(folder: Path, recursive: bool) -> list[str]:
    files = folder.rglob("*") if recursive else folder.iterdir()
    out = []
    for p in sorted(files):
        if p.is_file():
            st = p.stat()
            out.append(f"{p.relative_to(folder).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
    return out


def data_fingerprint(data_root) -> dict:
    """``{"datasets": {folder: digest}, "fingerprint": digest}`` of the datasets present under
    ``data_root`` (see the module docstring for what is read)."""
    root = Path(data_root)
    parts = {}
    for name, recursive in DATASET_DIRS.items():
        folder = root / name
        if not folder.is_dir():
            continue
        sums = folder / "SHA256SUMS.txt"
        if sums.is_file():
            parts[name] = "sha256sums:" + _sha(sums.read_bytes())[:16]
        else:
            parts[name] = "stat:" + digest(_stat_entries(folder.resolve(), recursive))
    return {"datasets": parts, "fingerprint": digest(parts)}


def model_identity(model_path, size: str) -> dict:
    """What identifies the model: the checkpoint folder (path, ``config.json`` hash, weight
    files' names, sizes and mtimes), or ``{"random_config": size}`` when ``model_path`` is None."""
    if model_path is None:
        return {"random_config": size}
    path = Path(model_path).resolve()
    config = path / "config.json"
    weights = sorted(
        f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in path.iterdir()
        if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    return {"path": str(path),
            "config_sha256": _sha(config.read_bytes()) if config.is_file() else None,
            "weights": weights}


def provenance(*, data_fp: dict, model: dict, stages: dict) -> dict:
    """The ``provenance`` block of a result file."""
    return {"git": git_state(), "packages": package_versions(), "device": device_info(),
            "data_fingerprint": data_fp["fingerprint"], "data_parts": data_fp["datasets"],
            "model": model, "stages": dict(sorted(stages.items())),
            "threads": os.environ.get("OMP_NUM_THREADS")}


__all__ = ["KEY_PACKAGES", "digest", "git_state", "package_versions", "device_info",
           "data_fingerprint", "model_identity", "provenance"]
