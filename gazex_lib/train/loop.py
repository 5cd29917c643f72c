"""The training loop: LoRA (or full) fine-tuning of Qwen2-VL on chat records, on accelerate.

``train(model, processor, records, config)`` reads top to bottom like the accelerate / nanoGPT
examples: build the Accelerator, the data, the optimiser and the schedule; ``prepare`` them;
optionally resume; then loop over epochs and batches with ``accelerator.accumulate``. The same
code runs on CPU (ci), one GPU, or ``accelerate launch`` on several (no device is hard-coded;
only the main process writes logs and files).

Decisions, in one place:

* **Loss.** The forward pass runs without ``labels`` and with ``logits_to_keep`` = the label
  positions (transformers' slicing: a (B, L, V) projection onto the 151,657-token vocabulary
  would be most of a tiny model's step); the loss is computed here with ``reduction="none"``
  (:func:`~gazex_lib.train.losses.model_token_losses`), so each sample's summed loss and its number
  of label tokens are known. The loss that is back-propagated is the token mean over the
  micro-batch (what transformers computes for ``labels=``; a test checks the two agree). With
  gradient accumulation each micro-batch mean is divided by ``grad_accum`` (``accelerator``'s
  rule), so an optimiser step minimises the mean of its micro-batch means.
* **Per-task losses.** Summed token losses and token counts are accumulated per task over the
  ``log_every`` window (and over processes) and logged as token-weighted means: the logged
  ``loss`` is (sum of token losses) / (number of label tokens) over the window, ``loss_per_task``
  the same restricted to each task's samples. Exact for any batch size, no extra forward pass.
* **Data order.** accelerate's seedable sampler (``DataLoaderConfiguration(
  use_seedable_sampler=True, data_seed=seed)``) draws epoch ``e``'s permutation from a
  generator seeded with ``seed + e``: the order is a pure function of (seed, epoch), identical
  on every process, and needs no generator state to resume. It is the order of
  :class:`~gazex_lib.train.sampler.EpochSampler` (tested).
* **Processes.** Under ``accelerate launch`` each process takes every ``num_processes``-th
  micro-batch of that order (accelerate's batch sharding): P processes × ``batch_size`` b ×
  ``grad_accum`` 1 see the micro-batches and take the steps of 1 process × b × ``grad_accum``
  P (the gradients are averaged across processes as accumulation averages micro-batches;
  tested on CPU with 2 gloo processes). If the number of batches in an epoch is not a multiple
  of the number of processes, accelerate fills the last round with batches from the start of
  the epoch (``even_batches``), which are then trained on and logged twice.
* **Checkpoints** (every ``ckpt_every`` optimiser steps, in
  ``<output_dir>/checkpoints/checkpoint_<step>``): ``accelerator.save_state`` with automatic
  checkpoint naming, the newest ``keep_checkpoints`` kept by accelerate (``total_limit``):
  optimiser, scheduler, the python / numpy / torch RNG states of every process, the
  accumulation counter, with the model's weights replaced by the **adapter only** (a PEFT
  model's ``save_pretrained`` into ``adapter/``, via save / load hooks; a non-PEFT model is
  saved whole by accelerate), plus ``trainer_state.json``: the data position (epoch, batches
  consumed in it per process, optimiser step), the open log window, and the config.
* **Exact resume.** ``resume_from`` (a checkpoint directory, or ``"latest"``) loads all of the
  above, skips the batches already seen in the current epoch
  (``accelerator.skip_first_batches``), and truncates ``train_log.jsonl`` (and drops newer
  checkpoints) to the checkpoint's step. N steps in one go and N/2 + resume + N/2 give the
  same losses and weights (tested on CPU to 1e-6, with 1 and with 2 processes). The seed,
  batch size, accumulation, number of records and number of processes must not change.
* **Determinism.** ``accelerate.utils.set_seed(seed)`` before anything random; with
  ``deterministic=True`` also ``torch.use_deterministic_algorithms(True, warn_only=True)``.
* **Outputs** (main process): ``train_log.jsonl`` (one JSON object per log / eval event),
  ``train_config.json``, ``checkpoints/``, and the final ``adapter/`` (PEFT ``save_pretrained``
  plus the processor), or ``model/`` for a model without adapters. A fresh run (no checkpoint
  to resume) first removes an older run's ``train_log.jsonl`` and ``checkpoints/``.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from gazex_lib.train.checkpoints import (  # noqa: F401  (re-exported)
    ADAPTER_DIR, CHECKPOINTS, LOG_FILE, RESUME_INVARIANT, STATE_FILE, _adapter_hooks,
    _append_jsonl, _check_resume_config, _drop_checkpoints_after, _is_peft, _save_checkpoint,
    _truncate_log, list_checkpoints, read_log, resolve_checkpoint,
)
from gazex_lib.train.collator import IGNORE_INDEX, ChatCollator, split_batch  # noqa: F401
from gazex_lib.train.config import (MIXED_PRECISION, TrainConfig,  # noqa: F401  (re-exported)
                                   config_from_profile)
from gazex_lib.train.losses import (LossWindow, model_token_losses, summarize,  # noqa: F401
                                    token_losses)
from gazex_lib.train.sampler import EpochSampler  # noqa: F401  (re-exported)

CONFIG_FILE = "train_config.json"
MODEL_DIR = "model"


# ---------------------------------------------------------------------------- result


@dataclass
class TrainResult:
    """What :func:`train` returns. ``log`` / ``eval`` are the entries of ``train_log.jsonl``
    (after a resume: those before the checkpoint too). Under ``accelerate launch`` only the
    main process reads them; the others get empty lists."""

    output_dir: str
    global_step: int
    total_steps: int
    epoch: int
    final_loss: float | None
    log: list[dict] = field(default_factory=list)
    eval: list[dict] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    adapter_dir: str | None = None
    seconds: float = 0.0
    resumed_from: str | None = None

    @property
    def losses(self) -> dict[int, float]:
        """``{step: loss}`` of the train log entries."""
        return {e["step"]: e["loss"] for e in self.log}


# ---------------------------------------------------------------------------- evaluation


def evaluate(model, loader, accelerator, tasks: Sequence[str]) -> dict:
    """Token-weighted eval loss overall and per task over ``loader`` (prepared), all processes.

    Per-sample sums are gathered with ``gather_for_metrics``, which drops the samples that
    accelerate repeats to give every process an equal last batch: each record counts once."""
    import torch

    window = LossWindow(tasks, accelerator.device)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for batch in loader:
            inputs, meta = split_batch(batch)
            _, per_sum, per_n = model_token_losses(model, inputs, meta["labels"])
            task_idx = torch.tensor([window.index[t] for t in meta["task"]], device=per_sum.device)
            per_sum, per_n, task_idx = accelerator.gather_for_metrics((per_sum, per_n, task_idx))
            window.add([tasks[i] for i in task_idx.tolist()], per_sum, per_n)
    model.train(was_training)
    return summarize(window.reduce(None), tasks)  # gathered: every process holds the totals


# ---------------------------------------------------------------------------- the loop


def _build_optimizer(model, config: TrainConfig):
    import torch

    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    if not decay and not no_decay:
        raise ValueError("the model has no trainable parameters (apply_lora first?)")
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr,
                             betas=config.adam_betas, eps=config.adam_eps)


def train(model, processor, records: Sequence[dict], config: TrainConfig, *,
          eval_records: Sequence[dict] | None = None, resume_from=None, progress: bool = True,
          collator: ChatCollator | None = None, resolve=None,
          stop_after: int | None = None) -> TrainResult:
    """Train ``model`` (LoRA applied or not) on chat ``records``; see the module docstring.

    * ``config``: a :class:`TrainConfig` (or a dict for :meth:`TrainConfig.from_dict`).
    * ``eval_records``: evaluated every ``eval_every`` steps and at the end (loss per task).
    * ``resume_from``: a checkpoint directory, ``"latest"`` (the newest in ``output_dir``, or a
      fresh start if none), or ``None``.
    * ``collator``: default ``ChatCollator(processor, max_length=config.max_length,
      resolve=resolve)``; ``resolve`` resolves lazy media (``gazex_lib.tasks.RecordResolver``).
    * ``stop_after``: end this call after that optimiser step, as a pre-empted job would, with
      a checkpoint there (the schedule still spans the whole run); resume with
      ``resume_from="latest"``. The adapter is then not written to ``adapter/``.

    Under ``accelerate launch`` every process calls ``train`` with the same arguments; end the
    script with ``accelerate.PartialState().destroy_process_group()`` (a gloo process group
    left open can abort the interpreter at exit). Several CPU processes: launch with
    ``--multi_gpu --num_processes N`` and ``ACCELERATE_USE_CPU=1`` (``--cpu --num_processes
    N`` starts one process in accelerate 1.15); ``tests/test_multiprocess.py`` does.
    """
    import torch
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
    from torch.utils.data import DataLoader
    from tqdm import tqdm
    from transformers import get_cosine_schedule_with_warmup

    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    records = list(records)
    if not records:
        raise ValueError("no training records")
    output_dir = Path(config.output_dir)
    t_start = time.perf_counter()

    # -- accelerator: accumulation, checkpoint naming + pruning, a seeded data order; seeds
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision, gradient_accumulation_steps=config.grad_accum,
        project_config=ProjectConfiguration(project_dir=str(output_dir),
                                            automatic_checkpoint_naming=True,
                                            total_limit=config.keep_checkpoints or None),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True,
                                                  data_seed=config.seed))
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != accelerator.num_processes:
        raise RuntimeError(
            f"launched as {launched} processes (WORLD_SIZE) but accelerate runs "
            f"{accelerator.num_processes}: each process would train alone into the same "
            "output_dir. On CPU set ACCELERATE_USE_CPU=1 (or Accelerator(cpu=True) / "
            "PartialState(cpu=True) before train): a bare PartialState() without a GPU "
            "does not join the launched processes")
    if config.mixed_precision == "bf16" and accelerator.device.type == "cpu":
        warnings.warn("bf16 autocast on CPU is very slow here (a backward pass took about 40x "
                      "its fp32 time): use mixed_precision='no' on CPU", stacklevel=2)
    set_seed(config.seed)
    if config.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)

    # -- data: shuffled per epoch by accelerate's seedable sampler (seed + epoch, the same on
    # every process, which then takes its share of the batches); collated on the fly
    collator = collator or ChatCollator(processor, max_length=config.max_length, resolve=resolve)
    tasks = sorted({r.get("task", "") for r in records}
                   | {r.get("task", "") for r in (eval_records or [])})
    loader = DataLoader(records, batch_size=config.batch_size, shuffle=config.shuffle,
                        collate_fn=collator, num_workers=config.num_workers,
                        drop_last=config.drop_last,  # own generator: not the global torch RNG
                        generator=torch.Generator().manual_seed(config.seed))
    eval_loader = None
    if eval_records:
        eval_loader = DataLoader(list(eval_records),
                                 batch_size=config.eval_batch_size or config.batch_size,
                                 shuffle=False, collate_fn=collator, num_workers=config.num_workers)

    # -- optimiser over trainable parameters only; warmup + cosine schedule
    optimizer = _build_optimizer(model, config)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    if eval_loader is not None:
        eval_loader = accelerator.prepare(eval_loader)
    batches_per_epoch = len(loader)
    if batches_per_epoch == 0:
        raise ValueError(f"{len(records)} records give no batch of {config.batch_size} per process")
    steps_per_epoch = math.ceil(batches_per_epoch / config.grad_accum)
    total_steps = config.max_steps or max(1, math.ceil(config.epochs * steps_per_epoch))
    warmup = (config.warmup_steps if config.warmup_steps is not None
              else round(config.warmup_ratio * total_steps))
    # accelerate steps a prepared scheduler once per process per optimiser step
    scheduler = get_cosine_schedule_with_warmup(optimizer, warmup * accelerator.num_processes,
                                                total_steps * accelerator.num_processes)
    scheduler = accelerator.prepare(scheduler)
    _adapter_hooks(accelerator)

    # -- where we are in the data: fresh, or from a checkpoint
    state = {"epoch": 0, "batch_in_epoch": 0, "global_step": 0, "seconds": 0.0,
             "n_records": len(records), "total_steps": total_steps,
             "num_processes": accelerator.num_processes}
    window = LossWindow(tasks, accelerator.device)
    ckpt = resolve_checkpoint(resume_from, output_dir)
    if ckpt is not None:
        saved = json.loads((ckpt / STATE_FILE).read_text())
        _check_resume_config(saved, config, state, ckpt)
        accelerator.load_state(str(ckpt))
        state.update({k: saved[k] for k in ("epoch", "batch_in_epoch", "global_step", "seconds")})
        if accelerator.is_main_process:
            window.load(saved["window"])
    log_path = output_dir / LOG_FILE
    if accelerator.is_main_process:
        if ckpt is None:  # a fresh run: no stale log lines or checkpoints from an older run
            log_path.unlink(missing_ok=True)
            shutil.rmtree(output_dir / CHECKPOINTS, ignore_errors=True)
        else:  # a resumed run rewrites what came after its checkpoint
            _truncate_log(log_path, state["global_step"])
            _drop_checkpoints_after(output_dir, state["global_step"])
        (output_dir / CONFIG_FILE).write_text(json.dumps(
            {**config.to_dict(), "total_steps": total_steps, "warmup_steps": warmup,
             "batches_per_epoch": batches_per_epoch, "num_processes": accelerator.num_processes,
             "tasks": tasks}, indent=1))
    accelerator.wait_for_everyone()

    def log_window(kind_extra: dict | None = None) -> None:
        totals = window.reduce(accelerator)  # collective
        if accelerator.is_main_process and totals["steps"]:
            entry = {"kind": "train", "step": state["global_step"], "epoch": state["epoch"],
                     "lr": scheduler.get_last_lr()[0], **summarize(totals, tasks),
                     "steps": totals["steps"], "seconds": round(state["seconds"], 3),
                     "step_seconds": round(totals["seconds"] / totals["steps"], 4),
                     **(kind_extra or {})}
            _append_jsonl(log_path, entry)
            bar.set_postfix(loss=f"{entry['loss']:.4f}", lr=f"{entry['lr']:.2e}")
        window.reset()

    def run_eval() -> None:
        result = evaluate(model, eval_loader, accelerator, tasks)  # collective
        if accelerator.is_main_process:
            _append_jsonl(log_path, {"kind": "eval", "step": state["global_step"],
                                     "eval_loss": result["loss"],
                                     "eval_loss_per_task": result["loss_per_task"],
                                     "samples_per_task": result["samples_per_task"],
                                     "label_tokens_per_task": result["label_tokens_per_task"],
                                     "label_tokens": result["label_tokens"]})

    def checkpoint() -> None:
        _save_checkpoint(accelerator, config, state, window.reduce(accelerator))  # collective

    bar = tqdm(total=total_steps, initial=state["global_step"], desc="train", dynamic_ncols=True,
               disable=not (progress and accelerator.is_local_main_process))
    grad_norm = None
    stopped = False
    model.train()
    t_step = time.perf_counter()

    # -- the loop: epochs, then micro-batches; an optimiser step every grad_accum of them
    while state["global_step"] < total_steps and not stopped:
        loader.set_epoch(state["epoch"])  # the sampler's permutation: seed + epoch
        batches = (accelerator.skip_first_batches(loader, state["batch_in_epoch"])
                   if state["batch_in_epoch"] else loader)
        for batch in batches:
            inputs, meta = split_batch(batch)
            with accelerator.accumulate(model):
                loss, per_sum, per_n = model_token_losses(model, inputs, meta["labels"])
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm:
                    grad_norm = accelerator.clip_grad_norm_(model.parameters(),
                                                            config.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            window.add(meta["task"], per_sum, per_n, inputs["attention_mask"].sum())
            state["batch_in_epoch"] += 1
            if not accelerator.sync_gradients:
                continue
            # one optimiser step done
            now = time.perf_counter()
            window.steps += 1
            window.seconds += now - t_step
            state["seconds"] += now - t_step
            t_step = now
            state["global_step"] += 1
            step = state["global_step"]
            bar.update(1)
            if step == total_steps or (config.log_every and step % config.log_every == 0):
                log_window({"grad_norm": float(grad_norm)} if grad_norm is not None else {})
            if eval_loader is not None and config.eval_every and step % config.eval_every == 0:
                run_eval()
            scheduled = bool(config.ckpt_every) and step % config.ckpt_every == 0
            preempted = stop_after is not None and stop_after <= step < total_steps
            if scheduled or preempted:
                checkpoint()
            if preempted:
                stopped = True
                break
            t_step = time.perf_counter()
            if step >= total_steps:
                break
        else:  # the epoch ran out: the next one starts from its first batch
            state["epoch"] += 1
            state["batch_in_epoch"] = 0
    bar.close()

    # -- final evaluation and the adapter (+ processor) for evaluation notebooks
    final_dir = None
    if not stopped:
        if eval_loader is not None and not (config.eval_every
                                            and state["global_step"] % config.eval_every == 0):
            run_eval()
        accelerator.wait_for_everyone()
        unwrapped = accelerator.unwrap_model(model)
        final_dir = output_dir / (ADAPTER_DIR if _is_peft(unwrapped) else MODEL_DIR)
        if accelerator.is_main_process:
            unwrapped.save_pretrained(str(final_dir), is_main_process=True)
            processor.save_pretrained(str(final_dir))
    accelerator.wait_for_everyone()
    seconds = time.perf_counter() - t_start
    main = accelerator.is_main_process
    log = read_log(output_dir, "train") if main else []
    result = TrainResult(
        output_dir=str(output_dir), global_step=state["global_step"], total_steps=total_steps,
        epoch=state["epoch"], final_loss=log[-1]["loss"] if log else None, log=log,
        eval=read_log(output_dir, "eval") if main else [],
        checkpoints=[str(c) for c in list_checkpoints(output_dir)],
        adapter_dir=str(final_dir) if final_dir else None, seconds=seconds,
        resumed_from=str(ckpt) if ckpt is not None else None)
    accelerator.free_memory()
    return result


__all__ = ["TrainConfig", "TrainResult", "EpochSampler", "train", "evaluate", "token_losses",
           "read_log", "list_checkpoints", "resolve_checkpoint", "config_from_profile"]
