"""The run object: what every notebook's set-up cell creates with :func:`gazex_lib.setup`.

>>> run = gazex_lib.setup(profile="ci", data_root=None, model_path=None, output_dir=None, seed=0)
>>> run.config.gaze.eps, run.config.train.max_steps          # typed, frozen, from configs/ci.yaml
>>> kt = run.keyframe_table()                                # a cached stage
>>> run.save_results("02_gaze_processing", {...})            # <output_dir>/02_gaze_processing.json

``setup`` resolves the DESIGN.md contract parameters:

* ``profile``: ``"ci"`` or ``"full"`` (``configs/<profile>.yaml``).
* ``data_root``: a folder with the datasets in their PhysioNet layouts. ``None`` in the ci
  profile generates the embedded synthetic data once (cached). The full profile needs a real
  folder; a full-scale synthetic dataset is generated only when asked for by name,
  ``data_root="synthetic"``.
* ``model_path``: a local Qwen2-VL checkpoint folder. ``None`` in the ci profile builds the tiny
  random model; the full profile needs a checkpoint.
* ``output_dir``: ``None`` is ``results/<profile>/``. ``seed``: the random seed.
* ``overrides``: dotted configuration keys (``**{"train.max_steps": 3}`` or
  ``train__max_steps=3``); a ``None`` value keeps the profile's value.

Every problem with these is a :class:`SetupError` (a ``ValueError``) whose one-line message
says what to pass.
"""
from __future__ import annotations

import copy
import json
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from gazex_lib import config as _config
from gazex_lib import provenance as _prov
from gazex_lib.sections import ConfigError
from gazex_lib.stages import StageInfo, run_stage, wants_force

#: The name that asks for synthetic data in a profile whose default is real data.
SYNTHETIC = "synthetic"


class SetupError(ValueError):
    """A contract parameter that cannot be used (the message says what to pass)."""


class Run:
    """One notebook's (or command's) run: resolved paths, the typed configuration, the
    dataset (opened lazily), cached stages and the result file. Build it with :func:`setup`."""

    def __init__(self, *, profile: str, data_root: Path, model_path: Path | None,
                 output_dir: Path, seed: int, config: _config.Config, synthetic: bool,
                 parameters: dict, announce: Callable[[str], None] | None = print):
        self.profile = profile
        self.data_root = data_root
        self.model_path = model_path
        self.output_dir = output_dir
        self.seed = seed
        self.config = config
        self.synthetic = synthetic
        self.parameters = parameters
        self.announce = announce
        self.stages: dict[str, StageInfo] = {}        # the latest of each name (for upstream keys)
        self.stage_log: list[StageInfo] = []           # every stage this run read, in order

    def __repr__(self) -> str:
        return (f"Run(profile={self.profile!r}, data_root={_config.display_path(self.data_root)!r}, "
                f"model_path={_config.display_path(self.model_path)!r}, "
                f"output_dir={_config.display_path(self.output_dir)!r}, seed={self.seed})")

    # -- data and model ---------------------------------------------------------------------
    @property
    def progress(self) -> bool:
        """Progress bars on long real-data runs; the ci profile's outputs stay stable."""
        return self.profile == "full"

    @cached_property
    def dataset(self):
        """The REFLACX dataset under ``data_root/reflacx`` (opened on first use)."""
        from gazex_lib.data import schema
        from gazex_lib.data.reflacx import load_reflacx

        return load_reflacx(self.data_root / schema.REFLACX_DIR,
                            window_lead_s=self.config.data.window_lead_s,
                            trailing_words=self.config.data.trailing_words)

    @property
    def jpg_root(self) -> Path:
        from gazex_lib.data import schema

        return self.data_root / schema.MIMIC_JPG_DIR

    @cached_property
    def data_fingerprint(self) -> dict:
        return _prov.data_fingerprint(self.data_root)

    @cached_property
    def model_identity(self) -> dict:
        return _prov.model_identity(self.model_path, self.config.model.size)

    def keyframe_config(self):
        from gazex_lib.gaze.pipeline import KeyframeConfig

        return KeyframeConfig.from_config(self.config)

    # -- stages ---------------------------------------------------------------------------
    def stage(self, name: str, build: Callable[[Path], None], *, sections=(), upstream=(),
              uses_seed: bool = False, uses_model: bool = False, version: int = 1,
              extra: dict | None = None, force: bool = False) -> StageInfo:
        """Run (or reuse) stage ``name`` whose key is made of the configuration ``sections``
        it reads, the data fingerprint, the model identity (``uses_model``), the keys of the
        ``upstream`` stages (:class:`StageInfo` objects), the seed (``uses_seed``), the code
        ``version`` and any ``extra`` inputs. Forced by ``force`` or ``stages.force``."""
        inputs = {"stage": name, "version": version,
                  "sections": {s: self.config.section_dict(s) for s in sections},
                  "data": self.data_fingerprint["fingerprint"],
                  "model": self.model_identity if uses_model else None,
                  "upstream": {u.name: u.key for u in upstream},
                  "seed": self.seed if uses_seed else None, "extra": extra or {}}
        info = run_stage(self.output_dir, name, inputs, build,
                         force=force or wants_force(name, self.config.stages.force),
                         announce=self.announce)
        self._record(info)
        return info

    def _record(self, info: StageInfo) -> None:
        self.stages[info.name] = info
        if all(s.key != info.key or s.name != info.name for s in self.stage_log):
            self.stage_log.append(info)

    def stage_keys(self) -> dict:
        """``{name: key}``, or ``{name: [keys]}`` for a stage read with several keys."""
        out: dict = {}
        for s in self.stage_log:
            out.setdefault(s.name, []).append(s.key)
        return {k: v[0] if len(v) == 1 else v for k, v in sorted(out.items())}

    def data_check(self) -> dict:
        """The ``data_check`` stage (:func:`gazex_lib.data.check.check_data` of ``data_root``,
        once per data fingerprint): ``{"ok", "n_errors", "first_error", "faults"}``; the
        full report is the stage's ``check.txt``."""
        import json

        from gazex_lib.data.check import check_data

        def build(directory: Path) -> None:
            found = check_data(self.data_root, progress=self.progress)
            (directory / "check.txt").write_text(found.summary() + "\n", encoding="utf-8")
            payload = {"ok": found.ok, "n_errors": len(found.errors),
                       "first_error": found.errors[0][1] if found.errors else None,
                       "faults": dict(sorted(found.faults.items()))}
            (directory / "check.json").write_text(json.dumps(payload, indent=1) + "\n")

        info = self.stage("data_check", build, sections=("data",), version=1)
        return json.loads((info.directory / "check.json").read_text())

    def keyframe_table(self):
        """The key-frame table of every reading with gaze: the ``keyframes`` stage."""
        from gazex_lib.gaze.table import build_keyframe_table

        kt = build_keyframe_table(
            self.dataset, self.jpg_root, self.output_dir, self.keyframe_config(),
            n_jobs=self.config.keyframes.n_jobs, save_frames=self.config.keyframes.save_frames,
            progress=self.progress,
            use_cache=not wants_force("keyframes", self.config.stages.force),
            announce=self.announce)
        self._record(kt.stage)
        return kt

    # -- results ------------------------------------------------------------------------------
    def save_results(self, stem: str, results: dict, parameters: dict | None = None) -> Path:
        """Write ``<output_dir>/<stem>.json``: ``results``, the parameters the run was given
        (plus ``parameters``), and its provenance (commit, packages, device, data
        fingerprint, model identity, the keys of the stages it read)."""
        params = {**copy.deepcopy(self.parameters), **(parameters or {})}
        prov = _prov.provenance(data_fp=self.data_fingerprint, model=self.model_identity,
                                stages=self.stage_keys())
        return _config.write_result(self.output_dir, stem, results, params, provenance=prov)


def _resolve_data_root(profile: str, data_root, cfg: _config.Config, seed: int,
                       progress: bool) -> tuple[Path, bool]:
    if data_root is None and profile != "ci":
        raise SetupError(
            f"profile {profile!r} needs data_root: a folder holding reflacx/ and mimic-cxr-jpg/ "
            f"in their PhysioNet layouts (or data_root={SYNTHETIC!r} to generate a "
            f"{cfg.synthetic.n_readings}-reading synthetic dataset at full film size on purpose)")
    if data_root is None or str(data_root) == SYNTHETIC:
        return _config.resolve_data_root(None, cfg, seed, progress=progress), True
    root = Path(data_root).expanduser()
    if not root.is_dir():
        raise SetupError(f"data_root {root} is not a folder")
    from gazex_lib.data import schema

    if not (root / schema.REFLACX_DIR).is_dir():
        raise SetupError(f"data_root {root} has no {schema.REFLACX_DIR}/ folder (expected the "
                         "PhysioNet layouts: reflacx/, mimic-cxr-jpg/, ...)")
    from gazex_lib.data.synthetic.dataset import TRUTH_FILE

    return root.resolve(), (root / TRUTH_FILE).is_file()


def _resolve_model_path(profile: str, model_path) -> Path | None:
    if model_path is None:
        if profile != "ci":
            raise SetupError(f"profile {profile!r} needs model_path: a local Qwen2-VL checkpoint "
                             "folder (for example Qwen2-VL-2B-Instruct, with config.json)")
        return None
    path = Path(model_path).expanduser()
    if not (path / "config.json").is_file():
        raise SetupError(f"model_path {path} is not a checkpoint folder (no config.json)")
    return path.resolve()


def setup(profile: str = "ci", data_root=None, model_path=None, output_dir=None, seed: int = 0,
          *, announce: Callable[[str], None] | None = print, **overrides: Any) -> Run:
    """The run object of one notebook or command (see the module docstring)."""
    try:
        cfg = _config.load_config(profile, **overrides)
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise SetupError(f"seed must be an integer, got {seed!r}")
    given = {"profile": profile, "data_root": None if data_root is None else str(data_root),
             "model_path": None if model_path is None else str(model_path),
             "output_dir": None if output_dir is None else str(output_dir), "seed": seed}
    if overrides:
        given["overrides"] = {k: v for k, v in sorted(overrides.items()) if v is not None}
    if data_root is None and profile != "ci":
        _resolve_data_root(profile, data_root, cfg, seed, progress=False)   # raises: says what to pass
    model = _resolve_model_path(profile, model_path)
    root, synthetic = _resolve_data_root(profile, data_root, cfg, seed, progress=profile == "full")
    out = _config.resolve_output_dir(output_dir, profile)
    run = Run(profile=profile, data_root=root, model_path=model, output_dir=out, seed=seed,
              config=cfg, synthetic=synthetic, parameters=given, announce=announce)
    if cfg.data.check_before_run:
        check = run.data_check()
        if not check["ok"]:
            raise SetupError(f"the data under {root} failed its check (data.check_before_run); "
                             f"{check['n_errors']} structural error(s), first: "
                             f"{check['first_error']}; full report: "
                             f"{_config.display_path(run.stages['data_check'].directory)}"
                             "/check.txt")
    return run


def read_results(output_dir, stem: str) -> dict:
    """``<output_dir>/<stem>.json`` as written by :meth:`Run.save_results`."""
    path = Path(output_dir) / f"{stem}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run notebook {stem} first")
    return json.loads(path.read_text())


__all__ = ["Run", "SetupError", "setup", "read_results", "SYNTHETIC"]
