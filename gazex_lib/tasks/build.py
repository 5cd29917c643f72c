"""The gaze pretraining set: every task's records from a key-frame table, selected and mixed.

>>> records = build_pretraining_records(kt, ds, seed=0)          # doctest: +SKIP
>>> records.summary["tasks"]["fvp"]                              # doctest: +SKIP

**Selection of readings** (one row of ``ds.metadata`` each, index = reading id):

* ``holdout_phases=(1, 2)`` (default): the multi-reader phases are **held out**, so the
  agreement analyses evaluate on readings the model never saw. ``holdout_phases=()``
  includes them, as the official code does (it trains on phases 1 and 2).
* ``split="train"`` (default): the MIMIC-CXR split in the REFLACX ``split`` column; a str,
  a collection of them, or ``None`` (all).
* ``phase_sources``: ``None`` (default: every task uses every selected reading) or
  ``"official"``: the phases each official task reads (:data:`OFFICIAL_TASK_PHASES`: T1, T2,
  T4 from phases 1 and 3, T3 and T6 from phase 2, T5 from phase 1), with ``split``
  applied to phase 3 only, as the official code takes phases 1 and 2 whole (combine with
  ``holdout_phases=()``, or the phase-1/2 tasks get nothing), or a dict ``{task: phases}``.
* ``reading_ids``: optionally restrict to these readings.

**Options per task** (defaults follow ``prompt_style``: ``"official"`` reproduces the
official code, ``"clean"`` is ours): ``coords`` (``official_px`` / ``q1000``; any ``q<N>``, :mod:`.coords`; ``gtm_path`` takes
the ``q<N>`` ones, ``official_px`` leaves it on ``q1000``), ``shrink``
(``official_percent`` / ``none``) (:mod:`.fvp`), ``order_format`` (``official`` /
``ranks``), ``sda_description`` (``official_transcription`` / ``none``),
``redraw_identity`` (``False`` / ``True``) (:mod:`.sda`, :mod:`.order`); and
``official_global_single_video=False`` (True: only the first eligible reading is tried for
T5, like the official ``break``).

**Mixing** (:mod:`.mixing`): ``ratios`` / ``n_records``, then a seeded shuffle
(``shuffle=True``). Everything is deterministic for a seed.

Returns a :class:`~gazex_lib.tasks.records.RecordList` whose ``summary`` counts readings
(in the table, selected, held out by phase, other split, in metadata but not in the table)
and, per task, readings used, records built, skipped (by reason: e.g. FVP ``no_box:no_gaze``,
SDA ``fewer_than_2_frames``) and kept in the mix. Nothing is dropped silently.
"""
from __future__ import annotations

from collections import Counter

from gazex_lib.tasks import prompts as P
from gazex_lib.tasks.fvp import fvp_records
from gazex_lib.tasks.gtm import gtm_clip_records, gtm_image_records, gtm_records
from gazex_lib.tasks.path import gtm_path_records
from gazex_lib.tasks.mixing import mix_records, shuffle_records
from gazex_lib.tasks.records import DEFAULT_TASKS, TASKS, RecordList, reading_groups
from gazex_lib.tasks.sda import sda_finding_records, sda_global_records

__all__ = ["OFFICIAL_TASK_PHASES", "build_pretraining_records", "select_readings", "task_counts",
           "records_from_config"]

#: The REFLACX phases each official task reads (``Create_Training_Data.py`` and the shuffle /
#: extraction scripts).
OFFICIAL_TASK_PHASES = {"gtm": (1, 3), "gtm_image": (1, 3), "fvp": (1, 3), "gtm_clip": (2,),
                        "sda_global": (1,), "sda_finding": (2,)}


def _metadata(ds):
    meta = ds.metadata if hasattr(ds, "metadata") else ds
    missing = {"phase", "split"} - set(meta.columns)
    if missing:
        raise ValueError(f"metadata lacks columns {sorted(missing)}")
    return meta


def _splits(split) -> set | None:
    if split is None:
        return None
    return {split} if isinstance(split, str) else set(split)


def select_readings(table_ids, metadata, *, holdout_phases=(1, 2), split="train",
                    reading_ids=None) -> tuple[list[str], dict]:
    """Reading ids of the table kept by the selection (module docstring), in table order,
    and the counts of what was left out."""
    splits = _splits(split)
    held = {int(p) for p in holdout_phases}
    wanted = None if reading_ids is None else set(map(str, reading_ids))
    unknown = [r for r in table_ids if r not in metadata.index]
    if unknown:
        raise KeyError(f"{len(unknown)} table readings are not in the metadata, "
                       f"e.g. {unknown[0]!r}")
    kept, held_out, other_split, not_requested = [], Counter(), 0, 0
    for rid in table_ids:
        phase = int(metadata.at[rid, "phase"])
        if wanted is not None and rid not in wanted:
            not_requested += 1
        elif phase in held:
            held_out[str(phase)] += 1
        elif splits is not None and str(metadata.at[rid, "split"]) not in splits:
            other_split += 1
        else:
            kept.append(rid)
    return kept, {"held_out": dict(sorted(held_out.items())), "other_split": other_split,
                  "not_requested": not_requested}


def build_pretraining_records(kt, ds, *, tasks=DEFAULT_TASKS, ratios: dict | None = None,
                              n_records: int | None = None, holdout_phases=(1, 2),
                              split="train", seed: int = 0, prompt_style: str = "clean",
                              coords: str | None = None, shrink: str | None = None,
                              order_format: str | None = None,
                              sda_description: str | None = None,
                              redraw_identity: bool | None = None,
                              official_global_single_video: bool = False,
                              phase_sources=None, reading_ids=None,
                              shuffle: bool = True) -> RecordList:
    """Records of ``tasks`` for the selected readings of ``kt`` (a
    :class:`~gazex_lib.gaze.table.KeyframeTable` or its DataFrame), mixed and shuffled.

    ``ds``: the :class:`~gazex_lib.data.reflacx.ReflacxDataset` (its ``metadata`` gives
    ``phase`` and ``split``; ``transcription`` is read only for the official T5 target), or a
    metadata DataFrame. See the module docstring for every option.
    """
    P.check_style(prompt_style)
    tasks = tuple(tasks)
    bad = [t for t in tasks if t not in TASKS]
    if bad or len(set(tasks)) != len(tasks):
        raise ValueError(f"tasks must be distinct names from {TASKS}, got {tasks}")
    table = kt.table if hasattr(kt, "table") else kt
    metadata = _metadata(ds)
    if phase_sources == "official":
        sources = dict(OFFICIAL_TASK_PHASES)
    elif phase_sources is None or isinstance(phase_sources, dict):
        sources = dict(phase_sources or {})
    else:
        raise ValueError("phase_sources must be None, 'official' or a dict, "
                         f"got {phase_sources!r}")
    groups = dict(reading_groups(table))
    table_ids = list(groups)
    # With official phase sources the split filters phase 3 only (module docstring).
    sel_split = split if phase_sources != "official" else None
    kept, left_out = select_readings(table_ids, metadata, holdout_phases=holdout_phases,
                                     split=sel_split, reading_ids=reading_ids)
    if phase_sources == "official" and split is not None:
        splits = _splits(split)
        n0 = len(kept)
        kept = [r for r in kept if int(metadata.at[r, "phase"]) != 3
                or str(metadata.at[r, "split"]) in splits]
        left_out["other_split"] += n0 - len(kept)
    not_discarded = (metadata.index if "eye_tracking_data_discarded" not in metadata.columns
                     else metadata.index[~metadata["eye_tracking_data_discarded"].astype(bool)])
    readings = {"in_table": len(table_ids), "selected": len(kept), **left_out,
                "in_metadata_not_in_table": int(len(set(not_discarded) - set(table_ids)))}

    kwargs = {
        "fvp": dict(prompt_style=prompt_style, coords=coords, shrink=shrink),
        "gtm": dict(prompt_style=prompt_style), "gtm_image": dict(prompt_style=prompt_style),
        "gtm_clip": dict(prompt_style=prompt_style),
        "gtm_path": dict(coords=None if coords == "official_px" else coords),
        "sda_global": dict(seed=seed, prompt_style=prompt_style, order_format=order_format,
                           description=sda_description, redraw_identity=redraw_identity),
        "sda_finding": dict(seed=seed, prompt_style=prompt_style, order_format=order_format,
                            redraw_identity=redraw_identity),
    }
    makers = {"fvp": fvp_records, "gtm": gtm_records, "gtm_image": gtm_image_records,
              "gtm_clip": gtm_clip_records, "sda_global": sda_global_records,
              "sda_finding": sda_finding_records, "gtm_path": gtm_path_records}
    by_task, task_summary = {}, {}
    for task in tasks:
        phases = sources.get(task)
        rids = [r for r in kept if phases is None or int(metadata.at[r, "phase"]) in phases]
        if task == "sda_global" and official_global_single_video:
            rids = rids[:1]
        recs, skipped = [], Counter()
        for rid in rids:
            extra = {"phase": int(metadata.at[rid, "phase"]),
                     "split": str(metadata.at[rid, "split"]), **_image_size(metadata, rid)}
            kw = dict(kwargs[task], extra_meta=extra)
            if task == "sda_global" and _needs_transcription(prompt_style, sda_description):
                kw["transcription"] = ds.transcription(rid)
            r, s = makers[task](groups[rid], **kw)
            recs.extend(r)
            skipped.update(s)
        by_task[task] = recs
        task_summary[task] = {"readings": len(rids), "built": len(recs),
                              "skipped": dict(sorted(skipped.items()))}
    mixed, mix_info = mix_records(by_task, ratios, n_records=n_records, seed=seed)
    for task in tasks:
        task_summary[task]["in_mix"] = int(mix_info["counts"].get(task, 0))
    if shuffle:
        mixed = shuffle_records(mixed, seed)
    summary = {
        "n_records": len(mixed), "readings": readings, "tasks": task_summary,
        "mix": {k: mix_info[k] for k in ("shares", "unavailable")},
        "options": {"tasks": list(tasks), "ratios": ratios, "n_records": n_records,
                    "holdout_phases": [int(p) for p in holdout_phases],
                    "split": split if split is None or isinstance(split, str) else sorted(split),
                    "seed": int(seed), "prompt_style": prompt_style, "coords": coords,
                    "shrink": shrink, "order_format": order_format,
                    "sda_description": sda_description, "redraw_identity": redraw_identity,
                    "official_global_single_video": official_global_single_video,
                    "phase_sources": phase_sources if not isinstance(phase_sources, dict)
                    else {k: list(v) for k, v in phase_sources.items()}},
    }
    return RecordList(mixed, summary)


def _image_size(metadata, rid) -> dict:
    """``{"image_size": [width, height]}`` in original px, when the metadata has them."""
    if {"image_size_x", "image_size_y"} <= set(metadata.columns):
        return {"image_size": [int(metadata.at[rid, "image_size_x"]),
                               int(metadata.at[rid, "image_size_y"])]}
    return {}


def _needs_transcription(prompt_style: str, description) -> bool:
    return (description or ("official_transcription" if prompt_style == "official"
                            else "none")) == "official_transcription"


def task_counts(records) -> dict:
    """``{task: number of records}`` of a record list."""
    return dict(Counter(r["task"] for r in records))



def task_options(tasks_cfg) -> dict:
    """The options of a ``tasks`` section that shape each record's text (``prompt_style``,
    ``coords``): the training records and every probe record are built with the same ones."""
    return {"prompt_style": tasks_cfg.prompt_style, "coords": tasks_cfg.coords}


def records_from_config(kt, ds, tasks_cfg, seed: int = 0, **overrides) -> RecordList:
    """:func:`build_pretraining_records` with a ``tasks`` section
    (:class:`gazex_lib.sections.TasksSection`: ``names``, ``ratios``, ``n_records``,
    ``prompt_style``, ``coords``, ``holdout_phases``, ``split``); keyword ``overrides`` (any argument of
    that function) win."""
    kwargs = dict(tasks=tuple(tasks_cfg.names), ratios=tasks_cfg.ratios,
                  n_records=tasks_cfg.n_records, holdout_phases=tuple(tasks_cfg.holdout_phases),
                  split=tasks_cfg.split, seed=seed, **task_options(tasks_cfg))
    kwargs.update(overrides)
    return build_pretraining_records(kt, ds, **kwargs)
