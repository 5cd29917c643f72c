"""The training loop under ``accelerate launch`` with 2 processes (CPU, gloo), against 1 process.

What it proves, on CPU: **gradient synchronisation** (2 processes × batch 2 × accumulation 1
take the same optimiser steps as 1 process × batch 2 × accumulation 2 on the same global
batches: equal per-step losses, learning rates, gradient norms and final LoRA weights),
**sampler sharding** (each process collates a different half of every global batch, and
together they see exactly the one-process micro-batches, in the seeded order of
:class:`~gazex_lib.train.EpochSampler`; the log counts each sample once) and **resume** (2
processes: N/2 steps, stop, new objects, resume to N == N straight; every process restores
its own RNG state, the adapter and ``trainer_state.json`` are written once). It does *not*
prove anything about NCCL, GPUs or bf16 (the collectives here are gloo's, the maths fp32).

How: ``tests/_mp_train_script.py`` runs once as a plain process (the reference) and once
under ``python -m accelerate.commands.launch --multi_gpu --num_processes 2`` with
``ACCELERATE_USE_CPU=1``. Not ``accelerate launch --cpu --num_processes 2``: accelerate 1.15
starts a *single* process for that (its simple launcher; only ``--mpirun_hostfile`` makes it
start several CPU processes), which this test would catch (it checks ``num_processes == 2``).
``--multi_gpu`` only selects torchrun as the launcher; ``ACCELERATE_USE_CPU=1`` (and
``CUDA_VISIBLE_DEVICES=``) keep both processes on the CPU with the gloo backend.

Tolerances: per-step losses (and lr, gradient norm) within 1e-6, final LoRA weights within
rtol = atol = 1e-5; resumed vs straight within 1e-6 (the one-process resume test's bound).
Measured here: all differences exactly 0 (with 2 processes the gradient average (a + b) / 2
and accumulation's a / 2 + b / 2 round the same). About 30 s on 2 cores.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gazex_lib.train import EpochSampler, read_log

SCRIPT = Path(__file__).resolve().parent / "_mp_train_script.py"
REPO = SCRIPT.parent.parent
STEPS, BATCH = 4, 2
N_RECORDS = 12            # 6 global batches of 4 records, 3 steps an epoch
LOSS_TOL, WEIGHT_TOL, RESUME_TOL = 1e-6, 1e-5, 1e-6


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], what: str) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "ACCELERATE_USE_CPU": "1", "CUDA_VISIBLE_DEVICES": "",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        pytest.fail(f"{what} failed (exit {res.returncode}):\n{' '.join(cmd)}\n"
                    f"--- stdout\n{res.stdout[-4000:]}\n--- stderr\n{res.stderr[-8000:]}")
    return time.perf_counter() - t


def _load(run_dir: Path, tag: str):
    result = json.loads((run_dir / f"result_{tag}.json").read_text())
    result["losses"] = {int(k): v for k, v in result["losses"].items()}
    weights = torch.load(run_dir / f"lora_{tag}.pt")
    ids = {int(p.stem.rsplit("rank", 1)[1]): json.loads(p.read_text())
           for p in run_dir.glob(f"ids_{tag}_rank*.json")}
    return result, weights, ids


def _max_diff(a: dict, b: dict) -> tuple[float, float]:
    assert a.keys() == b.keys() and len(a) > 0
    abs_d = max(float((a[k] - b[k]).abs().max()) for k in a)
    rel_d = max(float(((a[k] - b[k]).abs() / b[k].abs().clamp(min=1e-12)).max()) for k in a)
    return abs_d, rel_d


@pytest.fixture(scope="module")
def runs(tmp_path_factory, qwen_tokenizer_dir):
    """``{"single": dir, "multi": dir}`` after both runs (the tokenizer fixture builds the
    cached tokenizer the script loads)."""
    if not (torch.distributed.is_available() and torch.distributed.is_gloo_available()):
        pytest.fail("this torch has no gloo backend (torch.distributed.is_gloo_available() is "
                    "False): the 2-process CPU test needs it")
    root = tmp_path_factory.mktemp("multiprocess")
    common = [str(SCRIPT), "--steps", str(STEPS), "--batch_size", str(BATCH),
              "--n_records", str(N_RECORDS)]
    t_single = _run([sys.executable, *common, "--out", str(root / "single"), "--grad_accum", "2"],
                    "the one-process reference run")
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
              "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
              "--dynamo_backend", "no", "--main_process_port", str(_free_port())]
    t_multi = _run([*launch, *common, "--out", str(root / "multi"), "--grad_accum", "1",
                    "--resume"], "accelerate launch with 2 CPU processes")
    print(f"\none process: {t_single:.1f} s; 2 processes (straight + stop + resume): "
          f"{t_multi:.1f} s")
    return {"single": root / "single", "multi": root / "multi"}


def test_two_processes_equal_one_process_with_accumulation(runs):
    single, w_single, _ = _load(runs["single"] / "straight", "straight")
    multi, w_multi, _ = _load(runs["multi"] / "straight", "straight")
    assert single["num_processes"] == 1
    assert multi["num_processes"] == 2, "accelerate launch did not start 2 processes"
    assert sorted(multi["losses"]) == sorted(single["losses"]) == list(range(1, STEPS + 1))
    d_loss = max(abs(multi["losses"][s] - single["losses"][s]) for s in single["losses"])
    d_abs, d_rel = _max_diff(w_multi, w_single)
    print(f"\n2 processes vs 1 process × accumulation 2: max |Δ loss| = {d_loss:.3g}, "
          f"max |Δ LoRA weight| = {d_abs:.3g} (max relative {d_rel:.3g})")
    assert d_loss <= LOSS_TOL
    for k in w_single:
        assert torch.allclose(w_multi[k], w_single[k], rtol=WEIGHT_TOL, atol=WEIGHT_TOL), k
    assert all(float(v.abs().sum()) > 0 for k, v in w_multi.items() if "lora_B" in k)
    assert multi["lr"] == pytest.approx(single["lr"], abs=1e-12)
    for m, s in zip(multi["log"], single["log"]):
        # one log line per step (main process only); the window sums over both processes
        assert m["step"] == s["step"] and m["epoch"] == s["epoch"]
        assert sum(m["samples_per_task"].values()) == 2 * BATCH
        for key in ("samples_per_task", "label_tokens_per_task", "label_tokens", "input_tokens"):
            assert m[key] == s[key], key
        assert abs(m["grad_norm"] - s["grad_norm"]) <= LOSS_TOL
    assert [e["step"] for e in read_log(runs["multi"] / "straight", "train")] == [1, 2, 3, 4]
    cfg = json.loads((runs["multi"] / "straight" / "train_config.json").read_text())
    assert cfg["num_processes"] == 2 and cfg["batches_per_epoch"] == 3


def test_each_process_gets_its_half_of_every_global_batch(runs):
    _, _, single_ids = _load(runs["single"] / "straight", "straight")
    _, _, multi_ids = _load(runs["multi"] / "straight", "straight")
    assert sorted(single_ids) == [0] and sorted(multi_ids) == [0, 1]
    # the loader collates one batch ahead: compare the micro-batches the steps consumed
    one = single_ids[0][:2 * STEPS]
    r0, r1 = multi_ids[0][:STEPS], multi_ids[1][:STEPS]
    for step in range(STEPS):
        assert r0[step] == one[2 * step] and r1[step] == one[2 * step + 1], step
        assert not set(r0[step]) & set(r1[step])
    # the one-process order is the seeded per-epoch permutation, epochs 0 and 1
    sampler = EpochSampler(N_RECORDS, seed=0)
    order = sampler.order(0) + sampler.order(1)
    assert one == [[f"rec{i}" for i in order[j:j + BATCH]]
                   for j in range(0, 2 * STEPS * BATCH, BATCH)]


def test_two_process_resume_is_exact(runs):
    straight, w_straight, ids_straight = _load(runs["multi"] / "straight", "straight")
    first, _, _ = _load(runs["multi"] / "resumed", "first")
    second, w_second, ids_second = _load(runs["multi"] / "resumed", "second")
    assert first["global_step"] == STEPS // 2 and first["num_processes"] == 2
    assert second["resumed_from"].endswith(f"checkpoint_{STEPS // 2}")
    assert second["global_step"] == STEPS and second["losses"].keys() == straight["losses"].keys()
    d_loss = max(abs(second["losses"][s] - straight["losses"][s]) for s in straight["losses"])
    d_abs, _ = _max_diff(w_second, w_straight)
    print(f"\n2 processes, N/2 + resume + N/2 vs N: max |Δ loss| = {d_loss:.3g}, "
          f"max |Δ LoRA weight| = {d_abs:.3g}")
    assert d_loss <= RESUME_TOL and d_abs <= RESUME_TOL
    assert second["lr"] == straight["lr"]
    # after the resume each process continues with its own next micro-batch
    for rank in (0, 1):
        assert ids_second[rank][:STEPS // 2] == ids_straight[rank][STEPS // 2:STEPS], rank
    # a checkpoint: one adapter and trainer state, one RNG state per process
    ckpt = runs["multi"] / "resumed" / "checkpoints" / f"checkpoint_{STEPS // 2}"
    names = {p.name for p in ckpt.iterdir()}
    assert {"adapter", "optimizer.bin", "scheduler.bin", "trainer_state.json",
            "random_states_0.pkl", "random_states_1.pkl"} <= names
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert (state["num_processes"], state["global_step"], state["batch_in_epoch"]) == (2, 2, 2)
