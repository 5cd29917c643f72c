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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gazex_lib import sections
from gazex_lib.sections import ConfigError

PROFILES = ("ci", "full")

#: The repository root (the folder holding ``configs/``), when gazex_lib runs from a checkout.
REPO_ROOT = Path(__file__).resolve().parent.parent


def configs_dir() -> Path:
    """``configs/`` of the checkout, or ``$GAZEX_CONFIGS``."""
    return Path(os.environ.get("GAZEX_CONFIGS", REPO_ROOT / "configs"))


def cache_dir() -> Path:
    """Where generated data and the built tokenizer live: ``$GAZEX_CACHE`` or ``<repo>/.cache``."""
    return Path(os.environ.get("GAZEX_CACHE", REPO_ROOT / ".cache"))


@dataclass(frozen=True)
class Config:
    """A profile's configuration: frozen, typed, one attribute per YAML section
    (``config.gaze.eps``, ``config.train.max_steps``); see :mod:`gazex_lib.sections`."""

    profile: str
    seed: int
    source: str
    synthetic: Any
    synthetic_downstream: sections.SyntheticDownstreamSection
    data: sections.DataSection
    explore: sections.ExploreSection
    gaze: sections.GazeSection
    keyframes: sections.KeyframesSection
    model: sections.ModelSection
    tasks: sections.TasksSection
    heldout: sections.HeldoutSection
    train: sections.TrainSection
    downstream: sections.DownstreamSection
    labeller: sections.LabellerSection
    stages: sections.StagesSection

    def section_dict(self, name: str) -> dict:
        """Section ``name`` as plain data (for stage keys and result files)."""
        return sections.section_dict(getattr(self, name))

    def to_dict(self) -> dict:
        return {"profile": self.profile, "seed": self.seed,
                **{name: self.section_dict(name) for name in sections.SECTION_TYPES}}


def _split_key(dotted: str) -> list[str]:
    return dotted.replace("__", ".").split(".")


def load_config(profile: str = "ci", **overrides: Any) -> Config:
    """Read ``configs/<profile>.yaml`` into a :class:`Config`, with dotted overrides applied
    first (``train.max_steps=3`` or ``train__max_steps=3``).

    * An unknown profile, a missing or unknown key (in the file or an override), or a value of
      the wrong type raises :class:`~gazex_lib.sections.ConfigError` naming the file and key.
    * An override whose value is ``None`` keeps the profile's value (notebook parameters use
      ``None`` for "the profile's default").
    * Overriding ``train.max_steps`` replaces an ``epochs`` budget (the loop takes exactly one).
    """
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
    path = configs_dir() / f"{profile}.yaml"
    source = display_path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such configuration file") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: not a mapping of sections")
    given = {k: v for k, v in overrides.items() if v is not None}
    for dotted, value in given.items():
        node = raw
        *parents, leaf = _split_key(dotted)
        for key in parents:
            if not isinstance(node.get(key), dict):
                raise ConfigError(f"{source}: no section {key!r} for override {dotted!r}")
            node = node[key]
        if leaf not in node:
            raise ConfigError(f"{source}: unknown key {'.'.join(_split_key(dotted))} (override)")
        node[leaf] = value
    overridden = {".".join(_split_key(k)) for k in given}
    if "train.max_steps" in overridden and "train.epochs" not in overridden:
        raw["train"]["epochs"] = None
    expected = {"profile", "seed", *sections.SECTION_TYPES}
    unknown = sorted(set(raw) - expected)
    if unknown:
        raise ConfigError(f"{source}: unknown section {unknown[0]!r}")
    missing = [k for k in ("profile", "seed", *sections.SECTION_TYPES) if k not in raw]
    if missing:
        raise ConfigError(f"{source}: missing section {missing[0]!r}")
    if raw["profile"] != profile:
        raise ConfigError(f"{source}: profile: {raw['profile']!r} does not match the file name")
    built = {name: sections.build_section(factory(), raw[name], source=source, name=name)
             for name, factory in sections.SECTION_TYPES.items()}
    cfg = Config(profile=profile, seed=int(raw["seed"]), source=source, **built)
    from gazex_lib.gaze.pipeline import KeyframeConfig   # checks the gaze section's choices

    try:
        KeyframeConfig.from_config(cfg)
    except ValueError as exc:
        raise ConfigError(f"{source}: section 'gaze': {exc}") from None
    return cfg


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def synthetic_root(cfg: Config, seed: int) -> Path:
    """The cache folder of the synthetic dataset for this config and seed (not created)."""
    key = _digest({"synthetic": cfg.section_dict("synthetic"), "seed": seed,
                   "synthetic_downstream": cfg.section_dict("synthetic_downstream"),
                   "generator": _generator_version()})
    return cache_dir() / "synthetic" / f"{cfg.profile}-seed{seed}-{key}"


def _generator_version() -> str:
    from gazex_lib.data import synthetic

    return getattr(synthetic, "GENERATOR_VERSION", "0")


def resolve_data_root(data_root: str | os.PathLike | None, cfg: Config, seed: int,
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
        make_dataset(tmp, n_readings=cfg.synthetic.n_readings, seed=seed, config=cfg.synthetic,
                     downstream=cfg.synthetic_downstream, progress=progress)
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


def write_result(output_dir: Path, stem: str, results: dict, parameters: dict,
                 provenance: dict | None = None) -> Path:
    """Write ``<output_dir>/<stem>.json``: headline numbers, the parameters they ran with and
    what produced them (``provenance``; :meth:`gazex_lib.runtime.Run.save_results` fills it).

    Keys are sorted and floats kept as JSON numbers, so a rerun of the seeded ci profile
    gives the same bytes. Paths are written as given (``None`` stays ``null``).
    """
    payload = {"notebook": stem, "parameters": copy.deepcopy(parameters), "results": results,
               "provenance": provenance or {"python": platform.python_version()}}
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
