"""Profiles, paths and result files: what every notebook's parameters cell resolves through.

The notebook contract (DESIGN.md): ``profile``, ``data_root``, ``model_path``, ``output_dir``
and ``seed``. ``None`` means the ci default: the embedded synthetic data (generated on first
use into a cache folder), the tiny model, and ``results/<profile>/``.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

PROFILES = ("ci", "full")

#: The repository root (the folder holding ``configs/``), when gazex_lib runs from a checkout.
REPO_ROOT = Path(__file__).resolve().parent.parent


def configs_dir() -> Path:
    """``configs/`` of the checkout, or ``$GAZEX_CONFIGS``."""
    return Path(os.environ.get("GAZEX_CONFIGS", REPO_ROOT / "configs"))


def cache_dir() -> Path:
    """Where generated data and the built tokenizer live: ``$GAZEX_CACHE`` or ``<repo>/.cache``."""
    return Path(os.environ.get("GAZEX_CACHE", REPO_ROOT / ".cache"))


def load_config(profile: str = "ci", **overrides: Any) -> dict:
    """Read ``configs/<profile>.yaml`` and apply dotted overrides (``synthetic.n_readings=10``).

    Raises ``ValueError`` for an unknown profile or an override key that the file lacks
    (a typo must not silently fall back to a default).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    path = configs_dir() / f"{profile}.yaml"
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    for dotted, value in overrides.items():
        node = cfg
        *parents, leaf = dotted.replace("__", ".").split(".")
        for key in parents:
            if not isinstance(node.get(key), dict):
                raise ValueError(f"{path}: no section {key!r} for override {dotted!r}")
            node = node[key]
        if leaf not in node:
            raise ValueError(f"{path}: no key {dotted!r} to override")
        node[leaf] = value
    return cfg


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def synthetic_root(cfg: dict, seed: int) -> Path:
    """The cache folder of the synthetic dataset for this config and seed (not created)."""
    key = _digest({"synthetic": cfg["synthetic"], "seed": seed, "generator": _generator_version()})
    return cache_dir() / "synthetic" / f"{cfg['profile']}-seed{seed}-{key}"


def _generator_version() -> str:
    from gazex_lib.data import synthetic

    return getattr(synthetic, "GENERATOR_VERSION", "0")


def resolve_data_root(data_root: str | os.PathLike | None, cfg: dict, seed: int,
                      progress: bool = True) -> Path:
    """``data_root`` as a Path; ``None`` generates (once) and returns the synthetic dataset.

    Generation writes into a temporary sibling folder and renames it into place, so a
    concurrent or interrupted run never sees a half-written dataset.
    """
    if data_root is not None:
        root = Path(data_root).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"data_root {root} is not a directory")
        return root
    root = synthetic_root(cfg, seed)
    if (root / "COMPLETE").exists():
        return root
    from gazex_lib.data.synthetic import make_dataset

    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=root.name + ".tmp-", dir=root.parent))
    try:
        syn = cfg["synthetic"]
        make_dataset(tmp, n_readings=syn["n_readings"], seed=seed, config=syn, progress=progress)
        (tmp / "COMPLETE").write_text("ok\n")
        try:
            tmp.rename(root)
        except OSError:  # another process finished first
            if not (root / "COMPLETE").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def resolve_output_dir(output_dir: str | os.PathLike | None, profile: str) -> Path:
    """``output_dir`` or ``<repo>/results/<profile>/``, created."""
    out = Path(output_dir) if output_dir is not None else REPO_ROOT / "results" / profile
    out.mkdir(parents=True, exist_ok=True)
    return out


def display_path(path) -> str:
    """``path`` relative to the repository root when it lies inside it (so printed paths are
    the same on every machine), else as given; ``None`` -> ``"None"``."""
    if path is None:
        return "None"
    p = Path(path)
    try:
        return p.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def write_result(output_dir: Path, stem: str, results: dict, parameters: dict) -> Path:
    """Write ``<output_dir>/<stem>.json``: headline numbers plus the parameters they ran with.

    Keys are sorted and floats kept as JSON numbers, so a rerun of the seeded ci profile
    gives the same bytes. Paths are written as given (``None`` stays ``null``).
    """
    payload = {"notebook": stem, "parameters": copy.deepcopy(parameters), "results": results,
               "environment": {"python": platform.python_version()}}
    path = Path(output_dir) / f"{stem}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_jsonable) + "\n")
    return path


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
