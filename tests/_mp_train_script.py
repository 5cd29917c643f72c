"""Training runs for tests/test_multiprocess.py, one script for both sides of the comparison.

* Under ``accelerate launch`` (2 processes): ``--grad_accum 1``, and with ``--resume`` also
  N/2 steps, stop, fresh objects, resume to N.
* As a plain ``python`` process: the one-process reference (``--grad_accum 2``).

Every run goes into ``<out>/<run>/`` (``train()``'s own files), and each ``train`` call
(``<tag>``: straight, first, second) adds ``ids_<tag>_rank<r>.json`` (the record ids of every
micro-batch each process collated, in order) and, from the main process, ``result_<tag>.json``
(losses, learning rates, number of processes ...) and ``lora_<tag>.pt`` (the LoRA weights).
Same tiny model, LoRA initialisation and records as tests/test_train.py.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import torch
from accelerate import PartialState

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_train import LORA, PIXELS, RecordingCollator, make_record  # noqa: E402

from gazex_lib.config import load_config  # noqa: E402
from gazex_lib.model import apply_lora, build_processor, load_model  # noqa: E402
from gazex_lib.model.tokenizer import ensure_tokenizer  # noqa: E402
from gazex_lib.train import ChatCollator, config_from_profile, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--grad_accum", type=int, required=True)
    ap.add_argument("--batch_size", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--n_records", type=int, default=12)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()

    # cpu=True: a bare PartialState() ignores ACCELERATE_USE_CPU and, on a machine without a
    # GPU, would make every launched process a separate one-process run (train() refuses)
    state = PartialState(cpu=True)
    processor = build_processor(ensure_tokenizer(), **PIXELS)
    base, _ = load_model(None, seed=0, device="cpu", processor_kwargs=PIXELS)
    records = [make_record(i) for i in range(args.n_records)]

    def fresh_lora():
        model = copy.deepcopy(base)
        torch.manual_seed(123)
        return apply_lora(model, **{**LORA, "r": 4, "alpha": 8})

    def run(name: str, tag: str, **kw) -> None:
        out = Path(args.out) / name
        config = config_from_profile(
            load_config("ci"), out, lr=5e-3, max_steps=args.steps, batch_size=args.batch_size,
            grad_accum=args.grad_accum, warmup_steps=1, log_every=1, ckpt_every=2, seed=0,
            max_grad_norm=1.0, weight_decay=0.01, max_length=None, deterministic=False)
        model = fresh_lora()
        collator = RecordingCollator(ChatCollator(processor))
        res = train(model, processor, records, config, progress=False, collator=collator, **kw)
        (out / f"ids_{tag}_rank{state.process_index}.json").write_text(json.dumps(collator.ids))
        if state.is_main_process:
            lora = {k: v.detach().cpu().clone() for k, v in model.named_parameters()
                    if "lora_" in k}
            torch.save(lora, out / f"lora_{tag}.pt")
            (out / f"result_{tag}.json").write_text(json.dumps({
                "num_processes": state.num_processes, "global_step": res.global_step,
                "losses": res.losses, "lr": [e["lr"] for e in res.log], "log": res.log,
                "checkpoints": res.checkpoints, "resumed_from": res.resumed_from}))
        state.wait_for_everyone()

    run("straight", "straight")
    if args.resume:  # a pre-empted job (checkpoint, stop), then new objects and a resume
        run("resumed", "first", stop_after=args.steps // 2)
        run("resumed", "second", resume_from="latest")
    state.destroy_process_group()  # a gloo group left open can abort the interpreter at exit


if __name__ == "__main__":
    main()
