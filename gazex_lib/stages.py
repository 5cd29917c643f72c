"""Cached stages: expensive work that runs once and is reused when asked for again.

A stage's output lives in ``<output_dir>/stages/<name>/<key>/``, where ``<key>`` hashes
everything that changes the output (:func:`stage_key`): the configuration sections it reads,
the data fingerprint, the model identity, the keys of the stages it reads from, the seed (for
stages that draw random numbers) and the stage code's version number.

* **Atomic.** The output is written into ``<key>.partial/`` and renamed to ``<key>/`` when
  complete, with a ``STAGE.json`` (name, key, what went into the key, build time). A killed
  run never leaves a folder that looks complete.
* **Resumable.** The partial folder's name is deterministic, so asking again after a kill
  builds into the same folder; a training stage finds its own checkpoints there and resumes.
* **Reused.** Asking again with the same key returns the existing output and says so.
* **Forced.** ``force=True`` (or the stage's name in the ``stages.force`` config list, or
  ``all``) deletes the output and its partial folder and builds again.
* **Several processes.** Under ``accelerate launch`` every rank runs ``build``; only the main
  rank writes ``STAGE.json`` and renames, after a barrier.

>>> info = run_stage(out, "pretraining", {"train": {...}, "seed": 0}, build)  # doctest: +SKIP
stage pretraining [3f2a...]: built in 312.4 s
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from gazex_lib.provenance import digest

STAGES_DIR = "stages"
STAGE_FILE = "STAGE.json"
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class StageInfo:
    """A stage's output folder and how it was obtained (``status``: ``built`` or ``reused``).
    ``seconds`` is the build time (read back from ``STAGE.json`` when reused)."""
    name: str
    key: str
    directory: Path
    status: str
    seconds: float
    inputs: dict = field(repr=False, default_factory=dict)

    def message(self) -> str:
        verb = "built in" if self.status == "built" else "reused (built in"
        tail = "" if self.status == "built" else ")"
        return f"stage {self.name} [{self.key}]: {verb} {self.seconds:.1f} s{tail}"


def stage_key(inputs: dict) -> str:
    """16 hex digits identifying ``inputs`` (a JSON-able dict; key order does not matter)."""
    return digest(inputs)


def stage_dir(output_dir, name: str, key: str) -> Path:
    return Path(output_dir) / STAGES_DIR / name / key


def is_complete(directory: Path) -> bool:
    return (Path(directory) / STAGE_FILE).is_file()


def _world():
    """``(is_main, barrier)`` of the running process group (a no-op for one process)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return True, (lambda: None)
    from accelerate import PartialState

    # cpu=...: a bare PartialState() ignores ACCELERATE_USE_CPU on a machine without a GPU
    state = PartialState(cpu=os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true"))
    return state.is_main_process, state.wait_for_everyone


def run_stage(output_dir, name: str, inputs: dict, build: Callable[[Path], None], *,
              force: bool = False, announce: Callable[[str], None] | None = print) -> StageInfo:
    """Return stage ``name``'s output for ``inputs``, building it with ``build(partial_dir)``
    only when no complete output with that key exists (or ``force``).

    ``build`` writes its files into the folder it is given (which may hold a killed run's
    files: resume from them or clear them). ``announce`` receives one line saying built or
    reused (``None``: silent).
    """
    key = stage_key(inputs)
    final = stage_dir(output_dir, name, key)
    partial = final.with_name(key + PARTIAL_SUFFIX)
    is_main, barrier = _world()
    if force:
        if is_main:
            for d in (final, partial):
                shutil.rmtree(d, ignore_errors=True)
        barrier()
    elif is_complete(final):
        info = json.loads((final / STAGE_FILE).read_text())
        out = StageInfo(name, key, final, "reused", float(info.get("seconds", 0.0)), inputs)
        if announce:
            announce(out.message())
        return out
    if is_main:
        partial.mkdir(parents=True, exist_ok=True)
    barrier()
    t0 = time.perf_counter()
    build(partial)
    seconds = round(time.perf_counter() - t0, 1)
    barrier()
    if is_main:
        (partial / STAGE_FILE).write_text(json.dumps(
            {"name": name, "key": key, "inputs": inputs, "seconds": seconds},
            indent=2, sort_keys=True, default=str) + "\n")
        if final.exists():          # a forced rebuild raced with another process
            shutil.rmtree(final)
        os.replace(partial, final)
    barrier()
    out = StageInfo(name, key, final, "built", seconds, inputs)
    if announce:
        announce(out.message())
    return out


def wants_force(name: str, force_list) -> bool:
    """Whether ``name`` is in a ``stages.force`` list (``all`` matches every stage)."""
    force_list = tuple(force_list or ())
    return name in force_list or "all" in force_list


__all__ = ["StageInfo", "run_stage", "stage_key", "stage_dir", "is_complete", "wants_force",
           "STAGES_DIR", "STAGE_FILE", "PARTIAL_SUFFIX"]
