"""Checkpoints and the training log of :mod:`gazex_lib.train.loop`.

A checkpoint is ``<output_dir>/checkpoints/checkpoint_<step>/``, written by accelerate's
``save_state`` with automatic checkpoint naming (``ProjectConfiguration``; the iteration number
is set to the optimiser step before each save, so the name says the step) and pruned by
accelerate to the newest ``keep_checkpoints`` (``total_limit``). A PEFT model is stored as its
adapter only (``adapter/``, via save / load hooks). Next to accelerate's files,
``trainer_state.json`` (written by the main process) holds the data position, the open log
window and the config: it is plain JSON, read *before* ``load_state`` (to pick the newest
complete checkpoint by step and to refuse a resume that would change the data order), which is
why it is not an object registered with ``register_for_checkpointing`` (a pickle that only
``load_state`` reads). The log is ``<output_dir>/train_log.jsonl``, one JSON object per event.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

LOG_FILE = "train_log.jsonl"
STATE_FILE = "trainer_state.json"
CHECKPOINTS = "checkpoints"
ADAPTER_DIR = "adapter"

#: Config keys that fix the data order and the accumulation: a resume must not change them.
RESUME_INVARIANT = ("seed", "batch_size", "grad_accum", "shuffle", "drop_last")

def _is_peft(model) -> bool:
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, PeftModel)


def _adapter_hooks(accelerator):
    """Save / load hooks that store a PEFT model as its adapter (``adapter/``) instead of the
    full state dict; other models are left to accelerate."""

    def save_hook(models, weights, output_dir):
        for i in reversed(range(len(models))):
            model = accelerator.unwrap_model(models[i])
            if _is_peft(model):
                if accelerator.is_main_process:
                    model.save_pretrained(os.path.join(output_dir, ADAPTER_DIR))
                if i < len(weights):
                    weights.pop(i)

    def load_hook(models, input_dir):
        from peft import set_peft_model_state_dict
        from peft.utils import load_peft_weights

        for i in reversed(range(len(models))):
            model = accelerator.unwrap_model(models[i])
            if _is_peft(model):
                adapter_dir = os.path.join(input_dir, ADAPTER_DIR)
                state = load_peft_weights(adapter_dir, device="cpu")  # copied into place
                result = set_peft_model_state_dict(model, state)
                if result.unexpected_keys:
                    raise RuntimeError(f"{adapter_dir}: unexpected adapter keys "
                                       f"{result.unexpected_keys[:5]}")
                models.pop(i)

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)


def list_checkpoints(output_dir) -> list[Path]:
    """Checkpoint directories under ``<output_dir>/checkpoints``, oldest first."""
    root = Path(output_dir) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: json.loads((p / STATE_FILE).read_text())["global_step"])


def resolve_checkpoint(resume_from, output_dir) -> Path | None:
    """``None`` -> None; ``"latest"`` -> the newest checkpoint in ``output_dir`` (None if there
    is none: a fresh start); a path -> that directory (which must hold ``trainer_state.json``)."""
    if resume_from is None:
        return None
    if str(resume_from) == "latest":
        found = list_checkpoints(output_dir)
        return found[-1] if found else None
    path = Path(resume_from)
    if not (path / STATE_FILE).is_file():
        raise FileNotFoundError(f"{path} is not a checkpoint of gazex_lib.train (no {STATE_FILE})")
    return path


def _save_checkpoint(accelerator, config, state: dict, window_totals: dict) -> Path:
    """``accelerator.save_state()`` into ``checkpoints/checkpoint_<step>`` (accelerate names it
    and deletes the oldest beyond ``total_limit``), then ``trainer_state.json``. A collective:
    every process calls it (each saves its own RNG state; only the main one writes the rest)."""
    accelerator.project_configuration.iteration = state["global_step"]  # the folder's number
    path = Path(accelerator.save_state())
    if accelerator.is_main_process:
        payload = {**state, "window": window_totals, "config": config.to_dict()}
        (path / STATE_FILE).write_text(json.dumps(payload, indent=1))
    accelerator.wait_for_everyone()
    return path


def _drop_checkpoints_after(output_dir, step: int) -> None:
    """Delete the checkpoints newer than ``step`` (a run resumed from an older checkpoint
    rewrites them; accelerate refuses to save into an existing folder)."""
    root = Path(output_dir) / CHECKPOINTS
    if not root.is_dir():
        return
    for path in root.iterdir():
        if not path.is_dir():
            continue
        state = path / STATE_FILE
        newer = (json.loads(state.read_text())["global_step"] > step if state.is_file()
                 else True)  # an incomplete save
        if newer:
            shutil.rmtree(path)


def _check_resume_config(saved: dict, config, state: dict, path) -> None:
    """Refuse a resume that would change the data order or the accumulation (``ValueError``);
    warn about other changed settings."""
    bad = {k: (saved["config"].get(k), getattr(config, k)) for k in RESUME_INVARIANT
           if saved["config"].get(k) != getattr(config, k)}
    for k in ("n_records", "num_processes"):
        if saved.get(k, state[k]) != state[k]:
            bad[k] = (saved.get(k), state[k])
    if bad:
        raise ValueError(f"cannot resume exactly from {path}: {bad} (checkpoint, now) differ")
    now = config.to_dict()
    changed = {k: (v, now[k]) for k, v in saved["config"].items()
               if k not in RESUME_INVARIANT and k != "output_dir" and k in now and now[k] != v}
    if changed:
        warnings.warn(f"resuming from {path} with changed settings {changed}", stacklevel=3)


# ---------------------------------------------------------------------------- logging


def _append_jsonl(path: Path, entry: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def read_log(output_dir, kind: str | None = None) -> list[dict]:
    """The entries of ``<output_dir>/train_log.jsonl`` (``kind="train"`` / ``"eval"`` filters)."""
    path = Path(output_dir) / LOG_FILE
    if not path.is_file():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in entries if kind is None or e.get("kind") == kind]


def _truncate_log(path: Path, step: int) -> None:
    """Keep only the entries up to ``step`` (a resumed run rewrites what came after)."""
    if path.is_file():
        keep = [line for line in path.read_text().splitlines()
                if line.strip() and json.loads(line)["step"] <= step]
        path.write_text("".join(line + "\n" for line in keep))
