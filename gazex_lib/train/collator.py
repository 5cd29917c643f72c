"""Chat records -> Qwen2-VL training batches, with per-turn label masking and no truncation.

A chat record (:mod:`gazex_lib.tasks.records`) holds ``messages`` in the Qwen2-VL chat format
plus its ``images`` / ``videos`` (arrays, or lazy references that a ``resolve`` callable such
as :class:`gazex_lib.tasks.RecordResolver` turns into arrays).

How a sample is built (:meth:`ChatCollator.encode`):

1. the conversation is rendered by the processor's chat template (never a hand-built string);
2. the processor tokenises it with the sample's images and videos, which expands each
   ``<|image_pad|>`` / ``<|video_pad|>`` placeholder into ``t·h·w / merge²`` tokens;
3. labels are set **per turn, by token ids**: every ``<|im_start|>assistant\\n`` header opens an
   assistant span that ends at the next ``<|im_end|>``. The answer tokens and that
   ``<|im_end|>`` carry labels (so the model learns to stop); the header, the ``\\n`` after
   ``<|im_end|>``, the system and user turns, and padding are ``-100``. The number of spans
   found must equal the number of assistant messages, or the record is rejected;
4. the sample is **never truncated**: a sample longer than ``max_length`` raises
   :class:`SampleTooLongError` (cutting a sample either drops ``<|image_pad|>`` tokens, which
   breaks the model's image-feature / token match, or drops the answer);
5. the batch is padded (right for training, left for generation) and the visual-token counts
   are checked against ``image_grid_thw`` / ``video_grid_thw`` (:func:`check_vision_tokens`).

Samples are tokenised one at a time (one processor call each) and padded here; this keeps the
checks per record, and the result equals one batched processor call.
"""
from __future__ import annotations

from typing import Callable, Sequence

IGNORE_INDEX = -100

#: Keys of a batch that are not model inputs (``split_batch`` removes them).
META_KEYS = ("labels", "task", "record_id", "target")


class SampleTooLongError(ValueError):
    """A sample is longer than ``max_length`` after the visual tokens are expanded."""


class VisionTokenMismatchError(ValueError):
    """The ``<|image_pad|>`` / ``<|video_pad|>`` tokens of a sample disagree with its grids."""


class RecordFormatError(ValueError):
    """A record cannot be rendered: media counts, unresolved references, no assistant answer."""


def _record_id(record, i: int) -> str:
    if not isinstance(record, dict):
        return f"<{i}>"
    return str(record.get("id", f"<record {i} of the batch>"))


def _is_reference(obj) -> bool:
    """A lazy media reference (``{"ref": ...}``) rather than an array / list of frames."""
    return isinstance(obj, dict)


def _count_items(messages, kind: str) -> int:
    n = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            n += sum(1 for c in content if isinstance(c, dict) and c.get("type") == kind)
    return n


class ChatCollator:
    """Callable on a list of chat records -> a batch dict of tensors plus metadata.

    Returns ``input_ids``, ``attention_mask``, ``mm_token_type_ids`` (when the processor makes
    them), ``pixel_values`` + ``image_grid_thw`` and ``pixel_values_videos`` +
    ``video_grid_thw`` (when the batch has images / videos), ``labels`` (training only), and
    the lists ``task`` and ``record_id`` (plus ``target``, the reference answers, for
    generation). Use :func:`split_batch` to separate model inputs from the rest.

    * ``processor``: the standard ``Qwen2VLProcessor`` (chat template attached).
    * ``max_length``: ``None`` (no limit) or the largest allowed sample length in tokens,
      visual tokens included. Longer samples raise :class:`SampleTooLongError`; nothing is
      ever truncated.
    * ``mask_prompt``: ``True`` (default) keeps labels only on assistant answers and their
      ``<|im_end|>``; ``False`` keeps every text token (visual placeholders and padding stay
      ``-100``), the TRL-example behaviour, for comparison only.
    * ``resolve``: ``record -> record`` with arrays in place of lazy media references
      (e.g. ``gazex_lib.tasks.RecordResolver(keyframe_table, film_loader)``). Records whose
      media are references and no ``resolve`` raise :class:`RecordFormatError`.
    * ``for_generation``: ``False`` (training: full conversation, right padding, labels) or
      ``True`` (generation: the conversation up to and without the last assistant turn, plus
      the generation prompt ``<|im_start|>assistant\\n``, **left** padding, no labels; the
      dropped answer is returned as ``target``).
    * ``padding_side``: overrides the side implied by ``for_generation``.
    """

    def __init__(self, processor, max_length: int | None = None, mask_prompt: bool = True, *,
                 resolve: Callable[[dict], dict] | None = None, for_generation: bool = False,
                 padding_side: str | None = None):
        if max_length is not None and int(max_length) <= 0:
            raise ValueError(f"max_length must be positive or None, got {max_length!r}")
        padding_side = padding_side or ("left" if for_generation else "right")
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
        self.processor = processor
        self.max_length = None if max_length is None else int(max_length)
        self.mask_prompt = mask_prompt
        self.resolve = resolve
        self.for_generation = for_generation
        self.padding_side = padding_side
        tok = processor.tokenizer
        self.ids = special_token_ids(tok)
        self.pad_token_id = (tok.pad_token_id if tok.pad_token_id is not None
                             else self.ids["<|endoftext|>"])
        self.merge_size = int(getattr(processor.image_processor, "merge_size", 2))

    # ------------------------------------------------------------------ one sample

    def render(self, record: dict) -> tuple[str, str | None]:
        """``(text, target)``: the chat-template rendering of ``record`` and, for generation,
        the text of the dropped final assistant turn (``None`` if there was none)."""
        messages = record["messages"]
        if not self.for_generation:
            if not any(m.get("role") == "assistant" for m in messages):
                raise RecordFormatError(f"record {record.get('id')!r} has no assistant turn to "
                                        "train on")
            return self.processor.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=False), None
        target = None
        if messages and messages[-1].get("role") == "assistant":
            target = _message_text(messages[-1])
            messages = messages[:-1]
        return self.processor.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=True), target

    def _media(self, record: dict, i: int) -> tuple[list, list]:
        rid = _record_id(record, i)
        images = list(record.get("images") or [])
        videos = list(record.get("videos") or [])
        if any(_is_reference(x) for x in images + videos):
            if self.resolve is None:
                raise RecordFormatError(
                    f"record {rid!r} holds lazy media references ({images + videos!r:.200}); "
                    "pass resolve=gazex_lib.tasks.RecordResolver(keyframe_table, film_loader) "
                    "to the collator")
            raise RecordFormatError(f"record {rid!r}: media still unresolved after resolve()")
        messages = record["messages"]
        n_img, n_vid = _count_items(messages, "image"), _count_items(messages, "video")
        if self.for_generation and messages and messages[-1].get("role") == "assistant":
            last = messages[-1:]
            n_img -= _count_items(last, "image")
            n_vid -= _count_items(last, "video")
        if n_img != len(images) or n_vid != len(videos):
            raise RecordFormatError(
                f"record {rid!r}: the messages hold {n_img} image and {n_vid} video items but "
                f"the record has {len(images)} images and {len(videos)} videos")
        return images, [list(v) for v in videos]

    def encode(self, record: dict, i: int = 0) -> dict:
        """One record -> ``{"input_ids": 1-D tensor, ..., "labels"?, "target"?}`` (unpadded)."""
        if self.resolve is not None:
            record = self.resolve(record)
        rid = _record_id(record, i)
        text, target = self.render(record)
        images, videos = self._media(record, i)
        kw = {}
        if images:
            kw["images"] = images
        if videos:
            kw["videos"] = videos
        enc = self.processor(text=[text], return_tensors="pt", **kw)
        out = {k: v for k, v in enc.items()}
        for key in ("input_ids", "attention_mask", "mm_token_type_ids"):
            if key in out:
                out[key] = out[key][0]
        ids = out["input_ids"]
        length = int(ids.shape[0])
        if self.max_length is not None and length > self.max_length:
            raise SampleTooLongError(
                f"record {rid!r} is {length} tokens long, over max_length={self.max_length} "
                f"({describe_vision_tokens(out, self.merge_size)}); samples are never truncated: "
                "lower the image / video pixel budgets, shorten the text, or raise max_length")
        check_vision_tokens(ids[None], out.get("image_grid_thw"), out.get("video_grid_thw"),
                            merge_size=self.merge_size, ids=self.ids, record_ids=[rid])
        if not self.for_generation:
            out["labels"] = self.make_labels(ids, record, rid)
        out["target"] = target
        return out

    def make_labels(self, ids, record: dict, rid: str = "?"):
        """Labels of one tokenised sample (module docstring, step 3)."""
        import torch

        labels = torch.full_like(ids, IGNORE_INDEX)
        spans = assistant_spans(ids, self.ids)
        n_assistant = sum(1 for m in record["messages"] if m.get("role") == "assistant")
        if len(spans) != n_assistant:
            raise RecordFormatError(
                f"record {rid!r}: found {len(spans)} '<|im_start|>assistant\\n' ... '<|im_end|>' "
                f"spans in the tokens but the record has {n_assistant} assistant messages")
        if self.mask_prompt:
            for start, end in spans:
                labels[start:end] = ids[start:end]
        else:
            pads = torch.tensor([self.ids["<|image_pad|>"], self.ids["<|video_pad|>"]])
            visual = torch.isin(ids, pads)
            labels = torch.where(visual, labels, ids)
        return labels

    # ------------------------------------------------------------------ a batch

    def __call__(self, records: Sequence[dict]) -> dict:
        import torch

        if len(records) == 0:
            raise ValueError("empty batch")
        samples = [self.encode(r, i) for i, r in enumerate(records)]
        batch = {}
        max_len = max(int(s["input_ids"].shape[0]) for s in samples)
        pads = {"input_ids": self.pad_token_id, "attention_mask": 0, "mm_token_type_ids": 0,
                "labels": IGNORE_INDEX}
        for key, pad_value in pads.items():
            if key not in samples[0]:
                continue
            rows = []
            for s in samples:
                x = s[key]
                fill = torch.full((max_len - x.shape[0],), pad_value, dtype=x.dtype)
                rows.append(torch.cat([x, fill] if self.padding_side == "right" else [fill, x]))
            batch[key] = torch.stack(rows)
        for values, grid in (("pixel_values", "image_grid_thw"),
                             ("pixel_values_videos", "video_grid_thw")):
            have = [s for s in samples if s.get(grid) is not None and len(s[grid])]
            if have:
                batch[values] = torch.cat([s[values] for s in have])
                batch[grid] = torch.cat([s[grid] for s in have])
        record_ids = [_record_id(r, i) for i, r in enumerate(records)]
        check_vision_tokens(batch["input_ids"], batch.get("image_grid_thw"),
                            batch.get("video_grid_thw"), merge_size=self.merge_size, ids=self.ids,
                            record_ids=record_ids)
        batch["task"] = [r.get("task", "") for r in records]
        batch["record_id"] = record_ids
        if self.for_generation:
            batch["target"] = [s["target"] for s in samples]
        return batch


def collate_for_generation(processor, records: Sequence[dict], *, resolve=None,
                           max_length: int | None = None) -> dict:
    """A left-padded generation batch: each record's conversation without its final assistant
    turn, plus the generation prompt; ``target`` holds the dropped answers (``None`` if a
    record ends with a user turn). See :class:`ChatCollator` (``for_generation=True``)."""
    return ChatCollator(processor, max_length=max_length, resolve=resolve,
                        for_generation=True)(records)


def split_batch(batch: dict) -> tuple[dict, dict]:
    """``(model_inputs, meta)``: tensors for ``model(**model_inputs)`` and the rest
    (``labels``, ``task``, ``record_id``, ``target``)."""
    inputs = {k: v for k, v in batch.items() if k not in META_KEYS}
    meta = {k: v for k, v in batch.items() if k in META_KEYS}
    return inputs, meta


# ---------------------------------------------------------------------- token-level helpers


def special_token_ids(tokenizer) -> dict[str, int]:
    """Ids of the tokens the collator needs: ``<|im_start|>``, ``<|im_end|>``, ``assistant``,
    ``\\n`` (as the template's header ``<|im_start|>assistant\\n`` tokenises), the vision pads
    and ``<|endoftext|>``."""
    names = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|vision_start|>", "<|vision_end|>",
             "<|image_pad|>", "<|video_pad|>")
    ids = {n: tokenizer.convert_tokens_to_ids(n) for n in names}
    header = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    if len(header) != 3 or header[0] != ids["<|im_start|>"]:
        raise ValueError(f"unexpected tokenisation of the assistant header: {header}")
    ids["assistant"], ids["\n"] = header[1], header[2]
    missing = [n for n, i in ids.items() if i is None or i == tokenizer.unk_token_id]
    if missing:
        raise ValueError(f"tokenizer lacks the tokens {missing}")
    return ids


def assistant_spans(ids, token_ids: dict) -> list[tuple[int, int]]:
    """``[(start, end)]`` of every assistant answer in a 1-D id sequence: ``start`` is the first
    token after ``<|im_start|>assistant\\n``, ``end`` is one past the closing ``<|im_end|>``
    (so ``ids[start:end]`` is the answer plus ``<|im_end|>``). An answer with no closing
    ``<|im_end|>`` (a generation prompt) is not a span."""
    seq = ids.tolist()
    s, a, nl, e = (token_ids["<|im_start|>"], token_ids["assistant"], token_ids["\n"],
                   token_ids["<|im_end|>"])
    spans = []
    i = 0
    while i + 2 < len(seq):
        if seq[i] == s and seq[i + 1] == a and seq[i + 2] == nl:
            start = i + 3
            try:
                end = seq.index(e, start) + 1
            except ValueError:
                break
            spans.append((start, end))
            i = end
        else:
            i += 1
    return spans


def _runs(row, token: int) -> list[int]:
    """Lengths of the maximal runs of ``token`` in a 1-D tensor, in order."""
    import torch

    hit = (row == token).to(torch.int8)
    if not bool(hit.any()):
        return []
    zero = torch.zeros(1, dtype=torch.int8)
    edges = torch.diff(torch.cat([zero, hit, zero]))
    starts = torch.nonzero(edges == 1).flatten()
    ends = torch.nonzero(edges == -1).flatten()
    return (ends - starts).tolist()


def check_vision_tokens(input_ids, image_grid_thw=None, video_grid_thw=None, *, merge_size: int = 2,
                        ids: dict | None = None, record_ids: Sequence[str] | None = None) -> None:
    """Raise :class:`VisionTokenMismatchError` unless every sample's ``<|image_pad|>`` (and
    ``<|video_pad|>``) tokens match its grids.

    Each image is one contiguous run of ``<|image_pad|>`` tokens; the runs of the batch, read
    sample by sample, must match the rows of ``image_grid_thw`` one to one, each of length
    ``t·h·w / merge_size²`` (the same for videos). So a sample with a missing or extra pad
    token, a grid row too many or too few, or a grid that was altered, is caught and named.
    """
    ids = ids or {"<|image_pad|>": 151655, "<|video_pad|>": 151656}
    if record_ids is None:
        record_ids = [f"#{i}" for i in range(len(input_ids))]
    for kind, token, grids in (("image", ids["<|image_pad|>"], image_grid_thw),
                               ("video", ids["<|video_pad|>"], video_grid_thw)):
        expected = [] if grids is None else [int(t) * int(h) * int(w) // merge_size ** 2
                                             for t, h, w in grids.tolist()]
        k = 0
        for b, row in enumerate(input_ids):
            runs = _runs(row, token)
            want = expected[k:k + len(runs)]
            if runs != want:
                raise VisionTokenMismatchError(
                    f"record {record_ids[b]!r}: {sum(runs)} <|{kind}_pad|> tokens in runs {runs} "
                    f"but its {kind}_grid_thw rows give {want} "
                    f"(= t·h·w / {merge_size}²); was the sample truncated or its media changed?")
            k += len(runs)
        if k != len(expected):
            raise VisionTokenMismatchError(
                f"the batch has {len(expected)} {kind}_grid_thw rows but only {k} {kind}s in its "
                f"tokens (records {record_ids})")


def describe_vision_tokens(enc: dict, merge_size: int = 2) -> str:
    """``"image tokens [64], video tokens [32], text tokens 41"`` for one encoded sample."""
    n = int(enc["input_ids"].shape[-1])
    parts, visual = [], 0
    for kind, grid in (("image", "image_grid_thw"), ("video", "video_grid_thw")):
        g = enc.get(grid)
        counts = ([] if g is None else
                  [int(t) * int(h) * int(w) // merge_size ** 2 for t, h, w in g.tolist()])
        visual += sum(counts)
        parts.append(f"{kind} tokens {counts}")
    return ", ".join(parts) + f", text tokens {n - visual}"


def _message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(c.get("text", "") for c in content
                   if isinstance(c, dict) and c.get("type") == "text")
