"""The book's cached stages beyond the key-frame table: pretraining and held-out generation.

Each function takes the run object (:func:`gazex_lib.setup`) and returns a stage
(:mod:`gazex_lib.stages`) whose key is made of every configuration section it reads, the data
fingerprint, the model identity, its upstream stages and the seed. Notebooks and the command
line (``python -m gazex_lib.run stage NAME``) call the same functions, so they share outputs.
"""
from gazex_lib.pipelines.pretraining import (PROBE_SPLITS, PretrainingInputs, adapter_dir,
                                             heldout_answers_stage, heldout_probe_records,
                                             pretraining_inputs, pretraining_stage, probe_readings,
                                             read_answers, read_train_summary, record_images,
                                             train_config)
from gazex_lib.pipelines.ceiling import ceiling, ceiling_answerers
from gazex_lib.pipelines.selection import (checkpoint_adapters, choose_step, read_selection,
                                           selection_stage, tuning_frame, tuning_record)

#: Stage name -> function of the run object that builds (or reuses) it and its upstream stages.
STAGE_RUNNERS = {
    "keyframes": lambda run: run.keyframe_table().stage,
    "pretraining": lambda run: pretraining_stage(run),
    "heldout_answers": lambda run: _heldout(run),
}


def _heldout(run):
    """The step chosen on validation, then both splits' answers at that step; returns the
    test stage (chapter 03 does the same)."""
    inputs = pretraining_inputs(run)
    stage = pretraining_stage(run, inputs)
    splits = {s: heldout_probe_records(run, inputs, s) for s in PROBE_SPLITS}
    chosen = read_selection(selection_stage(run, inputs, splits["validation"], stage))["chosen_step"]
    for split in PROBE_SPLITS:
        info = heldout_answers_stage(run, inputs, splits[split], stage, step=chosen)
    return info


__all__ = ["PretrainingInputs", "pretraining_inputs", "pretraining_stage", "heldout_answers_stage",
           "heldout_probe_records", "read_train_summary", "read_answers", "adapter_dir",
           "train_config", "STAGE_RUNNERS", "PROBE_SPLITS", "probe_readings", "record_images",
           "checkpoint_adapters", "choose_step", "read_selection", "selection_stage",
           "ceiling", "ceiling_answerers", "tuning_record", "tuning_frame"]
