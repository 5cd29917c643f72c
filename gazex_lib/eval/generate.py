"""Greedy answers for chat records, batched, deterministic.

``generate_answers(model, processor, records, resolve=...)`` drops each record's final
assistant turn (the reference answer), renders the rest with the processor's chat template
plus the generation prompt (:func:`gazex_lib.train.collate_for_generation`: left padding,
visual-token checks, no truncation), and decodes greedily until ``<|im_end|>`` or
``max_new_tokens``. The answers come back in record order, without special tokens.
"""
from __future__ import annotations

from typing import Callable, Sequence

from gazex_lib.train.collator import ChatCollator, split_batch

__all__ = ["generate_answers", "answer_budgets"]


def answer_budgets(train_records, tokenizer, factor: float, extra: int = 8) -> dict:
    """``{task: max_new_tokens}`` = ``ceil(factor × longest training answer) + extra`` tokens
    (the answer plus its ``<|im_end|>``), from the *training* records only. ``factor``:
    ``heldout.new_tokens_factor`` of the profile."""
    import math

    from gazex_lib.tasks import record_target

    longest: dict[str, int] = {}
    for r in train_records:
        text = record_target(r)
        n = len(tokenizer(text, add_special_tokens=False)["input_ids"]) + 1
        longest[r["task"]] = max(longest.get(r["task"], 0), n)
    return {t: int(math.ceil(factor * n)) + int(extra) for t, n in sorted(longest.items())}


def generate_answers(model, processor, records: Sequence[dict], *, resolve: Callable | None = None,
                     batch_size: int, max_new_tokens: int | dict = 64,
                     max_length: int | None = None, progress: bool = False,
                     desc: str = "generate") -> list[str]:
    """Greedy answers (``do_sample=False``) of ``model`` for ``records``.

    * ``resolve``: resolves lazy media (:class:`gazex_lib.tasks.RecordResolver`).
    * ``max_new_tokens``: an int, or ``{task: int}`` (batches are formed per task, in the
      order the tasks first appear, so each task gets its own budget; answers still come back
      in record order).
    * ``batch_size``: records per ``generate`` call (``heldout.batch_size``). Batching changes nothing but speed: the
      batch is left-padded and attention-masked.
    """
    import torch
    from tqdm import tqdm

    records = list(records)
    collator = ChatCollator(processor, max_length=max_length, resolve=resolve,
                            for_generation=True)
    tok = processor.tokenizer
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    pad = tok.pad_token_id if tok.pad_token_id is not None else collator.pad_token_id
    by_task: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_task.setdefault(r.get("task", ""), []).append(i)
    batches = []
    for task, idx in by_task.items():
        budget = max_new_tokens[task] if isinstance(max_new_tokens, dict) else max_new_tokens
        batches += [(idx[k:k + batch_size], int(budget)) for k in range(0, len(idx), batch_size)]
    answers: list[str | None] = [None] * len(records)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for idx, budget in tqdm(batches, desc=desc, disable=not progress, dynamic_ncols=True):
            inputs, _ = split_batch(collator([records[i] for i in idx]))
            inputs = {k: v.to(device) if hasattr(v, "to") else v for k, v in inputs.items()}
            out = model.generate(**inputs, max_new_tokens=budget, do_sample=False,
                                 eos_token_id=im_end, pad_token_id=pad)
            new = out[:, inputs["input_ids"].shape[1]:]
            for i, row in zip(idx, new):
                answers[i] = tok.decode(row, skip_special_tokens=True).strip()
    model.train(was_training)
    return answers
