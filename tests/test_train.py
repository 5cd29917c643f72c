"""gazex_lib.train: label masking token by token, no truncation, visual-token checks, the loss,
per-task logging, checkpoints and exact resume. CPU, tiny model, 56 px images, 2-frame videos."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from gazex_lib.config import load_config
from gazex_lib.model import apply_lora, build_processor, load_model
from gazex_lib.model.setup import lora_kwargs
from gazex_lib.train import (IGNORE_INDEX, ChatCollator, EpochSampler, RecordFormatError,
                             SampleTooLongError, TrainConfig, VisionTokenMismatchError,
                             config_from_profile,
                             check_vision_tokens, collate_for_generation, read_log, split_batch,
                             token_losses, train)

LORA = lora_kwargs(load_config("full").model)
PIXELS = dict(min_pixels=56 * 56, max_pixels=56 * 56, video_min_pixels=56 * 56,
              video_max_pixels=56 * 56)
IM_START, IM_END, IMAGE_PAD, VIDEO_PAD = 151644, 151645, 151655, 151656
TASKS = ("fvp", "gtm", "sda_global")


def _img(seed: int, size: int = 56) -> np.ndarray:
    g = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def make_record(i: int, answer: str | None = None, task: str | None = None,
                question: str = "Which regions did the radiologist look at?") -> dict:
    """A GazeX-shaped record: user turn (video, image, text) then a short answer."""
    return {"id": f"rec{i}", "task": task or TASKS[i % len(TASKS)], "reading_id": f"R{i}",
            "messages": [
                {"role": "user", "content": [{"type": "video"}, {"type": "image"},
                                             {"type": "text", "text": question}]},
                {"role": "assistant", "content": [{"type": "text", "text":
                                                   answer or f"Right lower lobe, box {i}."}]}],
            "images": [_img(100 + i)], "videos": [[_img(200 + i), _img(300 + i)]], "meta": {}}


def labelled_spans(labels) -> list[list[int]]:
    """Contiguous runs of positions whose label is not -100, as lists of label ids."""
    spans, cur = [], []
    for x in labels.tolist():
        if x == IGNORE_INDEX:
            if cur:
                spans.append(cur)
            cur = []
        else:
            cur.append(x)
    return spans + ([cur] if cur else [])


@pytest.fixture(scope="module")
def processor(qwen_tokenizer_dir):
    return build_processor(qwen_tokenizer_dir, **PIXELS)


@pytest.fixture(scope="module")
def collator(processor):
    return ChatCollator(processor)


@pytest.fixture(scope="module")
def base_model(qwen_tokenizer_dir):
    model, _ = load_model(None, seed=0, device="cpu", processor_kwargs=PIXELS)
    return model


def fresh_lora(base_model):
    """A new LoRA model on a copy of the base, with the same LoRA initialisation every time."""
    model = copy.deepcopy(base_model)
    torch.manual_seed(123)
    return apply_lora(model, **{**LORA, "r": 4, "alpha": 8})


# ---------------------------------------------------------------------------- masking


def test_labels_token_by_token(collator, processor):
    rec = make_record(0, answer="Left lower lobe opacity.")
    batch = collator([rec])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    tok = processor.tokenizer
    # the visual placeholders were expanded: 2 frames of 56 px -> 4 video tokens, image -> 4
    assert int((ids == VIDEO_PAD).sum()) == 4 and int((ids == IMAGE_PAD).sum()) == 4
    header = tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    answer_ids = tok("Left lower lobe opacity.", add_special_tokens=False)["input_ids"]
    seq = ids.tolist()
    starts = [i for i in range(len(seq) - 2) if seq[i:i + 3] == header]
    assert len(starts) == 1
    first = starts[0] + 3
    last = first + len(answer_ids)                  # position of <|im_end|>
    expected = torch.full_like(ids, IGNORE_INDEX)
    expected[first:last + 1] = ids[first:last + 1]
    assert torch.equal(labels, expected)            # every position, one by one
    assert seq[first:last] == answer_ids and seq[last] == IM_END
    assert seq[last + 1:] == tok("\n")["input_ids"] and labels[last + 1] == IGNORE_INDEX
    assert labels[first - 3:first].tolist() == [IGNORE_INDEX] * 3   # the header is masked
    kept = labels[labels != IGNORE_INDEX]
    assert tok.decode(kept) == "Left lower lobe opacity.<|im_end|>"
    # no visual or prompt token carries a label
    assert not bool(((ids == IMAGE_PAD) | (ids == VIDEO_PAD))[labels != IGNORE_INDEX].any())


def test_multi_turn_masking(collator, processor):
    rec = make_record(1)
    rec["messages"] = [
        {"role": "system", "content": [{"type": "text", "text": "You read chest X-rays."}]},
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "First?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "The heart."}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Then?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "The left lung."}]},
    ]
    batch = collator([rec])
    spans = labelled_spans(batch["labels"][0])
    decode = processor.tokenizer.decode
    assert [decode(s) for s in spans] == ["The heart.<|im_end|>", "The left lung.<|im_end|>"]
    text = decode(batch["input_ids"][0])
    assert text.startswith("<|im_start|>system\nYou read chest X-rays.<|im_end|>")
    # a record claiming more answers than its tokens hold is rejected
    with pytest.raises(RecordFormatError, match="rec1"):
        collator.make_labels(batch["input_ids"][0][:-6], rec, "rec1")


def test_padding_is_masked_right_for_training_left_for_generation(collator, processor):
    short, long = make_record(0, answer="Yes."), make_record(1, answer="A much longer answer " * 5)
    batch = collator([short, long])
    n_short = int(collator.encode(short)["input_ids"].shape[0])
    n_long = batch["input_ids"].shape[1]
    assert n_long > n_short
    pad = processor.tokenizer.pad_token_id
    assert batch["input_ids"][0, n_short:].eq(pad).all()
    assert batch["attention_mask"][0, n_short:].eq(0).all()
    assert batch["attention_mask"][0, :n_short].eq(1).all()
    assert batch["labels"][0, n_short:].eq(IGNORE_INDEX).all()
    assert batch["mm_token_type_ids"][0, n_short:].eq(0).all()
    assert processor.tokenizer.decode(labelled_spans(batch["labels"][0])[0]) == "Yes.<|im_end|>"
    assert batch["task"] == [short["task"], long["task"]]
    assert batch["record_id"] == ["rec0", "rec1"]
    assert batch["image_grid_thw"].shape == (2, 3) and batch["video_grid_thw"].shape == (2, 3)

    gen = collate_for_generation(processor, [short, long])
    assert "labels" not in gen and gen["target"] == ["Yes.", "A much longer answer " * 5]
    header = processor.tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    for row, mask in zip(gen["input_ids"], gen["attention_mask"]):
        assert row[-3:].tolist() == header            # left padded: every row ends with the prompt
        assert mask[-1] == 1
    # the same prompts, so equal lengths: pad the second one differently to see left padding
    gen2 = collate_for_generation(processor, [make_record(0, question="Q?"), long])
    assert gen2["attention_mask"][0, 0] == 0
    assert gen2["input_ids"][0, 0] == processor.tokenizer.pad_token_id


def test_mask_prompt_false_keeps_text_not_visual_tokens(processor):
    batch = ChatCollator(processor, mask_prompt=False)([make_record(0)])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    visual = (ids == IMAGE_PAD) | (ids == VIDEO_PAD)
    assert labels[visual].eq(IGNORE_INDEX).all()
    assert torch.equal(labels[~visual], ids[~visual])


# ---------------------------------------------------------------------------- checks


def test_no_truncation_error_names_the_record(processor):
    rec = make_record(7, answer="A long answer that takes a few more tokens.")
    n = int(ChatCollator(processor).encode(rec)["input_ids"].shape[0])
    assert ChatCollator(processor, max_length=n)([rec])["input_ids"].shape[1] == n
    with pytest.raises(SampleTooLongError) as err:   # the short record 0 fits, record 7 not
        ChatCollator(processor, max_length=n - 1)([make_record(0, answer="Yes."), rec])
    msg = str(err.value)
    assert "rec7" in msg and f"{n} tokens" in msg and f"max_length={n - 1}" in msg
    assert "image tokens [4]" in msg and "video tokens [4]" in msg
    assert isinstance(err.value, ValueError)


def test_vision_token_check_raises_on_tampered_batch(collator):
    recs = [make_record(0), make_record(1)]
    batch = collator(recs)
    ids = batch["input_ids"]
    check_vision_tokens(ids, batch["image_grid_thw"], batch["video_grid_thw"],
                        record_ids=batch["record_id"])          # untampered: passes
    dropped = ids.clone()
    pos = int(torch.nonzero(dropped[1] == IMAGE_PAD)[0])
    dropped[1, pos] = 13                                        # one image token lost
    with pytest.raises(VisionTokenMismatchError, match="rec1"):
        check_vision_tokens(dropped, batch["image_grid_thw"], batch["video_grid_thw"],
                            record_ids=batch["record_id"])
    grid = batch["video_grid_thw"].clone()
    grid[0, 1] = 8                                              # a video grid that does not fit
    with pytest.raises(VisionTokenMismatchError, match="rec0"):
        check_vision_tokens(ids, batch["image_grid_thw"], grid, record_ids=batch["record_id"])
    with pytest.raises(VisionTokenMismatchError, match="2 image_grid_thw rows"):
        check_vision_tokens(ids[:1], batch["image_grid_thw"], batch["video_grid_thw"][:1])


def test_media_errors_and_lazy_references(collator, processor):
    rec = make_record(0)
    rec["images"] = []
    with pytest.raises(RecordFormatError, match="1 image and 1 video items"):
        collator([rec])
    lazy = make_record(0)
    lazy["images"] = [{"ref": "film", "reading_id": "R0"}]
    with pytest.raises(RecordFormatError, match="resolve="):
        collator([lazy])
    film = make_record(0)["images"][0]

    def resolve(r):
        return {**r, "images": [film if isinstance(x, dict) else x for x in r["images"]]}

    a = ChatCollator(processor, resolve=resolve)([lazy])
    b = collator([make_record(0)])
    assert torch.equal(a["pixel_values"], b["pixel_values"])


def test_records_from_the_tasks_package_resolve_and_collate(processor):
    """Integration with gazex_lib.tasks: lazy references resolved by its RecordResolver."""
    tasks = pytest.importorskip("gazex_lib.tasks")
    stack = np.stack([_img(s)[..., 0] for s in range(3)])          # (n, H, W) key frames
    film = _img(9)[..., 0]
    rec = {"id": "sda_global:R1", "task": "sda_global", "reading_id": "R1",
           "messages": [{"role": "user", "content": tasks.to_content("<video>Order? <image>")},
                        {"role": "assistant", "content": [{"type": "text", "text": "2, 1, 3"}]}],
           "images": [{"ref": "film", "reading_id": "R1"}],
           "videos": [{"ref": "keyframes", "reading_id": "R1", "frame_index": [2, 1]}],
           "meta": {}}
    tasks.validate_record(rec)
    resolver = tasks.RecordResolver(lambda rid: stack, lambda rid: film)
    batch = ChatCollator(processor, resolve=resolver)([rec])
    assert processor.tokenizer.decode(labelled_spans(batch["labels"][0])[0]) == "2, 1, 3<|im_end|>"
    assert batch["video_grid_thw"].tolist() == [[1, 4, 4]]


# ---------------------------------------------------------------------------- loss


def test_token_losses_match_transformers(collator, base_model):
    recs = [make_record(0), make_record(1, answer="A longer answer here.")]
    batch = collator(recs)
    inputs, meta = split_batch(batch)
    with torch.no_grad():
        out = base_model(**inputs, labels=meta["labels"], use_cache=False)
        loss, per_sum, per_n = token_losses(out.logits, meta["labels"])
        assert abs(float(loss) - float(out.loss)) < 1e-5
        assert per_n.tolist() == [float((meta["labels"][i, 1:] != -100).sum()) for i in range(2)]
        for i, rec in enumerate(recs):  # a sample's summed loss does not depend on its batch mates
            alone, alone_meta = split_batch(collator([rec]))
            o = base_model(**alone, use_cache=False)
            _, s, _ = token_losses(o.logits, alone_meta["labels"])
            assert abs(float(s[0]) - float(per_sum[i])) < 1e-3


def test_kept_logit_losses_equal_full_logits(collator, base_model):
    """The loop computes logits at label positions only (logits_to_keep): same loss, same
    per-sample sums as the full (B, L, V) logits, for the base model and through PEFT."""
    from gazex_lib.train.losses import kept_token_losses, label_positions, model_token_losses

    recs = [make_record(0), make_record(1, answer="A longer answer here, with more tokens.")]
    inputs, meta = split_batch(collator(recs))
    for model in (base_model, fresh_lora(base_model)):
        with torch.no_grad():
            full = token_losses(model(**inputs, use_cache=False).logits, meta["labels"])
            mask, _ = label_positions(meta["labels"])
            kept = model(**inputs, use_cache=False, logits_to_keep=mask).logits
            assert kept.ndim == 2 and kept.shape[0] == int(mask.sum())
            for got in (kept_token_losses(kept, meta["labels"], mask),
                        model_token_losses(model, inputs, meta["labels"])):
                assert abs(float(got[0]) - float(full[0])) < 1e-5
                assert torch.allclose(got[1], full[1], atol=1e-4)
                assert got[2].tolist() == full[2].tolist()
    with pytest.raises(ValueError, match="logits_to_keep"):
        kept_token_losses(kept[:-1], meta["labels"], mask)


# ---------------------------------------------------------------------------- config, sampler


def test_train_config_validation(tmp_path):
    with pytest.raises(ValueError, match="exactly one of max_steps / epochs"):
        _config(tmp_path, max_steps=None)
    with pytest.raises(ValueError, match="exactly one of max_steps / epochs"):
        _config(tmp_path, max_steps=2, epochs=1)
    with pytest.raises(ValueError, match="mixed_precision"):
        _config(tmp_path, mixed_precision="fp8")
    with pytest.raises(ValueError, match="lr"):
        _config(tmp_path, lr=0)
    with pytest.raises(ValueError, match="unknown TrainConfig keys \\['learning_rate'\\]"):
        _config(tmp_path, learning_rate=1e-4)
    with pytest.raises(ValueError, match="missing TrainConfig keys"):
        TrainConfig.from_dict({"max_steps": 2}, output_dir=tmp_path, seed=0)
    with pytest.raises(TypeError):
        TrainConfig(output_dir=tmp_path, seed=0, max_steps=2)   # no defaults outside configs/
    assert _config(tmp_path, epochs=0.5, max_steps=None, grad_accum=2).to_dict()["grad_accum"] == 2


def test_epoch_sampler_is_a_function_of_seed_and_epoch():
    s = EpochSampler(10, seed=3)
    a0, a1 = s.order(0), s.order(1)
    assert sorted(a0) == list(range(10)) and a0 != a1
    assert EpochSampler(10, seed=3).order(1) == a1 and EpochSampler(10, seed=4).order(0) != a0
    assert EpochSampler(4, shuffle=False).order(5) == [0, 1, 2, 3]


class RecordingCollator:
    """A collator that notes the record ids of every batch it collates (in the order the loader
    asks; accelerate's loader collates one batch ahead, so a run that stops early has one
    extra batch at the end)."""

    def __init__(self, inner):
        self.inner, self.ids = inner, []

    def __call__(self, records):
        self.ids.append([r["id"] for r in records])
        return self.inner(records)


def test_data_order_follows_the_epoch_sampler(tmp_path, processor, base_model):
    """The loop shuffles with accelerate's seedable sampler; its order is EpochSampler's."""
    records = [make_record(i) for i in range(4)]
    rec = RecordingCollator(ChatCollator(processor))
    train(fresh_lora(base_model), processor, records,
          _config(tmp_path, max_steps=4, ckpt_every=None, seed=5), progress=False, collator=rec)
    s = EpochSampler(4, seed=5)
    expected = [[f"rec{i}" for i in s.order(e)[j:j + 2]] for e in (0, 1) for j in (0, 2)]
    assert s.order(0) != s.order(1)
    assert rec.ids[:4] == expected


# ---------------------------------------------------------------------------- training


def _config(out, **kw):
    """The ci profile's train section with a test's small budgets."""
    base = dict(lr=5e-3, max_steps=4, batch_size=2, warmup_steps=1, log_every=1, ckpt_every=2,
                seed=0, max_grad_norm=1.0, weight_decay=0.01, max_length=None,
                deterministic=False)
    return config_from_profile(load_config("ci"), out, **{**base, **kw})


def _lora_state(model):
    return {k: v.detach().clone() for k, v in model.named_parameters() if "lora_" in k}


@pytest.mark.parametrize("batch_size,grad_accum,n_records,stop",
                         [(2, 1, 5, 2), (1, 2, 5, 2), (2, 1, 4, 2), (1, 1, 2, 3)])
def test_resume_is_exact(tmp_path, processor, base_model, batch_size, grad_accum, n_records,
                         stop):
    """4 steps in one go == ``stop`` steps, stop, new objects, resume, the rest: same losses,
    weights.

    (2, 1, 5, 2): checkpoint mid-epoch; (1, 2, 5, 2): epoch 0 ends mid-accumulation (5
    micro-batches, 3 steps); (2, 1, 4, 2): the checkpoint falls exactly on the end of epoch 0;
    (1, 1, 2, 3): the checkpoint is in the middle of epoch 1 (its own permutation)."""
    records = [make_record(i) for i in range(n_records)]
    kw = dict(batch_size=batch_size, grad_accum=grad_accum)
    model_a = fresh_lora(base_model)
    a = train(model_a, processor, records, _config(tmp_path / "a", **kw), progress=False)

    model_b = fresh_lora(base_model)
    b1 = train(model_b, processor, records, _config(tmp_path / "b", **kw), progress=False,
               stop_after=stop)
    assert b1.global_step == stop and b1.adapter_dir is None
    del model_b
    model_c = fresh_lora(base_model)                       # fresh objects, as in a new process
    c = train(model_c, processor, records, _config(tmp_path / "b", **kw), progress=False,
              resume_from="latest")
    assert c.resumed_from.endswith(f"checkpoint_{stop}") and c.global_step == 4

    assert a.global_step == 4 and sorted(a.losses) == [1, 2, 3, 4]
    assert c.losses.keys() == a.losses.keys()              # the log was continued, not restarted
    for step in a.losses:
        assert abs(a.losses[step] - c.losses[step]) < 1e-6, step
    assert abs(a.final_loss - c.final_loss) < 1e-6
    assert [e["lr"] for e in a.log] == [e["lr"] for e in c.log]
    wa, wc = _lora_state(model_a), _lora_state(model_c)
    assert wa.keys() == wc.keys() and len(wa) > 0
    for k in wa:
        assert torch.allclose(wa[k], wc[k], atol=1e-6, rtol=0), k
    # LoRA really trained (B starts at zero): no silently frozen adapter
    assert all(float(v.abs().sum()) > 0 for k, v in wa.items() if "lora_B" in k)
    assert a.epoch == 1                                    # 4 steps cross into epoch 1


def test_per_task_log_eval_and_checkpoint_contents(tmp_path, processor, base_model):
    records = [make_record(i) for i in range(6)]
    evals = [make_record(10 + i, task=t) for i, t in enumerate(("fvp", "gtm", "gtm"))]
    model = fresh_lora(base_model)
    res = train(model, processor, records,
                _config(tmp_path, max_steps=3, log_every=1, ckpt_every=1, keep_checkpoints=2,
                        eval_every=2), eval_records=evals, progress=False)
    log = read_log(tmp_path, "train")
    assert [e["step"] for e in log] == [1, 2, 3]
    seen = {}
    for e in log:
        assert set(e) >= {"step", "lr", "loss", "loss_per_task", "samples_per_task",
                          "label_tokens", "input_tokens", "seconds", "step_seconds", "grad_norm"}
        assert sum(e["samples_per_task"].values()) == 2            # batch size 2, one step
        total = sum(e["loss_per_task"][t] * e["label_tokens_per_task"][t]
                    for t in e["loss_per_task"])
        assert abs(total / e["label_tokens"] - e["loss"]) < 1e-9
        for t, n in e["samples_per_task"].items():
            seen[t] = seen.get(t, 0) + n
    # 3 steps × 2 = the 6 records of epoch 0, each once: 2 of each task
    assert seen == {"fvp": 2, "gtm": 2, "sda_global": 2}

    # eval every 2 steps and at the end; per-task eval losses equal per-record forward passes
    ev = read_log(tmp_path, "eval")
    assert [e["step"] for e in ev] == [2, 3] and res.eval == ev
    collator = ChatCollator(processor)
    sums, counts = {}, {}
    with torch.no_grad():
        model.eval()
        for r in evals:
            inputs, meta = split_batch(collator([r]))
            out = model(**inputs, labels=meta["labels"], use_cache=False)
            n = int((meta["labels"][0, 1:] != -100).sum())
            sums[r["task"]] = sums.get(r["task"], 0.0) + float(out.loss) * n
            counts[r["task"]] = counts.get(r["task"], 0) + n
    for t in ("fvp", "gtm"):
        assert abs(ev[-1]["eval_loss_per_task"][t] - sums[t] / counts[t]) < 1e-4
    assert ev[-1]["samples_per_task"] == {"fvp": 1, "gtm": 2}

    # checkpoints: the newest 2 kept, each the adapter + optimiser + scheduler + RNG + position
    ckpts = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert ckpts == ["checkpoint_2", "checkpoint_3"]              # accelerate's total_limit
    files = {p.relative_to(tmp_path / "checkpoints" / "checkpoint_2").as_posix()
             for p in (tmp_path / "checkpoints" / "checkpoint_2").rglob("*") if p.is_file()}
    assert {"adapter/adapter_model.safetensors", "adapter/adapter_config.json", "optimizer.bin",
            "scheduler.bin", "random_states_0.pkl", "trainer_state.json"} <= files
    assert not any(f.startswith("model") for f in files)          # no full model weights
    st = json.loads((tmp_path / "checkpoints" / "checkpoint_2" / "trainer_state.json").read_text())
    assert (st["epoch"], st["batch_in_epoch"], st["global_step"]) == (0, 2, 2)
    assert st["config"]["batch_size"] == 2
    final = {p.name for p in (tmp_path / "adapter").iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "chat_template.jinja",
            "tokenizer.json"} <= final
    assert res.adapter_dir == str(tmp_path / "adapter")
    cfg = json.loads((tmp_path / "train_config.json").read_text())
    assert cfg["total_steps"] == 3 and cfg["tasks"] == ["fvp", "gtm", "sda_global"]


def test_resume_from_an_older_checkpoint_rewrites_the_newer_ones(tmp_path, processor,
                                                                   base_model):
    records = [make_record(i) for i in range(4)]
    cfg = _config(tmp_path, max_steps=3, ckpt_every=1)
    a = train(fresh_lora(base_model), processor, records, cfg, progress=False)
    assert [p.rsplit("/", 1)[1] for p in a.checkpoints] == [f"checkpoint_{s}" for s in (1, 2, 3)]
    b = train(fresh_lora(base_model), processor, records, cfg, progress=False,
              resume_from=tmp_path / "checkpoints" / "checkpoint_1")
    assert b.checkpoints == a.checkpoints and [e["step"] for e in b.log] == [1, 2, 3]
    for step in a.losses:
        assert abs(a.losses[step] - b.losses[step]) < 1e-6, step


def test_resume_refuses_a_different_data_order(tmp_path, processor, base_model):
    records = [make_record(i) for i in range(4)]
    train(fresh_lora(base_model), processor, records, _config(tmp_path, max_steps=2, ckpt_every=1),
          progress=False, stop_after=1)
    with pytest.raises(ValueError, match="batch_size"):
        train(fresh_lora(base_model), processor, records,
              _config(tmp_path, max_steps=2, ckpt_every=1, batch_size=1),
              progress=False, resume_from="latest")


def test_profiles_have_valid_train_sections(tmp_path):
    from gazex_lib import config
    from gazex_lib.train.loop import config_from_profile

    ci = config_from_profile(config.load_config("ci"), tmp_path)
    full = config_from_profile(config.load_config("full"), tmp_path)
    assert ci.mixed_precision == "no" and ci.max_length is not None
    assert full.mixed_precision == "bf16" and full.output_dir == str(tmp_path)
