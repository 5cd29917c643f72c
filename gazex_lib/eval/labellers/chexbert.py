"""CheXbert (Smit et al. 2020), rebuilt with transformers, loading the public ``chexbert.pth``.

**Where the files come from** (nothing here downloads them):

* ``chexbert.pth``: the checkpoint of stanfordmlgroup/CheXbert (its README links it; the same
  file is ``chexbert.pth`` in the StanfordAIMI/RRG_scorers Hugging Face repository).
* a ``bert-base-uncased`` folder (``vocab.txt``, and ``config.json``): the tokenizer CheXbert was
  trained with (Hugging Face ``google-bert/bert-base-uncased``).

**Architecture** (the public ``bert_labeler``): ``bert`` (a ``BertModel`` with its pooler),
dropout, then 14 linear heads on the final hidden state of ``[CLS]``: heads 0-12 have 4 classes
(0 blank, 1 positive, 2 negative, 3 uncertain), head 13 (``No Finding``) has 2 (0 blank,
1 positive). The argmax class maps to the label values as CheXbert's ``label.py`` writes them:
0 -> NaN, 1 -> 1, 2 -> 0, 3 -> -1 (:data:`CLASS_VALUES`).

**Checkpoint layout.** ``{"model_state_dict": {...}}`` saved from ``nn.DataParallel``: every key
starts with ``module.`` (``module.bert.embeddings.word_embeddings.weight``,
``module.linear_heads.13.bias``, ...). :func:`load_chexbert` strips that prefix and loads with
**strict** key matching. One legacy key is allowed and dropped (and counted in
``model.dropped_keys``): ``bert.embeddings.position_ids``, a buffer that transformers 3-4.30
saved in state dicts and newer versions keep out of them. Anything else missing or unexpected
raises :class:`CheXbertLoadError` naming the file and the keys.

**Tokenisation** (CheXbert's ``bert_tokenizer.py``): whitespace runs (newlines included) become
one space, the text is stripped, WordPiece-tokenised, wrapped in ``[CLS] ... [SEP]`` and cut at
512 tokens (the last kept token is ``[SEP]``); an empty text is ``[CLS] [SEP]``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.eval.labellers.base import Labeller

__all__ = ["CheXbertLabeller", "CheXbertLoadError", "CLASS_VALUES", "LEGACY_KEYS", "build_chexbert",
           "load_chexbert", "chexbert_state_dict", "MAX_TOKENS"]

#: Argmax class -> label value (CheXbert's ``label.py``).
CLASS_VALUES = {0: np.nan, 1: 1.0, 2: 0.0, 3: -1.0}
#: Keys an older transformers saved that this one does not expect: dropped on load, counted.
LEGACY_KEYS = ("bert.embeddings.position_ids",)
#: BERT's input limit, in WordPiece tokens including [CLS] and [SEP].
MAX_TOKENS = 512


class CheXbertLoadError(RuntimeError):
    """The checkpoint does not match CheXbert's layout (names the file and the keys)."""


def build_chexbert(config, dropout: float = 0.1):
    """The ``bert_labeler`` module for a ``BertConfig`` (randomly initialised)."""
    import torch
    from torch import nn
    from transformers import BertModel

    class CheXbertModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = BertModel(config)
            self.dropout = nn.Dropout(dropout)
            hidden = config.hidden_size
            self.linear_heads = nn.ModuleList([nn.Linear(hidden, 4) for _ in range(13)]
                                              + [nn.Linear(hidden, 2)])
            self.dropped_keys: tuple[str, ...] = ()

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> list[torch.Tensor]:
            cls = self.bert(input_ids, attention_mask=attention_mask).last_hidden_state[:, 0, :]
            cls = self.dropout(cls)
            return [head(cls) for head in self.linear_heads]

    return CheXbertModel()


def _bert_config(tokenizer_path: Path):
    from transformers import BertConfig

    cfg = tokenizer_path / "config.json"
    if cfg.exists():
        return BertConfig.from_dict(json.loads(cfg.read_text()))
    return BertConfig()   # bert-base-uncased's own sizes; the strict load checks every shape


def chexbert_state_dict(checkpoint_path: str | os.PathLike) -> dict:
    """The checkpoint's state dict with the ``module.`` prefix removed (every key or none)."""
    import torch

    path = Path(checkpoint_path)
    if not path.is_file():
        raise FileNotFoundError(f"CheXbert checkpoint not found: {path}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "model_state_dict" not in ckpt:
        keys = list(ckpt)[:5] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheXbertLoadError(f"{path}: no 'model_state_dict' (found {keys}); "
                                "expected the public chexbert.pth layout")
    state = ckpt["model_state_dict"]
    prefixed = [k.startswith("module.") for k in state]
    if any(prefixed) and not all(prefixed):
        odd = [k for k in state if not k.startswith("module.")][:3]
        raise CheXbertLoadError(f"{path}: some keys lack the 'module.' prefix: {odd}")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_chexbert(checkpoint_path: str | os.PathLike, tokenizer_path: str | os.PathLike,
                  device: str = "cpu"):
    """``(model, tokenizer)``: CheXbert in eval mode on ``device``, loaded strictly (module
    docstring), and the BERT tokenizer of ``tokenizer_path`` (local files only)."""
    from transformers import BertTokenizer

    tok_path = Path(tokenizer_path)
    if not (tok_path / "vocab.txt").is_file():
        raise FileNotFoundError(f"no vocab.txt in the CheXbert tokenizer folder {tok_path} "
                                "(a local bert-base-uncased folder)")
    model = build_chexbert(_bert_config(tok_path))
    state = chexbert_state_dict(checkpoint_path)
    expected = set(model.state_dict())
    dropped = tuple(k for k in LEGACY_KEYS if k in state and k not in expected)
    for k in dropped:
        del state[k]
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        raise CheXbertLoadError(f"{checkpoint_path}: not CheXbert's layout; missing keys {missing[:8]}"
                                f"{' ...' if len(missing) > 8 else ''}, unexpected keys {unexpected[:8]}"
                                f"{' ...' if len(unexpected) > 8 else ''}")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:   # shapes: a different BERT size than config.json says
        raise CheXbertLoadError(f"{checkpoint_path}: {exc}") from exc
    model.dropped_keys = dropped
    tokenizer = BertTokenizer.from_pretrained(str(tok_path), local_files_only=True)
    return model.eval().to(device), tokenizer


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _digest(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class CheXbertLabeller(Labeller):
    """CheXbert on a local checkpoint (module docstring). Its numbers are comparable to
    CheXbert-based numbers in the literature (same weights, same tokenisation).

    :param checkpoint_path: the public ``chexbert.pth``.
    :param tokenizer_path: a local ``bert-base-uncased`` folder (``vocab.txt``, ``config.json``).
    :param batch_size: texts per forward pass (``labeller.batch_size`` of ``configs/``).
    :param device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available; ``labeller.device``).
    """

    name = "chexbert"
    comparable_to_chexbert = True

    def __init__(self, checkpoint_path, tokenizer_path, *, batch_size: int, device: str,
                 cache_dir=None, progress: bool = True):
        super().__init__(cache_dir=cache_dir, progress=progress)
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.checkpoint_path = Path(checkpoint_path)
        self.tokenizer_path = Path(tokenizer_path)
        self.batch_size = int(batch_size)
        self.device = device
        self.model, self.tokenizer = load_chexbert(self.checkpoint_path, self.tokenizer_path, device)
        self._fingerprint: str | None = None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            h = hashlib.sha256(_digest(self.checkpoint_path).encode())
            h.update(_digest(self.tokenizer_path / "vocab.txt").encode())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def encode(self, texts: list[str]) -> list[list[int]]:
        """WordPiece ids per text, as CheXbert's ``bert_tokenizer.py`` makes them."""
        ids = self.tokenizer([_clean(t) for t in texts], truncation=True, max_length=MAX_TOKENS,
                             add_special_tokens=True)["input_ids"]
        return [list(x) for x in ids]

    def logits(self, texts: list[str]) -> list[np.ndarray]:
        """The 14 heads' logits for ``texts``: a list of 14 arrays ``(n, 4)`` (the last ``(n, 2)``)."""
        import torch
        from tqdm import tqdm

        ids = self.encode(texts)
        order = np.argsort([len(x) for x in ids], kind="stable")   # batches of similar length
        out = [np.zeros((len(texts), 4 if j < 13 else 2), dtype=np.float32) for j in range(14)]
        pad = self.tokenizer.pad_token_id
        starts = range(0, len(texts), self.batch_size)
        with torch.inference_mode():
            for s in tqdm(starts, desc="CheXbert", unit="batch", disable=not self.progress or len(starts) < 2):
                rows = order[s:s + self.batch_size]
                width = max(len(ids[i]) for i in rows)
                batch = torch.full((len(rows), width), pad, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for r, i in enumerate(rows):
                    batch[r, :len(ids[i])] = torch.tensor(ids[i])
                    mask[r, :len(ids[i])] = 1
                heads = self.model(batch.to(self.device), mask.to(self.device))
                for j, h in enumerate(heads):
                    out[j][rows] = h.float().cpu().numpy()
        return out

    def _label_texts(self, texts: list[str]) -> np.ndarray:
        heads = self.logits(texts)
        values = np.full((len(texts), len(CHEXBERT_LABELS)), np.nan)
        for j, h in enumerate(heads):
            values[:, j] = [CLASS_VALUES[int(c)] for c in h.argmax(axis=1)]
        return values
