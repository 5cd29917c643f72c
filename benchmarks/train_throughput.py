"""LoRA training throughput of Qwen2-VL on one GazeX-shaped sample (image + attention video).

    python benchmarks/train_throughput.py --size tiny                 # ci model, CPU
    python benchmarks/train_throughput.py --size 2b --steps 1         # 2B architecture, CPU check
    python benchmarks/train_throughput.py --size 2b --device cuda     # GPU: bf16, SDPA

The model is built from a config with random weights (``2b``: the published Qwen2-VL-2B-Instruct
architecture, nothing downloaded) and the rebuilt Qwen2 tokenizer; LoRA r=8 on the language
model's q/k/v/o/gate/up/down projections; gradient checkpointing on (use_reentrant=False).
One synthetic sample: a film image, an attention video of ``--frames`` frames and ``--seq``
answer tokens after the prompt. Timed: forward + backward + AdamW step, after ``--warmup``
steps, CUDA synchronised.

Reported: tokens/s (LM tokens, visual placeholders included, × batch / step time), samples/s,
peak memory (``torch.cuda.max_memory_allocated`` on GPU, peak RSS on CPU) and, on GPU, MFU:

    MFU = 6 · N_total · T / t_step / peak_bf16

with N_total all parameters (tied embedding once), T the LM tokens of a step and peak_bf16 the
dense bf16 peak of the card (H100 SXM / H200: 989 TFLOP/s; H100 PCIe 756; A100 312). This is
the usual 6·N·T estimate (2NT forward + 4NT backward); with LoRA the weight gradients of the
frozen base are skipped (−2NT) but checkpointing recomputes the forward (+2NT), so 6NT stays
about right. It counts the vision tower as if it ran on LM tokens; the line ``flops (vision
aware)`` gives 6·(N_lm·T + N_vision·P) with P the vision patches, and its MFU. The last line is

    train: tokens_per_s=<x> samples_per_s=<y> mfu=<z or n/a> device=<...>
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PEAK_BF16_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.0), ("H200", 989.0), ("GH200", 989.0),
                    ("A100", 312.0))

#: (device type, size) -> default image (h, w), frames, frame (h, w), image/video max pixels.
DEFAULTS = {
    ("cpu", "tiny"): dict(image=(448, 448), frames=8, frame=(224, 224), seq=300),
    ("cpu", "small"): dict(image=(448, 448), frames=8, frame=(224, 224), seq=300),
    ("cpu", "2b"): dict(image=(224, 224), frames=4, frame=(112, 112), seq=32),
    # GPU: a paper-like film (764 × 636 px, ≈ 0.49 Mpx < 768 tokens × 784 px) and 8 half-size
    # attention frames
    ("cuda", "tiny"): dict(image=(764, 636), frames=8, frame=(382, 318), seq=300),
    ("cuda", "small"): dict(image=(764, 636), frames=8, frame=(382, 318), seq=300),
    ("cuda", "2b"): dict(image=(764, 636), frames=8, frame=(382, 318), seq=300),
}
MAX_PIXELS = 768 * 28 * 28  # 602,112 px: 768 visual tokens per image / 2 frames


def _pair(text: str | None):
    if text is None:
        return None
    parts = [int(x) for x in text.lower().replace("x", ",").split(",")]
    return (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def peak_tflops(name: str) -> float | None:
    for key, value in PEAK_BF16_TFLOPS:
        if key.lower() in name.lower():
            return value
    return None


def _batch(sample: dict, batch: int) -> dict:
    import torch

    if batch == 1:
        return sample
    out = {}
    for k, v in sample.items():
        if k in ("pixel_values", "pixel_values_videos", "image_grid_thw", "video_grid_thw"):
            out[k] = torch.cat([v] * batch, dim=0)
        else:
            out[k] = v.repeat(batch, 1)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="tiny", choices=["tiny", "small", "2b"])
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default 5; 2b on CPU: 1)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps (default 1; 2b on CPU: 0)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--seq", type=int, default=None, help="answer (target) tokens (default 300)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--image", default=None, help="image H,W in px (e.g. 764,636)")
    ap.add_argument("--frames", type=int, default=None, help="video frames (0: no video)")
    ap.add_argument("--frame", default=None, help="frame H,W in px")
    ap.add_argument("--max-pixels", type=int, default=MAX_PIXELS, help="image and frame pixel cap")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--no-checkpointing", action="store_true")
    ap.add_argument("--attn", default=None, help="attn_implementation (default sdpa)")
    ap.add_argument("--loss", default="kept", choices=["kept", "full"],
                    help="kept: logits at label positions only, as gazex_lib.train computes the "
                         "loss (default); full: transformers' labels= loss over every position")
    ap.add_argument("--peak-tflops", type=float, default=None, help="override the card's bf16 peak")
    args = ap.parse_args(argv)

    import torch

    from gazex_lib.config import load_config
    from gazex_lib.model import apply_lora, load_model, trainable_summary
    from gazex_lib.model.setup import lora_kwargs
    from gazex_lib.model.loading import resolve_device
    from gazex_lib.model.synthetic import synthetic_sample

    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    device = resolve_device(args.device)
    d = DEFAULTS[(device.type, args.size)]
    cpu_2b = device.type == "cpu" and args.size == "2b"
    steps = args.steps if args.steps is not None else (1 if cpu_2b else 5)
    warmup = args.warmup if args.warmup is not None else (0 if cpu_2b else 1)
    image = _pair(args.image) or d["image"]
    frames = d["frames"] if args.frames is None else args.frames
    frame = _pair(args.frame) or d["frame"]
    seq = d["seq"] if args.seq is None else args.seq

    t0 = time.perf_counter()
    model, processor = load_model(
        None, size=args.size, device=device, attn_implementation=args.attn, seed=0,
        gradient_checkpointing=not args.no_checkpointing,
        processor_kwargs=dict(min_pixels=56 * 56, max_pixels=args.max_pixels,
                              video_min_pixels=56 * 56, video_max_pixels=args.max_pixels))
    model = apply_lora(model, **{**lora_kwargs(load_config("full").model), "r": args.rank,
                                 "alpha": 2 * args.rank})
    model.train()
    t_build = time.perf_counter() - t0
    n_total = sum(p.numel() for p in model.parameters())
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_vision = sum(p.numel() for n, p in model.named_parameters() if ".visual." in n)
    n_lm = n_total - n_vision

    sample = synthetic_sample(processor, image_size=image, n_frames=frames, frame_size=frame,
                              n_target_tokens=seq)
    sample = {k: v.to(device) for k, v in _batch(sample, args.batch).items()}
    for k in ("pixel_values", "pixel_values_videos"):
        if k in sample:
            sample[k] = sample[k].to(model.dtype)
    n_tokens = int(sample["input_ids"].numel())
    n_patches = int(sum(int(g.prod()) for key in ("image_grid_thw", "video_grid_thw")
                        if key in sample for g in sample[key]))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    from gazex_lib.train.losses import model_token_losses

    inputs = {k: v for k, v in sample.items() if k != "labels"}

    def step() -> float:
        if args.loss == "kept":
            loss = model_token_losses(model, inputs, sample["labels"])[0]
        else:
            loss = model(**sample).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(warmup):
        step()
    sync()
    times, losses = [], []
    for _ in range(steps):
        t = time.perf_counter()
        losses.append(step())
        sync()
        times.append(time.perf_counter() - t)

    t_step = statistics.median(times)
    tokens_per_s = n_tokens / t_step
    samples_per_s = args.batch / t_step
    if device.type == "cuda":
        peak_mem = torch.cuda.max_memory_allocated() / 2**30
        name = torch.cuda.get_device_name(device)
        mem_label = "cuda max_memory_allocated"
    else:
        peak_mem = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        name = f"cpu ({torch.get_num_threads()} thread{'s' * (torch.get_num_threads() > 1)})"
        mem_label = "peak RSS"
    peak = args.peak_tflops or (peak_tflops(name) if device.type == "cuda" else None)
    flops = 6.0 * n_total * n_tokens
    flops_va = 6.0 * (n_lm * n_tokens + n_vision * n_patches)
    mfu = flops / t_step / (peak * 1e12) if peak else None
    mfu_va = flops_va / t_step / (peak * 1e12) if peak else None

    print(f"model: qwen2-vl {args.size}, {n_total:,} params ({n_lm:,} LM, {n_vision:,} vision); "
          f"{trainable_summary(model)}; built in {t_build:.1f} s")
    print(f"dtype {model.dtype}, attn {model.config._attn_implementation}, "
          f"checkpointing {not args.no_checkpointing}, LoRA r={args.rank}, loss {args.loss}")
    print(f"sample: image {image[0]}x{image[1]} px, {frames} frames of {frame[0]}x{frame[1]} px, "
          f"{seq} target tokens; batch {args.batch}; LM tokens/step {n_tokens}, "
          f"vision patches/step {n_patches}")
    print(f"grids: image {sample.get('image_grid_thw', torch.empty(0)).tolist()}, "
          f"video {sample.get('video_grid_thw', torch.empty(0)).tolist()}")
    print(f"steps: warmup {warmup}, timed {steps}: " + ", ".join(f"{t:.3f}" for t in times)
          + f" s; median {t_step:.3f} s; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    print(f"peak memory ({mem_label}): {peak_mem:.2f} GiB")
    if peak:
        print(f"flops/step: 6NT {flops / 1e12:.2f} TFLOP (MFU {100 * mfu:.1f} %); vision aware "
              f"{flops_va / 1e12:.2f} TFLOP (MFU {100 * mfu_va:.1f} %); peak {peak:.0f} TFLOP/s bf16")
    mfu_s = f"{mfu:.4f}" if mfu is not None else "n/a"
    print(f"train: tokens_per_s={tokens_per_s:.1f} samples_per_s={samples_per_s:.4f} "
          f"mfu={mfu_s} device={name.replace(' ', '_')}")
    return dict(tokens_per_s=tokens_per_s, samples_per_s=samples_per_s, mfu=mfu, device=name,
                step_s=t_step, peak_mem_gib=peak_mem, n_tokens=n_tokens)


if __name__ == "__main__":
    main()
