"""Choosing the training step on the validation split (issue 9: tune on validation, report on
test).

The ``checkpoint_selection`` stage answers the validation records with the adapter of every
checkpoint the pretraining stage kept (``train.ckpt_every``; the final step included), scores
them, and picks the step with the best **mean rank** over the three probe metrics (each ranked
in its own direction: higher IoU and accuracy, lower error; equal values share their average
rank, and equal mean ranks go to the earlier step, the cheaper model). The test split is then answered once, by the chosen step only.

Output: ``selection.json`` with the steps, the validation summary of each, the ranks and the
chosen step. Its key: sections ``model``, ``tasks``, ``heldout``; upstream ``keyframes`` and
``pretraining``; the validation record ids; the seed; the model identity.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

SELECTION_VERSION = 1
CRITERION = "mean rank over fvp_iou (higher), gtm_centroid_error_px (lower), " \
            "sda_order_accuracy (higher); ties to the earlier step"


def checkpoint_adapters(pretraining) -> dict[int, Path]:
    """``{step: adapter folder}`` of every checkpoint of a pretraining stage, plus the final
    adapter under its step count."""
    from gazex_lib.pipelines.pretraining import TRAIN_SUBDIR, adapter_dir, read_train_summary

    out = {}
    for ckpt in sorted((pretraining.directory / TRAIN_SUBDIR / "checkpoints").glob("checkpoint_*")):
        if (ckpt / "adapter" / "adapter_config.json").is_file():
            out[int(ckpt.name.rsplit("_", 1)[1])] = ckpt / "adapter"
    summary, _ = read_train_summary(pretraining)
    out[int(summary["steps"])] = adapter_dir(pretraining)
    return dict(sorted(out.items()))


def choose_step(summaries: dict) -> tuple[int, dict]:
    """``(step, {step: mean rank})`` for ``{step: {metric: value}}`` (module docstring)."""
    from scipy.stats import rankdata

    from gazex_lib.eval import PROBE_METRICS

    steps = sorted(summaries)
    ranks = {s: 0.0 for s in steps}
    # a metric without records (NaN at every step: its task is not in the mix) is left out
    used = {m: h for m, h in PROBE_METRICS.items()
            if not all(math.isnan(float(summaries[s].get(m, math.nan))) for s in steps)}
    for metric, higher in used.items():
        vals = [summaries[s][metric] for s in steps]
        r = rankdata([-v if higher else v for v in vals], method="average")   # ties share a rank
        for s, rank in zip(steps, r):
            ranks[s] += float(rank) / len(used)
    best = min(steps, key=lambda s: (ranks[s], s))
    return best, ranks


def selection_stage(run, inputs, validation, pretraining):
    """Answer ``validation`` with every checkpoint's adapter and choose the step (a stage)."""
    from gazex_lib import eval as gx_eval
    from gazex_lib.model import setup as model_setup

    h = run.config.heldout

    def build(directory: Path) -> None:
        summaries, answers = {}, {}
        budgets = None
        for step, adapter in checkpoint_adapters(pretraining).items():
            model, processor = model_setup.load_trained(run.config.model, run.model_path,
                                                        adapter, seed=run.seed)
            budgets = budgets or gx_eval.answer_budgets(inputs.records, processor.tokenizer,
                                                        h.new_tokens_factor)
            answers[step] = gx_eval.generate_answers(
                model_setup.merged_copy(model), processor, validation, resolve=inputs.resolve,
                max_new_tokens=budgets, batch_size=h.batch_size, progress=run.progress,
                desc=f"validation, step {step}")
            summaries[step] = gx_eval.summarize_scores(gx_eval.score_answers(validation,
                                                                             answers[step]))
        chosen, ranks = choose_step(summaries)
        payload = {"criterion": CRITERION, "chosen_step": chosen,
                   "validation": {str(s): v for s, v in summaries.items()},
                   "mean_rank": {str(s): v for s, v in ranks.items()},
                   "record_ids": [r["id"] for r in validation],
                   "answers": {str(s): a for s, a in answers.items()}}
        (directory / "selection.json").write_text(json.dumps(payload, indent=1, sort_keys=True)
                                                  + "\n")

    return run.stage("checkpoint_selection", build, sections=("model", "tasks", "heldout"),
                     upstream=(run.stages["keyframes"], pretraining), uses_seed=True,
                     uses_model=True, version=SELECTION_VERSION,
                     extra={"record_ids": [r["id"] for r in validation]})


def read_selection(stage) -> dict:
    """The ``selection.json`` of a checkpoint-selection stage (steps as ints)."""
    payload = json.loads((stage.directory / "selection.json").read_text())
    for key in ("validation", "mean_rank", "answers"):
        payload[key] = {int(s): v for s, v in payload[key].items()}
    return payload


#: The recorded settings sweep of a profile (``benchmarks/tune_pretraining.py``), committed in
#: the repository under ``benchmarks/records/``.
TUNING_FILE = "03_tuning_runs.{profile}.json"


def tuning_record(profile: str, root=None) -> dict | None:
    """The settings sweep recorded for ``profile`` (``benchmarks/records/03_tuning_runs.<profile>
    .json`` in the repository, or in ``root``), validation numbers only, or ``None`` when none
    was recorded. The sweep ran outside the book (issue 9: a sweep is recorded, not run)."""
    from gazex_lib.config import REPO_ROOT

    folder = Path(root) if root is not None else REPO_ROOT / "benchmarks" / "records"
    path = folder / TUNING_FILE.format(profile=profile)
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if payload.get("split") != "validation" or not isinstance(payload.get("runs"), dict):
        raise ValueError(f"{path}: a tuning record holds 'split': 'validation' and 'runs'")
    return payload


def tuning_frame(record: dict):
    """One row per run of a tuning record: the best validation step by the selection
    criterion, its scores, and the baselines' and the planted oracle's on the same records."""
    import pandas as pd

    rows = []
    for name, r in record["runs"].items():
        steps = {int(s): v for s, v in r["validation_by_step"].items()}
        best, _ = choose_step({s: {m: v[m] for m in v if m != "parsed"} for s, v in steps.items()})
        src = r["validation_sources"]
        rows.append({"run": name, "best_step": best,
                     **{f"trained_{m}": steps[best].get(m) for m in
                        ("fvp_iou", "gtm_centroid_error_px", "sda_order_accuracy", "parsed")},
                     "text_only_fvp_iou": src["text_only"]["fvp_iou"],
                     "oracle_fvp_iou": src.get("planted_oracle", {}).get("fvp_iou"),
                     "final_train_loss": r["final_train_loss"], "why": r["why"]})
    return pd.DataFrame(rows).set_index("run")
