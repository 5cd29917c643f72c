"""GTM: the attention video (and/or the image) -> what the radiologist dictated.

* ``"gtm"`` (T1): the reading's whole attention video (every key frame, cluster and
  holistic, in ``frame_index`` order) + the film -> the report. The official prompt's
  ``{n_frames}`` is the number of frames of the video (``frame_indices[-1]``).
* ``"gtm_image"`` (T2): the film alone -> the report.
* ``"gtm_clip"`` (T3): one sentence's frames (its clip) + the film -> that sentence. The
  official code builds these from phase 2 only and pools identical sentences into one folder
  (named by :func:`~gazex_lib.tasks.records.official_sentence_label`, which is also its
  target); we build one record per (reading, sentence), from whatever readings are selected.

**Report** (:func:`report_text`): the table's sentences in order. Official:
``' '.join(patch_sentences)`` of the raw sentences (``"no effusion . heart normal ."``);
clean: the same sentences detokenised (``"no effusion. heart normal."``). Sentences without
gaze keep their (dark) frame and their text, as long as the key-frame table kept them
(``skip_empty_sentences=False``, our default).
"""
from __future__ import annotations

from collections import Counter

from gazex_lib.tasks import prompts as P
from gazex_lib.tasks.records import (clean_sentence, film_ref, frames_ref, make_record,
                                     official_sentence_label)

__all__ = ["report_text", "gtm_records", "gtm_image_records", "gtm_clip_records"]


def _sentences(rows) -> list[tuple[int, str]]:
    s = rows.drop_duplicates("sentence_index").sort_values("sentence_index", kind="stable")
    return [(int(i), str(t)) for i, t in zip(s["sentence_index"], s["text"])]


def report_text(rows, prompt_style: str = "clean") -> str:
    """The report target of one reading's rows (module docstring)."""
    texts = [t for _, t in _sentences(rows)]
    if prompt_style == "official":
        return " ".join(texts)
    return " ".join(clean_sentence(t) for t in texts)


def _film_size(rows) -> list[int]:
    return [int(rows["film_width"].iloc[0]), int(rows["film_height"].iloc[0])]


def gtm_records(rows, *, prompt_style: str = "clean", extra_meta: dict | None = None):
    """T1 of one reading. Returns ``(records, skipped: Counter)``."""
    P.check_style(prompt_style)
    rows = rows.sort_values("frame_index", kind="stable")
    if not len(rows):
        return [], Counter(no_frames=1)
    rid = str(rows["reading_id"].iloc[0])
    fi = [int(v) for v in rows["frame_index"]]
    tmpl = P.OFFICIAL_GTM_VIDEO if prompt_style == "official" else P.CLEAN_GTM_VIDEO
    report = report_text(rows, prompt_style)
    meta = {"report": report, "sentences": [t for _, t in _sentences(rows)],
            "n_frames": len(fi), "frame_index": fi,
            "sentence_of_frame": [int(v) for v in rows["sentence_index"]],
            "frame_kind": [str(v) for v in rows["frame_kind"]],
            "film_size": _film_size(rows), **(extra_meta or {})}
    rec = make_record("gtm", rid, tmpl.format(n_frames=len(fi)), report,
                      images=[film_ref(rid)], videos=[frames_ref(rid, fi)], meta=meta)
    return [rec], Counter()


def gtm_image_records(rows, *, prompt_style: str = "clean", extra_meta: dict | None = None):
    """T2 of one reading. Returns ``(records, skipped: Counter)``."""
    P.check_style(prompt_style)
    if not len(rows):
        return [], Counter(no_frames=1)
    rid = str(rows["reading_id"].iloc[0])
    tmpl = P.OFFICIAL_GTM_IMAGE if prompt_style == "official" else P.CLEAN_GTM_IMAGE
    report = report_text(rows, prompt_style)
    meta = {"report": report, "sentences": [t for _, t in _sentences(rows)],
            "film_size": _film_size(rows), **(extra_meta or {})}
    return [make_record("gtm_image", rid, tmpl, report, images=[film_ref(rid)], meta=meta)], \
        Counter()


def gtm_clip_records(rows, *, prompt_style: str = "clean", extra_meta: dict | None = None):
    """T3 of one reading: one record per sentence (its frames, even a single one)."""
    P.check_style(prompt_style)
    records = []
    rows = rows.sort_values("frame_index", kind="stable")
    for sidx, g in rows.groupby("sentence_index", sort=True):
        rid = str(g["reading_id"].iloc[0])
        text = str(g["text"].iloc[0])
        fi = [int(v) for v in g["frame_index"]]
        if prompt_style == "official":
            prompt, target = P.OFFICIAL_GTM_CLIP, official_sentence_label(text)
        else:
            prompt, target = P.CLEAN_GTM_CLIP.format(n_frames=len(fi)), clean_sentence(text)
        meta = {"sentence_index": int(sidx), "sentence": text,
                "status": str(g["status"].iloc[0]), "n_frames": len(fi), "frame_index": fi,
                "film_size": _film_size(g), **(extra_meta or {})}
        records.append(make_record("gtm_clip", rid, prompt, target, images=[film_ref(rid)],
                                   videos=[frames_ref(rid, fi)], meta=meta,
                                   sentence_index=int(sidx)))
    return records, Counter()
