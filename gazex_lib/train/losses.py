"""Loss bookkeeping of the training loop: per-sample token losses and per-task windows.

See :mod:`gazex_lib.train.loop` for how they are used (the back-propagated loss is the
micro-batch token mean; logged losses are token-weighted means per task over a window).
"""
from __future__ import annotations

from typing import Sequence

from gazex_lib.train.collator import IGNORE_INDEX

def token_losses(logits, labels):
    """``(loss, per_sample_sum, per_sample_tokens)`` of next-token cross-entropy.

    ``logits``: (B, L, V); ``labels``: (B, L) with ``-100`` where no loss is taken. Position t
    predicts ``labels[t + 1]``. ``loss`` = sum / count over the whole micro-batch (float32),
    equal to transformers' ``ForCausalLMLoss``; the per-sample tensors are detached. As in
    transformers, the labels are shifted (not the logits), so the (B, L, V) logits are not
    copied."""
    import torch
    import torch.nn.functional as F

    b, length, vocab = logits.shape
    shift_labels = F.pad(labels, (0, 1), value=IGNORE_INDEX)[:, 1:].to(logits.device)
    tok = F.cross_entropy(logits.float().reshape(b * length, vocab), shift_labels.reshape(-1),
                          ignore_index=IGNORE_INDEX, reduction="none").view(b, length)
    mask = shift_labels != IGNORE_INDEX
    per_sum = tok.sum(dim=1)          # ignored positions contribute exactly 0
    per_n = mask.sum(dim=1)
    loss = per_sum.sum() / per_n.sum().clamp(min=1).to(per_sum.dtype)
    return loss, per_sum.detach(), per_n.detach().to(torch.float32)


def label_positions(labels):
    """``(mask, shift_labels)``: ``mask[b, t]`` is True where position t predicts a label
    (``labels[b, t + 1] != -100``); pass it to the model as ``logits_to_keep=mask`` so the
    (huge-vocabulary) logits are computed at those positions only."""
    import torch.nn.functional as F

    shift_labels = F.pad(labels, (0, 1), value=IGNORE_INDEX)[:, 1:]
    return shift_labels != IGNORE_INDEX, shift_labels


def kept_token_losses(kept_logits, labels, mask=None):
    """:func:`token_losses` from the logits at the label positions only.

    ``kept_logits``: ``(N, V)``, what the model returns for ``logits_to_keep=mask`` (a boolean
    ``(B, L)`` mask from :func:`label_positions`, rows in ``mask.nonzero()`` order). Equal to
    :func:`token_losses` on the full logits (tested): positions without a label contribute
    nothing there either. With the full 151,657-token vocabulary this skips a
    (B, L, V) projection and softmax, most of a tiny model's step."""
    import torch
    import torch.nn.functional as F

    if mask is None:
        mask, shift_labels = label_positions(labels)
    else:
        shift_labels = label_positions(labels)[1]
    mask = mask.to(kept_logits.device)
    targets = shift_labels.to(kept_logits.device)[mask]
    if kept_logits.shape[0] != targets.shape[0]:
        raise ValueError(f"{kept_logits.shape[0]} kept logits for {targets.shape[0]} label "
                         "positions: was logits_to_keep=mask passed to the model?")
    tok = F.cross_entropy(kept_logits.float(), targets, reduction="none")
    b = labels.shape[0]
    rows = mask.nonzero()[:, 0]
    per_sum = torch.zeros(b, dtype=tok.dtype, device=tok.device).index_add(0, rows, tok)
    per_n = mask.sum(dim=1)
    loss = tok.sum() / per_n.sum().clamp(min=1).to(tok.dtype)
    return loss, per_sum.detach(), per_n.detach().to(torch.float32)


def model_token_losses(model, inputs: dict, labels):
    """Forward ``model`` on ``inputs`` and return :func:`token_losses`' triple, computing the
    logits at label positions only (``logits_to_keep``, transformers' own slicing); a model
    that ignores ``logits_to_keep`` and returns (B, L, V) logits is scored on all of them."""
    mask, _ = label_positions(labels)
    out = model(**inputs, use_cache=False, logits_to_keep=mask.to(inputs["input_ids"].device))
    if out.logits.ndim == 3:
        return token_losses(out.logits, labels)
    return kept_token_losses(out.logits, labels, mask)


class LossWindow:
    """Token-weighted loss sums per task since the last log line (on the device)."""

    def __init__(self, tasks: Sequence[str], device):
        import torch

        self.tasks = list(tasks)
        self.index = {t: i for i, t in enumerate(self.tasks)}
        self.device = device
        k = len(self.tasks)
        self.loss_sum = torch.zeros(k, dtype=torch.float64, device=device)
        self.label_tokens = torch.zeros(k, dtype=torch.float64, device=device)
        self.samples = torch.zeros(k, dtype=torch.float64, device=device)
        self.input_tokens = torch.zeros(1, dtype=torch.float64, device=device)
        self.steps = 0
        self.seconds = 0.0

    def add(self, tasks, per_sum, per_n, input_tokens=0) -> None:
        import torch

        idx = torch.tensor([self.index[t] for t in tasks], device=self.device)
        self.loss_sum.index_add_(0, idx, per_sum.to(self.device, torch.float64))
        self.label_tokens.index_add_(0, idx, per_n.to(self.device, torch.float64))
        ones = torch.ones(len(tasks), dtype=torch.float64, device=self.device)
        self.samples.index_add_(0, idx, ones)
        self.input_tokens += torch.as_tensor(input_tokens).to(self.device, torch.float64)

    def reduce(self, accelerator) -> dict:
        """Sum over processes (a collective: every process must call it; ``accelerator=None``:
        this process only) -> plain numbers."""
        import torch

        packed = torch.cat([self.loss_sum, self.label_tokens, self.samples, self.input_tokens])
        if accelerator is not None and accelerator.num_processes > 1:
            packed = accelerator.reduce(packed, reduction="sum")
        k = len(self.tasks)
        v = packed.tolist()
        return {"loss_sum": v[:k], "label_tokens": v[k:2 * k], "samples": v[2 * k:3 * k],
                "input_tokens": v[3 * k], "steps": self.steps, "seconds": self.seconds}

    def load(self, totals: dict) -> None:
        """Restore the (already reduced) totals saved in a checkpoint."""
        import torch

        k = len(self.tasks)
        kw = dict(dtype=torch.float64, device=self.device)
        self.loss_sum = torch.tensor(totals["loss_sum"], **kw)
        self.label_tokens = torch.tensor(totals["label_tokens"], **kw)
        self.samples = torch.tensor(totals["samples"], **kw)
        self.input_tokens = torch.tensor([totals["input_tokens"]], **kw)
        self.steps, self.seconds = int(totals["steps"]), float(totals["seconds"])
        assert len(self.loss_sum) == k

    def reset(self) -> None:
        self.loss_sum.zero_()
        self.label_tokens.zero_()
        self.samples.zero_()
        self.input_tokens.zero_()
        self.steps, self.seconds = 0, 0.0


def summarize(totals: dict, tasks: Sequence[str]) -> dict:
    """Token-weighted ``loss`` and ``loss_per_task`` (tasks with no tokens are left out)."""
    n = sum(totals["label_tokens"])
    out = {"loss": sum(totals["loss_sum"]) / n if n else float("nan"), "loss_per_task": {},
           "samples_per_task": {}, "label_tokens_per_task": {}}
    for t, s, k, m in zip(tasks, totals["loss_sum"], totals["label_tokens"], totals["samples"]):
        if m:
            out["samples_per_task"][t] = int(m)
            out["label_tokens_per_task"][t] = int(k)
        if k:
            out["loss_per_task"][t] = s / k
    out["label_tokens"] = int(n)
    out["input_tokens"] = int(totals["input_tokens"])
    return out
