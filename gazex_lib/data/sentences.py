"""Sentence segmentation of a REFLACX transcript, as in the official GazeX code.

Official rule (``extract_patches_from_transcription`` in ``Generate_Attention_Videos_Phase_*.py``):

* a sentence is the words up to and including a ``'.'`` token;
* its text is ``' '.join(words)``, so punctuation stays a separate token
  (``"no pneumothorax ."``, ``"heart size normal , lungs clear ."``);
* its interval is (start of its first word, end of its ``'.'`` token), in seconds on the
  audio clock;
* its gaze window is ``[start - window_lead_s, end]`` (the paper's 2 s lead).

**Trailing words** (after the last ``'.'``, or every word when there is none) are
dropped by the official code. ``trailing_words="drop"`` does the same (default);
``trailing_words="keep"`` emits them as one final sentence flagged ``trailing=True``
(start = first trailing word's start, end = last trailing word's end). Either way
:func:`trailing_word_count` counts them and the quality report reports them, so nothing
disappears silently.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TRAILING_MODES = ("drop", "keep")

SENTENCE_COLUMNS = [
    "sentence_index", "text", "timestamp_start_s", "timestamp_end_s", "window_start_s",
    "window_end_s", "n_words", "first_word_index", "last_word_index", "trailing",
]

SENTENCE_END = "."


def _check_mode(trailing_words: str) -> None:
    if trailing_words not in TRAILING_MODES:
        raise ValueError(f"trailing_words must be one of {TRAILING_MODES}, got {trailing_words!r}")


def _is_end(words: pd.DataFrame) -> np.ndarray:
    return (words["word"].astype(str).str.strip() == SENTENCE_END).to_numpy()


def trailing_word_count(words: pd.DataFrame) -> int:
    """Words after the last ``'.'`` token (all of them when there is no ``'.'``)."""
    ends = np.flatnonzero(_is_end(words))
    return int(len(words) - (ends[-1] + 1 if len(ends) else 0))


def word_sentence_index(words: pd.DataFrame, trailing_words: str = "drop") -> np.ndarray:
    """Per word, the index of its sentence (int64); ``-1`` for dropped trailing words."""
    _check_mode(trailing_words)
    is_end = _is_end(words)
    # sentence of word i = number of '.' tokens strictly before i
    idx = np.concatenate([[0], np.cumsum(is_end)[:-1]]).astype(np.int64) if len(words) else \
        np.zeros(0, dtype=np.int64)
    n_trailing = trailing_word_count(words)
    if n_trailing and trailing_words == "drop":
        idx[len(words) - n_trailing:] = -1
    return idx


def segment_sentences(words: pd.DataFrame, *, window_lead_s: float,
                      trailing_words: str) -> pd.DataFrame:
    """Split a words table (``word, timestamp_start_word, timestamp_end_word``) into sentences.

    Returns one row per sentence with :data:`SENTENCE_COLUMNS`: ``n_words`` counts every
    token including punctuation; ``first_word_index``/``last_word_index`` are 0-based row
    positions in ``words``; ``trailing`` is True only for the kept trailing-words sentence.
    """
    _check_mode(trailing_words)
    if window_lead_s < 0 or not np.isfinite(window_lead_s):
        raise ValueError(f"window_lead_s must be a finite number >= 0, got {window_lead_s!r}")
    tokens = words["word"].astype(str).tolist()
    start = words["timestamp_start_word"].to_numpy(dtype=np.float64)
    end = words["timestamp_end_word"].to_numpy(dtype=np.float64)
    ends = np.flatnonzero(_is_end(words)).tolist()
    spans = []
    first = 0
    for last in ends:
        spans.append((first, last, False))
        first = last + 1
    if first < len(tokens) and trailing_words == "keep":
        spans.append((first, len(tokens) - 1, True))
    rows = []
    for k, (a, b, trailing) in enumerate(spans):
        rows.append({
            "sentence_index": k,
            "text": " ".join(tokens[a:b + 1]),
            "timestamp_start_s": start[a],
            "timestamp_end_s": end[b],
            "window_start_s": start[a] - window_lead_s,
            "window_end_s": end[b],
            "n_words": b - a + 1,
            "first_word_index": a,
            "last_word_index": b,
            "trailing": trailing,
        })
    out = pd.DataFrame(rows, columns=SENTENCE_COLUMNS)
    return out.astype({"sentence_index": np.int64, "text": object, "timestamp_start_s": np.float64,
                       "timestamp_end_s": np.float64, "window_start_s": np.float64,
                       "window_end_s": np.float64, "n_words": np.int64,
                       "first_word_index": np.int64, "last_word_index": np.int64,
                       "trailing": bool})
