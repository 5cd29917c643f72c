"""The real Qwen2 / Qwen2-VL tokenizer, rebuilt offline from its BPE ranks (DESIGN.md, env2.md B).

The ranks file ``qwen.tiktoken`` (151,643 lines of ``base64(token) rank``) ships inside the
``dashscope==2.0.2`` wheel on PyPI. At set-up, ``python -m gazex_lib.model.tokenizer build``:

1. ``fetch_ranks``: ``pip download --no-deps dashscope==2.0.2`` (2.4 MB), extract
   ``dashscope/resources/qwen.tiktoken``, check its sha256, keep it under
   ``<cache>/tokenizer/qwen.tiktoken``;
2. ``build_tokenizer``: byte-level BPE whose merges are derived from the ranks, NFC, Qwen2's
   pre-tokenizer regex (single-digit ``\\p{N}``), the 14 special tokens at ids 151643–151656,
   saved as a ``Qwen2Tokenizer`` directory (``tokenizer.json`` + ``tokenizer_config.json``)
   in ``tokenizer_dir()`` (about 2.5 s).

At run time nothing is downloaded: ``load_tokenizer()`` only reads the built directory and
raises a clear error (run ``make tokenizer``) when it is missing.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from gazex_lib import config

DASHSCOPE_REQUIREMENT = "dashscope==2.0.2"
RANKS_MEMBER = "dashscope/resources/qwen.tiktoken"
RANKS_SHA256 = "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"
N_RANKS = 151_643

#: Copied from transformers ``models/qwen2/tokenization_qwen2.py`` (note the single-digit
#: ``\p{N}``; tiktoken converters default to ``\p{N}{1,3}``, which is wrong for Qwen).
PRETOKENIZE_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
                     r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

#: In id order: ``<|endoftext|>`` = 151643 … ``<|video_pad|>`` = 151656.
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
)
SPECIAL_IDS = {tok: N_RANKS + i for i, tok in enumerate(SPECIAL_TOKENS)}
VOCAB_SIZE = N_RANKS + len(SPECIAL_TOKENS)  # 151,657

BUILD_HINT = ("Build it once with `make tokenizer` (part of `make install`), or "
              "`python -m gazex_lib.model.tokenizer build`.")


def ranks_path(cache: Path | None = None) -> Path:
    """``<cache>/tokenizer/qwen.tiktoken`` (``cache`` defaults to ``gazex_lib.config.cache_dir()``)."""
    return Path(cache or config.cache_dir()) / "tokenizer" / "qwen.tiktoken"


def tokenizer_dir(cache: Path | None = None) -> Path:
    """The built tokenizer directory: ``<cache>/tokenizer/qwen2``."""
    return Path(cache or config.cache_dir()) / "tokenizer" / "qwen2"


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch_ranks(cache_dir: Path | None = None, *, python: str | None = None) -> Path:
    """Download ``dashscope==2.0.2`` with pip, extract ``qwen.tiktoken``, check its sha256.

    Returns ``<cache>/tokenizer/qwen.tiktoken``; a cached file with the right hash is reused
    (no network). ``python`` is the interpreter whose pip runs (default: this one). The wheel
    is downloaded into a temporary folder and deleted; only the ranks file is kept.
    """
    dest = ranks_path(cache_dir)
    if dest.exists() and _sha256(dest) == RANKS_SHA256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dashscope-") as tmp:
        cmd = [python or sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--disable-pip-version-check", "--only-binary", ":all:", DASHSCOPE_REQUIREMENT,
               "-d", tmp]
        res = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob("dashscope-*.whl"))
        if res.returncode != 0 or not wheels:
            raise RuntimeError(f"could not download {DASHSCOPE_REQUIREMENT} with pip "
                               f"({' '.join(cmd)}):\n{res.stdout}\n{res.stderr}")
        with zipfile.ZipFile(wheels[0]) as zf:
            data = zf.read(RANKS_MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != RANKS_SHA256:
        raise RuntimeError(f"{RANKS_MEMBER} in {wheels[0].name} has sha256 {digest}, "
                           f"expected {RANKS_SHA256}")
    part = dest.with_suffix(".part")
    part.write_bytes(data)
    part.replace(dest)
    return dest


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (the ByteLevel alphabet)."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def read_ranks(path: Path) -> dict[bytes, int]:
    """Parse ``qwen.tiktoken``: ``{token bytes: rank}``, ranks exactly 0..151642."""
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    if sorted(ranks.values()) != list(range(len(ranks))):
        raise ValueError(f"{path}: ranks are not 0..{len(ranks) - 1}")
    return ranks


def _last_merge(token: bytes, ranks: dict[bytes, int]) -> tuple[bytes, bytes]:
    """The final merge tiktoken's rank-based BPE makes when encoding ``token`` on its own."""
    parts = [token[i:i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best, best_rank = -1, None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and (best_rank is None or r < best_rank):
                best, best_rank = i, r
        if best < 0:
            raise ValueError(f"token {token!r} cannot be built from its bytes")
        parts[best:best + 2] = [parts[best] + parts[best + 1]]
    return parts[0], parts[1]


def derive_merges(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """One merge per multi-byte token, ordered by the rank of the merged token (151,387)."""
    return [_last_merge(tok, ranks) for tok, _ in sorted(ranks.items(), key=lambda kv: kv[1])
            if len(tok) > 1]


def _tokenizer_config() -> dict:
    """``tokenizer_config.json`` in the shape of Qwen2-VL-2B-Instruct's (no chat template:
    the template lives in the processor, saved as ``chat_template.jinja``)."""
    decoder = {str(SPECIAL_IDS[t]): {"content": t, "lstrip": False, "normalized": False,
                                     "rstrip": False, "single_word": False, "special": True}
               for t in SPECIAL_TOKENS}
    return {
        "add_prefix_space": False,
        "added_tokens_decoder": decoder,
        "additional_special_tokens": list(SPECIAL_TOKENS[1:]),
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 32768,
        "pad_token": "<|endoftext|>",
        "padding_side": "left",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def build_tokenizer(ranks_file: Path, out_dir: Path) -> Path:
    """Build the Qwen2 tokenizer from ``qwen.tiktoken`` into ``out_dir`` (needs only ``tokenizers``).

    Pipeline: ``BPE(ignore_merges=True)`` over the 151,643 byte-level tokens with merges from
    :func:`derive_merges`; ``NFC``; ``Split(PRETOKENIZE_REGEX, "isolated")`` + ``ByteLevel``;
    ByteLevel decoder and post-processor; the 14 special tokens (ids 151643–151656). The
    directory is written to a temporary sibling and renamed into place. Returns ``out_dir``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    ranks_file, out_dir = Path(ranks_file), Path(out_dir)
    if _sha256(ranks_file) != RANKS_SHA256:
        raise ValueError(f"{ranks_file} does not have the pinned sha256 {RANKS_SHA256}")
    ranks = read_ranks(ranks_file)
    b2u = bytes_to_unicode()

    def enc(b: bytes) -> str:
        return "".join(b2u[x] for x in b)

    vocab = {enc(tok): rank for tok, rank in ranks.items()}
    merges = [(enc(a), enc(b)) for a, b in derive_merges(ranks)]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True, byte_fallback=False,
                               fuse_unk=False, unk_token=None))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    for t, i in SPECIAL_IDS.items():
        if tok.token_to_id(t) != i:
            raise AssertionError(f"special token {t} got id {tok.token_to_id(t)}, expected {i}")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".tmp-", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)
        tok.save(str(tmp / "tokenizer.json"), pretty=False)
        (tmp / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(), indent=2) + "\n")
        (tmp / "SOURCE").write_text(f"{DASHSCOPE_REQUIREMENT}:{RANKS_MEMBER} sha256={RANKS_SHA256}\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def is_built(directory: Path | None = None) -> bool:
    """Whether the built tokenizer directory is complete."""
    d = Path(directory) if directory else tokenizer_dir()
    return all((d / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "SOURCE"))


def ensure_tokenizer(cache_dir: Path | None = None, *, force: bool = False) -> Path:
    """Set-up step: fetch the ranks (if not cached) and build the tokenizer (if not built)."""
    out = tokenizer_dir(cache_dir)
    if force or not is_built(out):
        build_tokenizer(fetch_ranks(cache_dir), out)
    return out


def load_tokenizer(directory: str | os.PathLike | None = None, **kwargs):
    """``AutoTokenizer`` on the built directory (default ``tokenizer_dir()``); never downloads.

    Raises ``FileNotFoundError`` telling to run ``make tokenizer`` if the build is missing.
    """
    from transformers import AutoTokenizer

    d = Path(directory) if directory is not None else tokenizer_dir()
    if not is_built(d) and not (d / "tokenizer.json").is_file():
        raise FileNotFoundError(f"the Qwen2 tokenizer is not built at {d}. {BUILD_HINT}")
    return AutoTokenizer.from_pretrained(str(d), local_files_only=True, **kwargs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gazex_lib.model.tokenizer",
                                 description="Build the real Qwen2 tokenizer offline (set-up step).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="fetch qwen.tiktoken (pip download dashscope) and build")
    b.add_argument("--cache-dir", default=None, help="default: gazex_lib.config.cache_dir()")
    b.add_argument("--force", action="store_true", help="rebuild even if already built")
    sub.add_parser("path", help="print the tokenizer directory")
    args = ap.parse_args(argv)
    if args.cmd == "path":
        print(tokenizer_dir())
        return 0
    cache = Path(args.cache_dir) if args.cache_dir else None
    t0 = time.perf_counter()
    out = ensure_tokenizer(cache, force=args.force)
    print(f"tokenizer: {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
