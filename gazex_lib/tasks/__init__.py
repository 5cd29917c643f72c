"""Gaze pretraining tasks (FVP, GTM, SDA) as Qwen2-VL chat records.

Built from the key-frame table (:mod:`gazex_lib.gaze.table`); no model code here.

* :mod:`.records`: the record format, lazy media references, :func:`materialize`;
* :mod:`.prompts`: the official prompts verbatim (T1-T6) and our clean ones;
* :mod:`.fvp` (T4), :mod:`.gtm` (T1-T3), :mod:`.sda` (T5, T6), :mod:`.order` (SDA answers);
* :mod:`.path`: ``gtm_path``, our trajectory probe (film + report -> gaze point per sentence);
* :mod:`.coords`: the coordinate systems of FVP and path answers (``q1000``, ``q<N>``);
* :mod:`.mixing`: task ratios and the seeded shuffle;
* :mod:`.build`: :func:`build_pretraining_records`, the whole set with its summary.
"""
from gazex_lib.tasks.build import (OFFICIAL_TASK_PHASES, build_pretraining_records,
                                   records_from_config, select_readings, task_counts,
                                   task_options)
from gazex_lib.tasks.coords import check_coords, from_grid, grid_steps, to_grid
from gazex_lib.tasks.fvp import COORDS, box_iou, format_boxes, fvp_records, fvp_to_grid, parse_fvp
from gazex_lib.tasks.gtm import gtm_clip_records, gtm_image_records, gtm_records, report_text
from gazex_lib.tasks.path import format_path, gtm_path_records, parse_path
from gazex_lib.tasks.mixing import apportion, mix_records, shuffle_records
from gazex_lib.tasks.order import (ORDER_FORMATS, decode_order, draw_shuffle, encode_order,
                                   order_accuracy, order_metrics, order_truth,
                                   ranks_from_shuffle, shuffle_from_ranks)
from gazex_lib.tasks.prompts import PROMPT_STYLES
from gazex_lib.tasks.records import (DEFAULT_TASKS, TASKS, RecordList, RecordResolver,
                                     clean_sentence, content_text, make_film_loader,
                                     materialize, official_sentence_label, record_prompt,
                                     record_rng, record_target, to_content, validate_record)
from gazex_lib.tasks.sda import DESCRIPTIONS, sda_finding_records, sda_global_records

__all__ = [
    "build_pretraining_records", "records_from_config", "select_readings", "task_counts", "OFFICIAL_TASK_PHASES",
    "task_options", "check_coords", "grid_steps", "to_grid", "from_grid",
    "fvp_records", "gtm_records", "gtm_image_records", "gtm_clip_records",
    "sda_global_records", "sda_finding_records", "report_text", "gtm_path_records",
    "format_path", "parse_path",
    "COORDS", "format_boxes", "parse_fvp", "fvp_to_grid", "box_iou",
    "ORDER_FORMATS", "draw_shuffle", "ranks_from_shuffle", "shuffle_from_ranks", "order_truth",
    "encode_order", "decode_order", "order_accuracy", "order_metrics", "DESCRIPTIONS",
    "apportion", "mix_records", "shuffle_records", "PROMPT_STYLES",
    "TASKS", "DEFAULT_TASKS", "RecordList", "RecordResolver", "materialize",
    "make_film_loader", "to_content", "content_text", "record_prompt", "record_target",
    "validate_record", "clean_sentence", "official_sentence_label", "record_rng",
]
