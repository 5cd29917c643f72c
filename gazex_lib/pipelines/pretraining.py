"""Chapter 03's stages: gaze pretraining (LoRA) and the held-out answers of the probes.

* ``pretraining``: reads sections ``model``, ``tasks``, ``train``; upstream ``keyframes``;
  the model identity and the seed. Output: ``train/`` (the loop's output folder: ``adapter/``,
  ``train_log.jsonl``, checkpoints) and ``summary.json`` (steps, epochs, losses, seconds).
  A killed run resumes from its last checkpoint in the stage's partial folder.
* ``heldout_answers``: reads sections ``model``, ``tasks``, ``heldout``; upstream
  ``keyframes`` and ``pretraining``; the model identity and the seed. Output:
  ``answers.json`` (record ids, generation budgets, and the greedy answers of the untrained
  and the trained model).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: Bump when a stage's output changes for the same inputs.
PRETRAINING_VERSION = 1
HELDOUT_VERSION = 1
TRAIN_SUBDIR = "train"


@dataclass
class PretrainingInputs:
    """What both stages read: the key-frame table, the training records and the resolver of
    their lazy media (films and frames)."""
    keyframes: object
    records: object
    resolve: object


def pretraining_inputs(run) -> PretrainingInputs:
    """The key-frame table (a stage), the profile's training mix and its media resolver."""
    from gazex_lib import tasks

    kt = run.keyframe_table()
    records = tasks.records_from_config(kt, run.dataset, run.config.tasks, seed=run.seed)
    resolve = tasks.RecordResolver(kt, tasks.make_film_loader(run.dataset, run.jpg_root,
                                                              scale=run.config.gaze.scale))
    return PretrainingInputs(kt, records, resolve)


def train_config(run, output_dir):
    """The loop's :class:`~gazex_lib.train.TrainConfig`: the ``train`` section, the run's seed."""
    from gazex_lib.train import config_from_profile

    return config_from_profile(run.config, output_dir, seed=run.seed)


#: The grey level (uint8) of the films and frames the image-blind control sees.
BLIND_GREY = 128


class BlindResolver:
    """A media resolver whose films and frames are a constant grey of the same size (so the
    token counts and everything else stay the same): the image-blind control's input."""

    def __init__(self, resolve):
        self.resolve = resolve

    def __call__(self, record: dict) -> dict:
        import numpy as np

        out = self.resolve(record)
        out["images"] = [np.full_like(img, BLIND_GREY) for img in out["images"]]
        out["videos"] = [[np.full_like(f, BLIND_GREY) for f in v] for v in out["videos"]]
        return out


def image_blind_inputs(inputs: PretrainingInputs) -> PretrainingInputs:
    """The same key frames and records, every film and frame blanked (:class:`BlindResolver`)."""
    return PretrainingInputs(inputs.keyframes, inputs.records, BlindResolver(inputs.resolve))


def pretraining_stage(run, inputs: PretrainingInputs | None = None, *, image_blind: bool = False):
    """Train LoRA (and the profile's extra trainable parts) on the pretraining mix, once.

    ``image_blind=True``: the control of issue 9, the same model, recipe and records with every
    film and frame blanked, as a stage of its own (``pretraining_image_blind``)."""
    from gazex_lib.model import setup as model_setup
    from gazex_lib.train import train

    inputs = inputs or pretraining_inputs(run)
    if image_blind:
        inputs = image_blind_inputs(inputs)

    def build(directory: Path) -> None:
        model, processor = model_setup.load_for_pretraining(
            run.config.model, run.model_path, seed=run.seed, train_records=inputs.records)
        result = train(model, processor, inputs.records, train_config(run, directory / TRAIN_SUBDIR),
                       resolve=inputs.resolve, progress=run.progress, resume_from="latest")
        summary = {"steps": result.global_step, "epochs": result.epoch,
                   "final_loss": result.final_loss, "seconds": result.seconds,
                   "resumed_from": None if result.resumed_from is None
                   else Path(result.resumed_from).name}
        (directory / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")

    return run.stage("pretraining_image_blind" if image_blind else "pretraining", build,
                     sections=("model", "tasks", "train"), upstream=(run.stages["keyframes"],),
                     uses_seed=True, uses_model=True, version=PRETRAINING_VERSION,
                     extra={"image_blind": BLIND_GREY} if image_blind else None)


def read_train_summary(stage) -> tuple[dict, list[dict]]:
    """``(summary, log)`` of a pretraining stage: its ``summary.json`` and the loop's log."""
    from gazex_lib.train import read_log

    summary = json.loads((stage.directory / "summary.json").read_text())
    return summary, read_log(stage.directory / TRAIN_SUBDIR, "train")


def adapter_dir(stage) -> Path:
    return stage.directory / TRAIN_SUBDIR / "adapter"


#: The probe splits: ``validation`` chooses settings, ``test`` is reported.
PROBE_SPLITS = ("validation", "test")


def probe_readings(run, split: str) -> list[str]:
    """Reading ids of a probe split (before excluding trained readings and images):
    ``validation``: phase-3 readings of the MIMIC split ``heldout.validation_split``;
    ``test``: phase-3 readings of ``heldout.test_split`` plus every reading of the phases held
    out of pretraining (``tasks.holdout_phases``)."""
    if split not in PROBE_SPLITS:
        raise ValueError(f"probe split must be one of {PROBE_SPLITS}, got {split!r}")
    meta, h = run.dataset.metadata, run.config.heldout
    phase3 = meta["phase"] == 3
    if split == "validation":
        mask = phase3 & (meta["split"] == h.validation_split)
    else:
        mask = (phase3 & (meta["split"] == h.test_split)) | \
            meta["phase"].isin(list(run.config.tasks.holdout_phases))
    return sorted(meta.index[mask])


def heldout_probe_records(run, inputs: PretrainingInputs, split: str = "test"):
    """The probe records of one split's readings never trained on (and whose image no
    training record shows), ``heldout.max_per_task`` per task, with the training records'
    task options (prompt style, coordinates)."""
    from gazex_lib import eval as gx_eval, tasks

    probe = [t for t in gx_eval.PROBE_TASKS if t in run.config.tasks.names]
    readings = probe_readings(run, split)
    if not readings:
        raise ValueError(f"the {split} split has no reading (heldout.{split}_split = "
                         f"{getattr(run.config.heldout, f'{split}_split')!r}, phases "
                         f"{list(run.config.tasks.holdout_phases)} held out)")
    return gx_eval.heldout_records(inputs.keyframes, run.dataset, inputs.records, tasks=probe,
                                   max_per_task=run.config.heldout.max_per_task, seed=run.seed,
                                   readings=readings, **tasks.task_options(run.config.tasks))


def record_images(records, ds) -> dict:
    """``{record id: image id (dicom_id)}``: the unit the probe intervals resample."""
    meta = ds.metadata
    return {r["id"]: str(meta.at[r["reading_id"], "dicom_id"]) for r in records}


def heldout_answers_stage(run, inputs: PretrainingInputs, heldout, pretraining,
                          step: int | None = None, image_blind=None):
    """Greedy answers of the untrained and the trained model to the ``heldout`` records.

    The untrained model is the pretraining model before its first step (same seed, LoRA B = 0);
    the trained one is the base model with the stage's adapter at ``step`` (a kept checkpoint,
    e.g. the one chosen on validation; ``None``: the final adapter). Both are merged for speed.
    ``image_blind``: the image-blind control's pretraining stage; its adapter (at the same step)
    then also answers, on blanked media, as ``image_blind``."""
    from gazex_lib.pipelines.selection import checkpoint_adapters

    adapter = adapter_dir(pretraining) if step is None else checkpoint_adapters(pretraining)[step]
    from gazex_lib import eval as gx_eval
    from gazex_lib.model import setup as model_setup

    h = run.config.heldout

    def build(directory: Path) -> None:
        untrained, processor = model_setup.load_for_pretraining(
            run.config.model, run.model_path, seed=run.seed, train_records=inputs.records)
        budgets = gx_eval.answer_budgets(inputs.records, processor.tokenizer, h.new_tokens_factor)
        gen = dict(resolve=inputs.resolve, max_new_tokens=budgets, batch_size=h.batch_size,
                   progress=run.progress)
        answers = {"untrained": gx_eval.generate_answers(model_setup.merged_copy(untrained),
                                                         processor, heldout, **gen)}
        del untrained
        trained, processor = model_setup.load_trained(run.config.model, run.model_path,
                                                       adapter, seed=run.seed)
        answers["trained"] = gx_eval.generate_answers(model_setup.merged_copy(trained),
                                                      processor, heldout, **gen)
        if image_blind is not None:
            blind_adapter = (adapter_dir(image_blind) if step is None
                             else checkpoint_adapters(image_blind)[step])
            blind, processor = model_setup.load_trained(run.config.model, run.model_path,
                                                        blind_adapter, seed=run.seed)
            answers["image_blind"] = gx_eval.generate_answers(
                model_setup.merged_copy(blind), processor, heldout,
                **{**gen, "resolve": BlindResolver(inputs.resolve)})
        payload = {"record_ids": [r["id"] for r in heldout], "budgets": budgets,
                   "answers": answers}
        (directory / "answers.json").write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")

    upstream = (run.stages["keyframes"], pretraining) + ((image_blind,) if image_blind else ())
    return run.stage("heldout_answers", build, sections=("model", "tasks", "heldout"),
                     upstream=upstream, uses_seed=True,
                     uses_model=True, version=HELDOUT_VERSION,
                     extra={"record_ids": [r["id"] for r in heldout],
                            **({} if step is None else {"step": int(step)})})


def read_answers(stage, heldout) -> tuple[dict, dict]:
    """``(answers by source, budgets)`` of a held-out stage, checked against ``heldout``."""
    payload = json.loads((stage.directory / "answers.json").read_text())
    ids = [r["id"] for r in heldout]
    if payload["record_ids"] != ids:
        raise ValueError(f"{stage.directory}: the stored answers are for other records")
    return payload["answers"], payload["budgets"]
