"""The settings sweep behind chapter 03's ci configuration, scored on the VALIDATION split only.

Issue 9: settings are chosen on validation, never on test, and a sweep is recorded in a result
file and does not run in the book. Each run is chapter 03's pipeline (the same cached stages,
into its own output folder) with one set of overrides; every kept checkpoint answers the
validation probe records, next to the input-ignoring and text-only baselines and the planted
oracle (the ceiling, :mod:`gazex_lib.analysis.ceiling`). No test record is generated or scored.

    python benchmarks/tune_pretraining.py --out benchmarks/records/03_tuning_runs.ci.json  # every run
    python benchmarks/tune_pretraining.py --runs q10 q10_lr_1e-3 --out /tmp/sweep.json

Each run trains the tiny model once (about 2-3 min on 2 cores) and generates validation answers
at every checkpoint. Chapter 03 shows the recorded file (``benchmarks/records/03_tuning_runs.ci.json``,
:func:`gazex_lib.pipelines.tuning_record`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

#: name -> (overrides of the ci profile, what the run asks). ``heldout.max_per_task`` is pinned
#: so that every run answers the same validation records. The ci profile's coordinates were
#: ``q1000`` before this sweep; ``q10`` is what it chose.
RUNS = {
    "q1000": ({"tasks.coords": "q1000"}, "Qwen2-VL's 0-1000 grid, up to 4 digit tokens a number"),
    "q10": ({}, "coarse 0-10 grid, one token a number (the ci profile)"),
    "q10_clean_holistic": ({"gaze.holistic_nonzero_floor": False},
                           "holistic boxes from the heat's support (smaller targets)"),
    "q10_600_steps": ({"train.max_steps": 600, "train.ckpt_every": 200}, "twice the steps"),
    "q10_lr_1e-3": ({"train.lr": 1.0e-3}, "a third of the learning rate"),
    "q10_small_model": ({"model.size": "small"}, "4 layers, hidden 256"),
    "q10_prompt_rows": ({"model.trainable_tokens": "records"},
                        "the prompts' word embeddings train too"),
    "q10_fvp_only": ({"tasks.names": ["fvp"]}, "FVP alone: is the multitask mix in the way?"),
}
PINNED = {"heldout.max_per_task": 24}


def run_one(name: str, overrides: dict, root: Path) -> dict:
    import gazex_lib
    from gazex_lib import analysis, eval as gx_eval, pipelines

    t0 = time.time()
    run = gazex_lib.setup(output_dir=str(root / name), **PINNED, **overrides)
    inputs = pipelines.pretraining_inputs(run)
    stage = pipelines.pretraining_stage(run, inputs)
    _, log = pipelines.read_train_summary(stage)
    val = pipelines.heldout_probe_records(run, inputs, "validation")
    answerers = pipelines.ceiling_answerers(run, inputs.records,
                                            gx_eval.fit_baselines(inputs.records))
    by_step = {}
    for step in sorted(pipelines.checkpoint_adapters(stage)):
        answers = pipelines.heldout_answers_stage(run, inputs, val, stage, step=step)
        generated, _ = pipelines.read_answers(answers, val)
        scores = gx_eval.score_answers(val, generated["trained"])
        by_step[str(step)] = {**gx_eval.summarize_scores(scores),
                              "parsed": float(scores["parsed"].mean())}
    return {"overrides": overrides, "final_train_loss": log[-1]["loss"],
            "validation_by_step": by_step,
            "validation_sources": {k: gx_eval.summarize_scores(gx_eval.score_answers(
                val, a.answers(val))) for k, a in answerers.items()},
            "validation_records": len(val), "seconds": round(time.time() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", nargs="*", default=list(RUNS), choices=list(RUNS))
    ap.add_argument("--work", default="/tmp/gazex_tuning", help="stage folders of the runs")
    ap.add_argument("--out", required=True, help="the JSON file to write")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = {"split": "validation", "pinned": PINNED, "runs": {}}
    for name in args.runs:
        overrides, why = RUNS[name]
        print(f"== {name}: {why}", flush=True)
        out["runs"][name] = {"why": why, **run_one(name, overrides, Path(args.work))}
        Path(args.out).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
