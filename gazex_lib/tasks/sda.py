"""SDA: a shuffled attention video -> the order in which the radiologist looked.

* ``"sda_global"`` (T5): the reading's **holistic** frames (one per sentence, as
  ``Shuffle_Videos_Global.py`` keeps them), shuffled, + the film.
* ``"sda_finding"`` (T6): one sentence's clip (its cluster frames then its holistic frame,
  as ``Extract_Disease_Based_Attention_Videos.py`` cuts it), shuffled; no image (official).

Videos with fewer than 2 frames are skipped and counted (``"fewer_than_2_frames"``), as the
official code skips them. The answer format and the identity re-draw are described in
:mod:`gazex_lib.tasks.order`; ``order_format`` defaults to ``"official"`` for
``prompt_style="official"`` and ``"ranks"`` otherwise, ``redraw_identity`` to ``False``
(official: an unshuffled "shuffle" is kept) and ``True`` (ours).

**Seeding.** Each record draws from ``record_rng(seed, task, reading_id[, sentence_index])``
(:func:`~gazex_lib.tasks.records.record_rng`), so a record's shuffle depends only on the seed
and its identity: the same seed gives identical records, in any build order or process.

**T5 description** (``description``): the official target is
``<seq>...</seq><description>{transcription.txt}</descriptions>`` (the whole transcript, not
one description per frame as the prompt asks, and mismatched tags):
``"official_transcription"``, the default for ``prompt_style="official"``. Ours:
``"none"`` (default: the order only) or ``"sentences"``: after the order, one
``<description>sentence</description>`` per frame, in viewing order (the prompt says so).

The official global script also stops after its first video (a ``break`` in its row loop,
so it yields one T5 sample); :func:`~gazex_lib.tasks.build.build_pretraining_records`
reproduces that with ``official_global_single_video=True``.
"""
from __future__ import annotations

from collections import Counter

from gazex_lib.tasks import prompts as P
from gazex_lib.tasks.order import check_order_format, draw_shuffle, encode_order, order_truth
from gazex_lib.tasks.records import (clean_sentence, film_ref, frames_ref, make_record,
                                     official_sentence_label, record_rng, style_default)

__all__ = ["DESCRIPTIONS", "sda_global_records", "sda_finding_records"]

DESCRIPTIONS = ("none", "sentences", "official_transcription")


def _order_prompt(order_format: str, n: int) -> str:
    return P.CLEAN_ORDER_INSTRUCTIONS[order_format].format(n_frames=n)


def _shuffle_meta(fi: list[int], shuffled, order_format: str) -> dict:
    return {"n_frames": len(fi), "order_format": order_format,
            "order": order_truth(shuffled, order_format),
            "shuffled_indices": [int(v) for v in shuffled],
            "frame_index": fi, "shown_frame_index": [fi[int(v)] for v in shuffled]}


def sda_global_records(rows, *, seed: int = 0, prompt_style: str = "clean",
                       order_format: str | None = None, description: str | None = None,
                       transcription: str | None = None, redraw_identity: bool | None = None,
                       extra_meta: dict | None = None):
    """T5 of one reading. Returns ``(records, skipped: Counter)``.

    ``transcription``: the reading's ``transcription.txt`` (needed for
    ``description="official_transcription"``)."""
    P.check_style(prompt_style)
    order_format = check_order_format(style_default(order_format, prompt_style, "official",
                                                    "ranks"))
    description = style_default(description, prompt_style, "official_transcription", "none")
    redraw_identity = style_default(redraw_identity, prompt_style, False, True)
    if description not in DESCRIPTIONS:
        raise ValueError(f"description must be one of {DESCRIPTIONS}, got {description!r}")
    hol = rows[rows["frame_kind"] == "holistic"].sort_values("frame_index", kind="stable")
    if len(hol) < 2:
        return [], Counter(fewer_than_2_frames=1)
    rid = str(hol["reading_id"].iloc[0])
    fi = [int(v) for v in hol["frame_index"]]
    texts = [str(t) for t in hol["text"]]
    shuffled = draw_shuffle(len(fi), record_rng(seed, "sda_global", rid),
                            redraw_identity=redraw_identity)
    meta = _shuffle_meta(fi, shuffled, order_format)
    target = encode_order(meta["order"], order_format)
    if description == "official_transcription":
        if transcription is None:
            raise ValueError(f"reading {rid!r}: description='official_transcription' needs "
                             "its transcription")
        target += f"<description>{transcription}</descriptions>"
    elif description == "sentences":
        target += "".join(f"<description>{clean_sentence(t)}</description>" for t in texts)
    if prompt_style == "official":
        prompt = P.OFFICIAL_SDA_GLOBAL.format(n_frames=len(fi))
    else:
        order = _order_prompt(order_format, len(fi))
        if description != "none":
            order += P.CLEAN_DESCRIBE_INSTRUCTION
        prompt = P.CLEAN_SDA_GLOBAL.format(n_frames=len(fi), order=order)
    meta.update(sentences=texts, sentence_index=[int(v) for v in hol["sentence_index"]],
                description=description, film_size=[int(hol["film_width"].iloc[0]),
                                                     int(hol["film_height"].iloc[0])],
                **(extra_meta or {}))
    return [make_record("sda_global", rid, prompt, target, images=[film_ref(rid)],
                        videos=[frames_ref(rid, meta["shown_frame_index"])], meta=meta)], \
        Counter()


def sda_finding_records(rows, *, seed: int = 0, prompt_style: str = "clean",
                        order_format: str | None = None, redraw_identity: bool | None = None,
                        extra_meta: dict | None = None):
    """T6 of one reading: one record per sentence with >= 2 frames.
    Returns ``(records, skipped: Counter)``."""
    P.check_style(prompt_style)
    order_format = check_order_format(style_default(order_format, prompt_style, "official",
                                                    "ranks"))
    redraw_identity = style_default(redraw_identity, prompt_style, False, True)
    records, skipped = [], Counter()
    rows = rows.sort_values("frame_index", kind="stable")
    for sidx, g in rows.groupby("sentence_index", sort=True):
        if len(g) < 2:
            skipped["fewer_than_2_frames"] += 1
            continue
        rid = str(g["reading_id"].iloc[0])
        text = str(g["text"].iloc[0])
        fi = [int(v) for v in g["frame_index"]]
        shuffled = draw_shuffle(len(fi), record_rng(seed, "sda_finding", rid, int(sidx)),
                                redraw_identity=redraw_identity)
        meta = _shuffle_meta(fi, shuffled, order_format)
        if prompt_style == "official":
            prompt = P.OFFICIAL_SDA_FINDING.format(n_frames=len(fi),
                                                   sentence=official_sentence_label(text))
        else:
            prompt = P.CLEAN_SDA_FINDING.format(n_frames=len(fi), sentence=clean_sentence(text),
                                                order=_order_prompt(order_format, len(fi)))
        meta.update(sentence_index=int(sidx), sentence=text,
                    frame_kind=[str(v) for v in g["frame_kind"]], **(extra_meta or {}))
        records.append(make_record("sda_finding", rid, prompt,
                                   encode_order(meta["order"], order_format),
                                   videos=[frames_ref(rid, meta["shown_frame_index"])],
                                   meta=meta, sentence_index=int(sidx)))
    return records, skipped
