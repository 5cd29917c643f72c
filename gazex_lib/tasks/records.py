"""Chat records: the common format of every task, lazy media references, and resolving them.

A **chat record** is a plain, JSON-serialisable dict::

    {"id": "sda_finding:P300R000123:s2",          # task:reading[:s<sentence_index>]
     "task": "fvp" | "gtm" | "gtm_image" | "gtm_clip" | "sda_global" | "sda_finding",
     "reading_id": "P300R000123",
     "messages": [
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "..."},
                                     {"type": "image"}, {"type": "text", "text": "..."}]},
        {"role": "assistant", "content": [{"type": "text", "text": target}]}],
     "images": [{"ref": "film", "reading_id": ...}],                      # one per "image" item
     "videos": [{"ref": "keyframes", "reading_id": ..., "frame_index": [3, 1, 2]}],
     "meta": {...}}                                                       # truth for evaluation

Content items follow the Qwen2-VL chat template (``{"type": "image"}`` / ``{"type":
"video"}`` placeholders), in the order the prompt text places ``<image>`` / ``<video>``
(:func:`to_content`; :func:`content_text` puts the markers back, giving the LLaMA-Factory
string). The i-th image item is ``images[i]``, the i-th video item ``videos[i]``.

**Media are lazy.** ``images`` / ``videos`` hold references, so a list of thousands of
records stays small and can be written as JSON lines:

* ``{"ref": "film", "reading_id": r}``: the reading's film on the key-frame grid (¼ scale,
  ``(film_height, film_width)``, the image the box coordinates refer to);
* ``{"ref": "keyframes", "reading_id": r, "frame_index": [...]}``: frames of the reading's
  attention video, by their 1-based ``frame_index`` in the key-frame table, **in display
  order** (shuffled for SDA).

:func:`materialize` (or a reusable :class:`RecordResolver`, which caches) replaces them by
arrays: each image a uint8 ``(H, W, 3)`` array (``channels=1``: ``(H, W)``), each video a
**list of frames** of that shape. Frames come from ``KeyframeTable.frames`` (saved stacks);
films from a ``film_loader(reading_id) -> (H, W) uint8`` (:func:`make_film_loader`).
"""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Callable

import numpy as np
import pandas as pd

__all__ = [
    "TASKS", "DEFAULT_TASKS", "to_content", "content_text", "film_ref", "frames_ref",
    "make_record", "record_prompt", "record_target", "validate_record", "clean_sentence",
    "record_rng", "stable_int", "reading_groups", "materialize", "RecordResolver",
    "make_film_loader", "RecordList", "official_sentence_label", "style_default",
]

#: Every task name; the official code builds the first six (T1..T6); ``gtm_path`` is ours (the
#: trajectory probe of :mod:`gazex_lib.tasks.path`).
TASKS = ("fvp", "gtm", "gtm_image", "gtm_clip", "sda_global", "sda_finding", "gtm_path")
#: Our default pretraining mix (one task per module variant: FVP, GTM, SDA global/finding).
DEFAULT_TASKS = ("fvp", "gtm", "sda_global", "sda_finding")

_MARKER_RE = re.compile(r"(<video>|<image>)")


class RecordList(list):
    """A list of records with a ``summary`` dict (counts of what was built and skipped)."""

    def __init__(self, records=(), summary: dict | None = None):
        super().__init__(records)
        self.summary = summary or {}


def to_content(prompt: str) -> list[dict]:
    """Split a prompt with ``<video>`` / ``<image>`` markers into Qwen2-VL content items.

    Text between markers is kept verbatim (spaces included); empty pieces are dropped.
    """
    items = []
    for piece in _MARKER_RE.split(prompt):
        if piece == "<video>":
            items.append({"type": "video"})
        elif piece == "<image>":
            items.append({"type": "image"})
        elif piece:
            items.append({"type": "text", "text": piece})
    return items


def content_text(content: list[dict]) -> str:
    """Inverse of :func:`to_content`: the text with ``<video>`` / ``<image>`` markers."""
    return "".join(f"<{c['type']}>" if c["type"] in ("video", "image") else c["text"]
                   for c in content)


def film_ref(reading_id: str) -> dict:
    return {"ref": "film", "reading_id": str(reading_id)}


def frames_ref(reading_id: str, frame_index) -> dict:
    return {"ref": "keyframes", "reading_id": str(reading_id),
            "frame_index": [int(i) for i in frame_index]}


def make_record(task: str, reading_id: str, prompt: str, target: str, *, images=(),
                videos=(), meta: dict | None = None, sentence_index: int | None = None) -> dict:
    """Assemble and validate one record (module docstring)."""
    rid = str(reading_id)
    rec_id = f"{task}:{rid}" if sentence_index is None else f"{task}:{rid}:s{int(sentence_index)}"
    record = {"id": rec_id, "task": task, "reading_id": rid,
              "messages": [{"role": "user", "content": to_content(prompt)},
                           {"role": "assistant", "content": [{"type": "text", "text": target}]}],
              "images": list(images), "videos": list(videos), "meta": dict(meta or {})}
    validate_record(record)
    return record


def record_prompt(record: dict) -> str:
    """The user turn as one string with ``<video>`` / ``<image>`` markers."""
    return content_text(record["messages"][0]["content"])


def record_target(record: dict) -> str:
    """The assistant turn's text."""
    return "".join(c["text"] for c in record["messages"][-1]["content"] if c["type"] == "text")


def validate_record(record: dict) -> None:
    """Raise ``ValueError`` unless the record is well formed: task known, user then assistant,
    placeholders matching ``images`` / ``videos`` one to one, no empty video, non-empty target."""
    rid = record.get("id")
    if record.get("task") not in TASKS:
        raise ValueError(f"record {rid}: unknown task {record.get('task')!r}")
    msgs = record.get("messages", [])
    if [m.get("role") for m in msgs] != ["user", "assistant"]:
        raise ValueError(f"record {rid}: messages must be one user then one assistant turn")
    user = msgs[0]["content"]
    n_img = sum(c["type"] == "image" for c in user)
    n_vid = sum(c["type"] == "video" for c in user)
    if n_img != len(record["images"]) or n_vid != len(record["videos"]):
        raise ValueError(f"record {rid}: {n_img} image / {n_vid} video placeholders but "
                         f"{len(record['images'])} images / {len(record['videos'])} videos")
    for v in record["videos"]:
        if len(v["frame_index"] if isinstance(v, dict) else v) == 0:
            raise ValueError(f"record {rid}: empty video")
    if any(c["type"] != "text" for c in msgs[1]["content"]) or not record_target(record):
        raise ValueError(f"record {rid}: the assistant turn must be non-empty text")


_PUNCT_RE = re.compile(r"\s+([.,;:?!])")


def clean_sentence(text: str) -> str:
    """Detokenise a REFLACX sentence: ``"no effusion ."`` -> ``"no effusion."``."""
    return _PUNCT_RE.sub(r"\1", " ".join(str(text).split()))


def official_sentence_label(text: str) -> str:
    """The official per-sentence folder name, used as the T3 target and the T6 prompt's
    sentence: ``text.strip().replace(' .', '').replace('/', '_').replace('\\', '_')``
    (``Extract_Disease_Based_Attention_Videos.py``)."""
    return str(text).strip().replace(" .", "").replace("/", "_").replace("\\", "_")


def style_default(value, prompt_style: str, official, clean):
    """``value`` if given, else the default of ``prompt_style``."""
    if value is not None:
        return value
    return official if prompt_style == "official" else clean


def stable_int(text: str) -> int:
    """A 32-bit integer from SHA-256 (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(str(text).encode()).digest()[:4], "little")


def record_rng(seed: int, *keys) -> np.random.Generator:
    """A Generator seeded by ``(seed, stable_int(key) for key in keys)``: the same record gets
    the same draws whatever else is built, in any order or process."""
    return np.random.default_rng([int(seed), *(stable_int(k) for k in keys)])


def reading_groups(table: pd.DataFrame):
    """``(reading_id, rows sorted by frame_index)`` in first-appearance order."""
    order = pd.unique(table["reading_id"])
    groups = {rid: g for rid, g in table.groupby("reading_id", sort=False)}
    for rid in order:
        yield str(rid), groups[rid].sort_values("frame_index", kind="stable")


# --- resolving media -------------------------------------------------------------------------
def make_film_loader(ds, jpg_root, *, scale: float, cache_size: int = 32) -> Callable:
    """``reading_id -> (H, W) uint8`` film at ``scale`` (the key-frame config's ``scale``,
    official ¼), the image the box coordinates refer to; the last ``cache_size`` are cached."""
    from gazex_lib.gaze.pipeline import load_film

    cache: OrderedDict = OrderedDict()

    def load(reading_id: str) -> np.ndarray:
        if reading_id in cache:
            cache.move_to_end(reading_id)
            return cache[reading_id]
        film = load_film(ds, reading_id, jpg_root, scale=scale)
        cache[reading_id] = film
        if len(cache) > cache_size:
            cache.popitem(last=False)
        return film

    return load


def _channels(img: np.ndarray, channels: int) -> np.ndarray:
    img = np.asarray(img, dtype=np.uint8)
    if channels == 1:
        return img if img.ndim == 2 else img[..., 0]
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    return img


class RecordResolver:
    """Resolves the media references of records (module docstring), caching the last
    ``cache_size`` readings' frame stacks.

    ``frames``: a :class:`~gazex_lib.gaze.table.KeyframeTable` (or anything with
    ``.frames(reading_id)``) or a callable ``reading_id -> (n, H, W) uint8``;
    ``film_loader``: ``reading_id -> (H, W) uint8`` (needed only for records with images).
    """

    def __init__(self, frames, film_loader: Callable | None = None, *, channels: int = 3,
                 cache_size: int = 8):
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")
        self._frames = frames.frames if hasattr(frames, "frames") else frames
        self.film_loader = film_loader
        self.channels = channels
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()

    def stack(self, reading_id: str) -> np.ndarray:
        if reading_id in self._cache:
            self._cache.move_to_end(reading_id)
            return self._cache[reading_id]
        stack = np.asarray(self._frames(reading_id))
        self._cache[reading_id] = stack
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return stack

    def image(self, ref) -> np.ndarray:
        if not isinstance(ref, dict):
            return _channels(ref, self.channels)          # already an array
        if ref.get("ref") != "film":
            raise ValueError(f"unknown image reference {ref!r}")
        if self.film_loader is None:
            raise ValueError("this record has an image: pass film_loader")
        return _channels(self.film_loader(ref["reading_id"]), self.channels)

    def video(self, ref) -> list[np.ndarray]:
        if not isinstance(ref, dict):
            return [_channels(f, self.channels) for f in ref]
        if ref.get("ref") != "keyframes":
            raise ValueError(f"unknown video reference {ref!r}")
        stack = self.stack(ref["reading_id"])
        idx = np.asarray(ref["frame_index"], dtype=np.int64) - 1
        if idx.size and (idx.min() < 0 or idx.max() >= len(stack)):
            raise IndexError(f"reading {ref['reading_id']!r}: frame_index {ref['frame_index']} "
                             f"outside its {len(stack)} saved frames")
        return [_channels(stack[i], self.channels) for i in idx]

    def __call__(self, record: dict) -> dict:
        out = dict(record)
        out["images"] = [self.image(r) for r in record["images"]]
        out["videos"] = [self.video(r) for r in record["videos"]]
        film = record.get("meta", {}).get("film_size")
        for img in out["images"]:
            if film is not None and (img.shape[1], img.shape[0]) != tuple(film):
                raise ValueError(f"record {record['id']}: film is {img.shape[1]}x{img.shape[0]} "
                                 f"but its coordinates refer to {film[0]}x{film[1]}")
        return out


def materialize(record: dict, kt, film_loader: Callable | None = None, *,
                channels: int = 3) -> dict:
    """A copy of ``record`` with arrays in place of its media references (module docstring).

    For many records build one :class:`RecordResolver` (it caches frame stacks)."""
    return RecordResolver(kt, film_loader, channels=channels)(record)
