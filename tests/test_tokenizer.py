"""The real Qwen2 / Qwen2-VL tokenizer rebuilt offline reproduces transformers' published ids.

Ground truth not made by us:
* ``huggingface/transformers`` ``tests/models/qwen2/test_tokenization_qwen2.py``
  ``test_tokenizer_integration`` (the ``Qwen/Qwen-tokenizer`` at rev 5909c82…; read at commit
  04bee35c…): the three full id lists below;
* ``tests/models/qwen2_vl/test_modeling_qwen2_vl.py`` ``test_small_model_integration_test``:
  the first 17 ids of the chat-with-image prompt;
* ``test_nfc_normalization`` of the same Qwen2 test file.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from gazex_lib.model import tokenizer as qtok
from gazex_lib.model.processor import build_processor

QWEN2_TEXTS = [
    "Transformers (formerly known as pytorch-transformers and pytorch-pretrained-bert) provides "
    "general-purpose architectures (BERT, GPT-2, RoBERTa, XLM, DistilBert, XLNet...) for Natural "
    "Language Understanding (NLU) and Natural Language Generation (NLG) with over 32+ pretrained "
    "models in 100+ languages and deep interoperability between Jax, PyTorch and TensorFlow.",
    "🤗 Transformers 提供了可以轻松地下载并且训练先进的预训练模型的 API 和工具。使用预训练模型可以减少计算消耗和碳排放，并且节省从头训练所需要的时间和资源。",
    """```python\ntokenizer = AutoTokenizer.from_pretrained("Qwen/Qwen-tokenizer")\n"""
    """tokenizer("世界，你好！")```""",
]
QWEN2_IDS = [
    [8963, 388, 320, 69514, 3881, 438, 4510, 27414, 32852, 388, 323, 4510, 27414, 21334, 35722,
     1455, 529, 8, 5707, 4586, 58238, 77235, 320, 61437, 11, 479, 2828, 12, 17, 11, 11830, 61437,
     64, 11, 1599, 10994, 11, 27604, 321, 33, 529, 11, 29881, 6954, 32574, 369, 18448, 11434,
     45451, 320, 45, 23236, 8, 323, 18448, 11434, 23470, 320, 30042, 38, 8, 448, 916, 220, 18, 17,
     10, 80669, 4119, 304, 220, 16, 15, 15, 10, 15459, 323, 5538, 94130, 2897, 1948, 619, 706, 11,
     5355, 51, 21584, 323, 94986, 13],
    [144834, 80532, 93685, 83744, 34187, 73670, 104261, 29490, 62189, 103937, 104034, 102830,
     98841, 104034, 104949, 9370, 5333, 58143, 102011, 1773, 37029, 98841, 104034, 104949, 73670,
     101940, 100768, 104997, 33108, 100912, 105054, 90395, 100136, 106831, 45181, 64355, 104034,
     113521, 101975, 33108, 85329, 1773],
    [73594, 12669, 198, 85593, 284, 8979, 37434, 6387, 10442, 35722, 445, 48, 16948, 45274, 16948,
     34841, 3135, 1138, 85593, 445, 99489, 3837, 108386, 6313, 899, 73594],
]
QWEN2VL_IMAGE_PREFIX = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644,
                        872, 198, 151652, 151655, 151655]
VIDEO_IMAGE_HI = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872,
                  198, 151652, 151656, 151653, 151652, 151655, 151653, 13048, 151645, 198, 151644,
                  77091, 198]


@pytest.fixture(scope="module")
def tok(qwen_tokenizer_dir):
    return qtok.load_tokenizer(qwen_tokenizer_dir)


@pytest.fixture(scope="module")
def processor(tok):
    return build_processor(tok)


def test_ranks_file_is_pinned(qwen_tokenizer_dir):
    path = qtok.ranks_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == qtok.RANKS_SHA256
    ranks = qtok.read_ranks(path)
    assert len(ranks) == qtok.N_RANKS == 151_643
    assert (qwen_tokenizer_dir / "tokenizer.json").is_file()


@pytest.mark.parametrize("i", range(3))
def test_qwen2_integration_ids(tok, i):
    ids = tok(QWEN2_TEXTS[i])["input_ids"]
    assert len(ids) == [90, 42, 26][i]
    assert ids == QWEN2_IDS[i]
    assert tok.decode(ids) == QWEN2_TEXTS[i]


def test_qwen2_integration_padded_batch(tok):
    enc = tok(QWEN2_TEXTS, padding=True, padding_side="right")
    assert [len(r) for r in enc["input_ids"]] == [90, 90, 90]
    for ids, mask, expected in zip(enc["input_ids"], enc["attention_mask"], QWEN2_IDS):
        n = len(expected)
        assert ids == expected + [151643] * (90 - n)
        assert mask == [1] * n + [0] * (90 - n)


def test_special_tokens(tok):
    assert len(tok) == qtok.VOCAB_SIZE == 151_657
    for name, i in qtok.SPECIAL_IDS.items():
        assert tok.convert_tokens_to_ids(name) == i
        assert tok.decode([i]) == name
    assert qtok.SPECIAL_IDS["<|endoftext|>"] == 151643
    assert qtok.SPECIAL_IDS["<|video_pad|>"] == 151656
    assert tok.eos_token_id == 151645 and tok.pad_token_id == 151643
    assert tok.bos_token is None
    # special strings inside text are split out as single ids
    assert tok("a<|im_start|>b")["input_ids"] == [64, 151644, 65]


def test_nfc_normalization(tok):
    assert tok.backend_tokenizer.normalizer.normalize_str("\u03d2\u0301\u03d2\u0308\u017f\u0307") \
        == "\u03d3\u03d4\u1e9b"
    assert tok("\u03d2\u0301")["input_ids"] == tok("\u03d3")["input_ids"]


def test_single_digits(tok):
    ids = tok("12345")["input_ids"]
    assert ids == [16, 17, 18, 19, 20]


def test_decode_round_trip(tok):
    texts = ["Heart size is normal.\nNo pleural effusion.  ", "café naïve 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \t\r\n",
             "opacity in the left lower lobe (LLL), ~3 cm; 'it's' we'll"]
    for t in texts:
        assert tok.decode(tok(t)["input_ids"]) == t


def test_chat_with_image_matches_qwen2vl_test(processor):
    msgs = [{"role": "user", "content": [{"type": "image"},
                                         {"type": "text", "text": "What kind of dog is this?"}]}]
    text = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    enc = processor(text=[text], images=[image], return_tensors="pt")
    ids = enc["input_ids"][0].tolist()
    assert ids[:17] == QWEN2VL_IMAGE_PREFIX
    assert enc["image_grid_thw"].tolist() == [[1, 22, 28]]
    assert ids[15:15 + 154] == [151655] * 154
    assert ids[15 + 154:] == [151653, 3838, 3093, 315, 5562, 374, 419, 30, 151645, 198, 151644,
                              77091, 198]
    assert processor.tokenizer.decode(ids, skip_special_tokens=True) == \
        "system\nYou are a helpful assistant.\nuser\nWhat kind of dog is this?\nassistant\n"


def test_video_image_text_template(processor):
    msgs = [{"role": "user", "content": [{"type": "video"}, {"type": "image"},
                                         {"type": "text", "text": "Hi"}]}]
    text = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert processor.tokenizer(text)["input_ids"] == VIDEO_IMAGE_HI


def test_tokenizer_config_shape(qwen_tokenizer_dir):
    cfg = json.loads((qwen_tokenizer_dir / "tokenizer_config.json").read_text())
    assert cfg["tokenizer_class"] == "Qwen2Tokenizer"
    assert cfg["eos_token"] == "<|im_end|>" and cfg["pad_token"] == "<|endoftext|>"
    assert cfg["bos_token"] is None and cfg["model_max_length"] == 32768
    assert cfg["additional_special_tokens"] == list(qtok.SPECIAL_TOKENS[1:])
    assert "chat_template" not in cfg


def test_rebuild_is_identical(qwen_tokenizer_dir, tmp_path):
    out = qtok.build_tokenizer(qtok.ranks_path(), tmp_path / "qwen2")
    assert (out / "tokenizer.json").read_bytes() == (qwen_tokenizer_dir / "tokenizer.json").read_bytes()


def test_derived_merges_are_canonical(qwen_tokenizer_dir):
    ranks = qtok.read_ranks(qtok.ranks_path())
    merges = qtok.derive_merges(ranks)
    assert len(merges) == 151_387  # the size of Qwen2's merges.txt (151,643 - 256)
    assert all(a + b in ranks and a in ranks and b in ranks for a, b in merges[:2000])


def test_missing_build_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="make tokenizer"):
        qtok.load_tokenizer(tmp_path / "nowhere")


def test_bad_ranks_file_is_rejected(tmp_path):
    bad = tmp_path / "qwen.tiktoken"
    bad.write_bytes(b"IQ== 0\n")
    with pytest.raises(ValueError, match="sha256"):
        qtok.build_tokenizer(bad, tmp_path / "out")
