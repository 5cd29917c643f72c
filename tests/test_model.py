"""gazex_lib.model: processor with image + video, tiny Qwen2-VL, LoRA placement and training,
gradient checkpointing, save/load round trips. All on CPU with the tiny model."""
from __future__ import annotations

import copy

import json
import warnings

import numpy as np
import pytest
import torch

from gazex_lib.model import (apply_lora, build_processor, load_model, n_visual_tokens,
                             qwen2vl_2b_config, tiny_config, trainable_parameter_table)
from gazex_lib.config import load_config
from gazex_lib.model.loading import set_pixel_budget
from gazex_lib.model.setup import lora_kwargs
from gazex_lib.model.lora import lora_b_weights, lora_target_regex
from gazex_lib.model.synthetic import random_image, random_video, synthetic_sample

#: LoRA settings of the full profile (LLaMA-Factory defaults: r 8, alpha 16, every projection).
LORA = lora_kwargs(load_config("full").model)

IMAGE_PAD, VIDEO_PAD = 151655, 151656


@pytest.fixture(scope="module")
def processor(qwen_tokenizer_dir):
    return build_processor(qwen_tokenizer_dir, min_pixels=56 * 56, max_pixels=224 * 224,
                           video_min_pixels=56 * 56, video_max_pixels=112 * 112)


@pytest.fixture(scope="module")
def sample(processor):
    """6 frames of 112 px, a 224 px image, a 12-token answer: seq ≈ 150."""
    return synthetic_sample(processor, image_size=224, n_frames=6, frame_size=112,
                            n_target_tokens=12)


def _tiny(seed=0, **kw):
    model, proc = load_model(None, seed=seed, device="cpu",
                             processor_kwargs=dict(min_pixels=56 * 56, max_pixels=224 * 224,
                                                   video_min_pixels=56 * 56,
                                                   video_max_pixels=112 * 112), **kw)
    return model, proc


def _inputs(sample):
    return {k: v for k, v in sample.items() if k != "labels"}


# ---------------------------------------------------------------- processor


def test_image_and_video_in_one_turn(processor):
    msgs = [{"role": "user", "content": [{"type": "video"}, {"type": "image"},
                                         {"type": "text", "text": "Where did the reader look?"}]}]
    text = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    enc = processor(text=[text], images=[random_image((224, 196))],
                    videos=[random_video(6, 112)], return_tensors="pt")
    assert enc["image_grid_thw"].tolist() == [[1, 16, 14]]
    assert enc["video_grid_thw"].tolist() == [[3, 8, 8]]
    ids = enc["input_ids"][0]
    assert int((ids == IMAGE_PAD).sum()) == n_visual_tokens([1, 16, 14]) == 56
    assert int((ids == VIDEO_PAD).sum()) == n_visual_tokens([3, 8, 8]) == 48
    assert enc["pixel_values"].shape == (1 * 16 * 14, 1176)
    assert enc["pixel_values_videos"].shape == (3 * 8 * 8, 1176)
    # the video comes first, as in the message
    assert int(torch.nonzero(ids == VIDEO_PAD)[0]) < int(torch.nonzero(ids == IMAGE_PAD)[0])
    assert enc["mm_token_type_ids"].shape == enc["input_ids"].shape


def test_pixel_budgets_cap_tokens(processor):
    enc = processor(text=["<|vision_start|><|image_pad|><|vision_end|>"],
                    images=[random_image((1000, 800))], return_tensors="pt")
    t, h, w = enc["image_grid_thw"][0].tolist()
    assert h * w * 14 * 14 <= 224 * 224 and h % 2 == 0 and w % 2 == 0


@pytest.mark.parametrize("n_frames,grid_t", [(1, 1), (4, 2), (5, 3), (6, 3), (7, 4)])
def test_odd_frame_counts_pad(processor, n_frames, grid_t):
    frames = random_video(n_frames, 112)
    enc = processor(text=["<|vision_start|><|video_pad|><|vision_end|>"], videos=[frames],
                    return_tensors="pt")
    assert enc["video_grid_thw"].tolist() == [[grid_t, 8, 8]]
    assert int((enc["input_ids"] == VIDEO_PAD).sum()) == grid_t * 16
    if n_frames % 2:
        # the last temporal patch holds the last frame twice: (patches, C, T=2, 14, 14)
        pv = enc["pixel_values_videos"].reshape(grid_t, 64, 3, 2, 14, 14)[-1]
        assert torch.equal(pv[:, :, 0], pv[:, :, 1])


def test_processor_round_trip(processor, tmp_path):
    from transformers import AutoProcessor

    processor.save_pretrained(tmp_path)
    assert (tmp_path / "chat_template.jinja").is_file()
    loaded = AutoProcessor.from_pretrained(tmp_path, local_files_only=True)
    assert type(loaded).__name__ == "Qwen2VLProcessor"
    assert type(loaded.video_processor).__name__ == "Qwen2VLVideoProcessor"
    assert type(loaded.image_processor).__name__ == "Qwen2VLImageProcessor"
    a = synthetic_sample(processor, image_size=(224, 196), n_frames=5, frame_size=112)
    b = synthetic_sample(loaded, image_size=(224, 196), n_frames=5, frame_size=112)
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # budgets from the config override a loaded processor's (load_model(dir, processor_kwargs=))
    set_pixel_budget(loaded, max_pixels=112 * 112, video_max_pixels=56 * 56)
    c = synthetic_sample(loaded, image_size=(224, 196), n_frames=5, frame_size=112)
    t, h, w = c["image_grid_thw"][0].tolist()
    assert h * w * 14 * 14 <= 112 * 112
    assert c["video_grid_thw"].tolist() == [[3, 4, 4]]


# ---------------------------------------------------------------- configs


def test_tiny_config(processor):
    cfg = tiny_config(processor.tokenizer)
    t, v = cfg.text_config, cfg.vision_config
    assert t.vocab_size == len(processor.tokenizer) == 151_657
    assert cfg.tie_word_embeddings
    assert v.hidden_size == t.hidden_size
    assert sum(t.rope_parameters["mrope_section"]) == t.hidden_size // t.num_attention_heads // 2
    assert (cfg.image_token_id, cfg.video_token_id) == (IMAGE_PAD, VIDEO_PAD)
    assert (cfg.vision_start_token_id, cfg.vision_end_token_id) == (151652, 151653)
    with pytest.raises(ValueError):
        tiny_config(processor.tokenizer, size="huge")


def test_2b_config_is_the_published_architecture():
    from transformers import Qwen2VLForConditionalGeneration

    cfg = qwen2vl_2b_config()
    t, v = cfg.text_config, cfg.vision_config
    assert (t.hidden_size, t.num_hidden_layers, t.num_attention_heads, t.num_key_value_heads,
            t.intermediate_size, t.vocab_size) == (1536, 28, 12, 2, 8960, 151936)
    assert t.rope_parameters["mrope_section"] == [16, 24, 24]
    assert t.rope_parameters["rope_theta"] == 1e6 and t.rms_norm_eps == 1e-6
    assert (v.depth, v.embed_dim, v.hidden_size, v.num_heads, v.mlp_ratio) == (32, 1280, 1536, 16, 4)
    assert cfg.tie_word_embeddings
    with torch.device("meta"):
        model = Qwen2VLForConditionalGeneration(cfg)
    assert sum(p.numel() for p in model.parameters()) == 2_208_985_600


# ---------------------------------------------------------------- model


def test_forward_backward_image_and_video(sample):
    model, _ = _tiny()
    model.train()
    out = model(**sample)
    assert out.logits.shape == (*sample["input_ids"].shape, 151_657)
    assert torch.isfinite(out.loss) and 10 < out.loss.item() < 13  # ≈ ln(151657) = 11.9
    out.loss.backward()
    g = model.model.visual.patch_embed.proj.weight.grad
    assert g is not None and g.abs().sum() > 0


def test_seeded_weights_are_deterministic():
    a, _ = _tiny(seed=0)
    b, _ = _tiny(seed=0)
    c, _ = _tiny(seed=1)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["model.language_model.layers.0.self_attn.q_proj.weight"],
                           sc["model.language_model.layers.0.self_attn.q_proj.weight"])


def test_lora_targets_language_model_only(processor):
    model, _ = _tiny()
    pm = apply_lora(model, **LORA)
    lora_modules = {n for n, _ in pm.named_modules() if n.endswith("lora_A")}
    # 2 layers × 7 projections
    assert len(lora_modules) == 14
    assert all(".language_model.layers." in n for n in lora_modules)
    assert not any(".visual." in n for n, _ in pm.named_parameters() if "lora_" in n)
    assert not any(p.requires_grad for n, p in pm.named_parameters() if ".visual." in n)
    import re

    rx = lora_target_regex()
    assert re.fullmatch(rx, "model.language_model.layers.3.mlp.gate_proj")
    assert re.fullmatch(rx, "model.language_model.layers.0.self_attn.q_proj")
    for vision_name in ("model.visual.blocks.0.mlp.gate_proj", "model.visual.blocks.0.attn.qkv",
                        "model.visual.merger.mlp.0", "model.visual.patch_embed.proj"):
        assert not re.fullmatch(rx, vision_name)


def _one_step(pm, sample, lr=1e-2):
    pm.train()
    opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=lr)
    loss = pm(**sample).loss
    loss.backward()
    grads = {n: (p.grad.clone() if p.grad is not None else None)
             for n, p in pm.named_parameters()}
    opt.step()
    opt.zero_grad()
    return grads


def test_lora_trains_and_base_is_frozen(sample):
    model, _ = _tiny()
    pm = apply_lora(model, **LORA)
    base_before = {n: p.detach().clone() for n, p in pm.named_parameters() if "lora_" not in n}
    assert all(float(b.detach().abs().max()) == 0.0 for b in lora_b_weights(pm).values())
    grads = _one_step(pm, sample)
    bs = lora_b_weights(pm)
    assert len(bs) == 14
    assert all(float(b.detach().abs().max()) > 0 for b in bs.values())
    after = dict(pm.named_parameters())
    assert all(torch.equal(base_before[n], after[n]) for n in base_before)
    assert all(grads[n] is None for n in grads if ".visual." in n)


def test_gradient_checkpointing_keeps_lora_gradients(sample):
    model, _ = _tiny(gradient_checkpointing=True)
    assert getattr(model, "is_activation_checkpointing", None) or model.is_gradient_checkpointing
    pm = apply_lora(model, **LORA)
    seen = []
    model.model.visual.patch_embed.register_forward_hook(lambda m, i, o: seen.append(o) and None)
    grads = _one_step(pm, sample)
    # input grads are hooked on the LM token embeddings only: the frozen vision tower runs no
    # backward (transformers' enable_input_require_grads would hook its patch embedding too)
    assert len(seen) == 2 and not any(o.requires_grad for o in seen)  # image, video
    assert len(model._require_grads_hooks) == 1
    b_grads = {n: g for n, g in grads.items() if "lora_B" in n}
    assert len(b_grads) == 14
    assert all(g is not None and float(g.abs().max()) > 0 for g in b_grads.values())
    assert all(float(b.detach().abs().max()) > 0 for b in lora_b_weights(pm).values())


def test_train_merger(sample):
    model, _ = _tiny()
    pm = apply_lora(model, **LORA, train_merger=True)
    trainable = [n for n, p in pm.named_parameters() if p.requires_grad]
    assert any("visual.merger.modules_to_save" in n for n in trainable)
    assert not any(".visual.blocks." in n or "patch_embed" in n for n in trainable)
    before = {n: p.detach().clone() for n, p in pm.named_parameters() if "merger.modules_to_save" in n}
    grads = _one_step(pm, sample)
    after = dict(pm.named_parameters())
    assert any(not torch.equal(before[n], after[n]) for n in before)
    assert all(grads[n] is None for n in grads if ".visual.blocks." in n)


def test_trainable_parameter_table_sums():
    model, _ = _tiny()
    pm = apply_lora(model, **{**LORA, "r": 4}, train_merger=True)
    df = trainable_parameter_table(pm)
    total = df.loc["total"]
    parts = df.drop(index="total")
    assert total["params"] == parts["params"].sum() == sum(p.numel() for p in pm.parameters())
    assert total["trainable"] == parts["trainable"].sum() == \
        sum(p.numel() for p in pm.parameters() if p.requires_grad)
    assert df.loc["vision tower", "trainable"] == 0
    assert df.loc["language model", "trainable"] == 0
    assert df.loc["LoRA", "trainable"] == df.loc["LoRA", "params"] > 0
    assert 0 < df.loc["vision merger", "trainable"] < df.loc["vision merger", "params"]


def test_adapter_save_load_round_trip(sample, tmp_path):
    from peft import PeftModel

    model, _ = _tiny()
    pm = apply_lora(model, **LORA, train_merger=True)
    _one_step(pm, sample)
    pm.eval()
    inputs = _inputs(sample)
    with torch.no_grad():
        ref = pm(**inputs).logits
    pm.save_pretrained(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    base, _ = _tiny()
    with warnings.catch_warnings():  # peft reads the deprecated is_gradient_checkpointing
        warnings.simplefilter("ignore", FutureWarning)
        loaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    with torch.no_grad():
        got = loaded(**inputs).logits
    assert torch.equal(ref, got)


def test_trainable_token_rows_train_only_those_rows_and_round_trip(sample, tmp_path):
    """ci's LoRA + answer-token rows: after a step only the chosen rows of the tied embedding
    differ (input and output alike), the rest of the base is untouched, and the adapter
    (LoRA + rows) saves and loads back exactly; merging gives a plain model with those rows."""
    from peft import PeftModel

    from gazex_lib.model import answer_token_ids
    from gazex_lib.model.lora import trainable_parameter_table

    model, proc = _tiny()
    emb0 = model.get_input_embeddings().weight.detach().clone()
    recs = [{"messages": [{"role": "user", "content": "q"},
                          {"role": "assistant", "content": [{"type": "text",
                                                             "text": "<seq>3,1,2</seq>"}]}]}]
    ids = answer_token_ids(recs, proc.tokenizer)
    assert proc.tokenizer.convert_tokens_to_ids("<|im_end|>") in ids
    assert proc.tokenizer.decode(ids[:-1]).replace(" ", "") != ""
    pm = apply_lora(model, **LORA, trainable_token_ids=ids)
    table = trainable_parameter_table(pm)
    assert table.loc["token rows", "trainable"] == len(ids) * emb0.shape[1]
    _one_step(pm, sample)
    pm.eval()
    with torch.no_grad():
        ref = pm(**_inputs(sample)).logits
    pm.save_pretrained(tmp_path / "adapter")
    merged = copy.deepcopy(pm).merge_and_unload()
    emb1 = merged.get_input_embeddings().weight.detach()
    changed = (emb1 != emb0).any(dim=1).nonzero().flatten().tolist()
    assert changed and set(changed) <= set(ids)
    assert merged.get_output_embeddings().weight.data_ptr() == emb1.data_ptr()  # still tied
    with torch.no_grad():
        assert torch.allclose(merged(**_inputs(sample)).logits, ref, atol=1e-4)
    base, _ = _tiny()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        loaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    with torch.no_grad():
        assert torch.equal(loaded(**_inputs(sample)).logits, ref)


def test_merged_model_save_load_round_trip(sample, tmp_path):
    model, proc = _tiny()
    pm = apply_lora(model, **LORA)
    _one_step(pm, sample)
    merged = pm.merge_and_unload().eval()
    inputs = _inputs(sample)
    with torch.no_grad():
        ref = merged(**inputs).logits
    merged.save_pretrained(tmp_path / "merged")
    proc.save_pretrained(tmp_path / "merged")
    loaded, lproc = load_model(tmp_path / "merged", device="cpu")
    assert type(loaded).__name__ == "Qwen2VLForConditionalGeneration"
    assert loaded.dtype == torch.float32
    with torch.no_grad():
        got = loaded(**inputs).logits
    assert (ref - got).abs().max().item() < 1e-5
    again = synthetic_sample(lproc, image_size=224, n_frames=6, frame_size=112, n_target_tokens=12)
    assert torch.equal(again["input_ids"], sample["input_ids"])


def test_generate_runs(processor):
    model, proc = _tiny()
    enc = proc(text=[proc.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Findings?"}]}],
        add_generation_prompt=True, tokenize=False)], images=[random_image(112)], return_tensors="pt")
    out = model.generate(**enc, max_new_tokens=4, do_sample=False)
    assert out.shape[0] == 1 and enc["input_ids"].shape[1] < out.shape[1] <= enc["input_ids"].shape[1] + 4


def test_qwen25vl_checkpoint_loads_and_lora_skips_vision_mlp(processor, tmp_path):
    """A Qwen2.5-VL directory loads by its model_type; its vision blocks have gate/up/down_proj
    leaves, which the full-path regex must not touch."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    cfg = Qwen2_5_VLConfig(
        text_config=dict(vocab_size=len(processor.tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                          "mrope_section": [4, 6, 6]},
                         tie_word_embeddings=True),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2,
                           out_hidden_size=64, window_size=112, fullatt_block_indexes=[1]),
        tie_word_embeddings=True)
    torch.manual_seed(0)
    Qwen2_5_VLForConditionalGeneration(cfg).save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    model, proc = load_model(tmp_path, device="cpu")
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert any(n.endswith("mlp.gate_proj") for n, _ in model.model.visual.named_modules())
    pm = apply_lora(model, **LORA)
    assert not any(".visual." in n for n, _ in pm.named_parameters() if "lora_" in n)
    enc = synthetic_sample(proc, image_size=112, n_frames=2, frame_size=112, n_target_tokens=4)
    assert torch.isfinite(pm(**enc).loss)


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_model(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_model(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ValueError, match="unsupported model_type 'llama'"):
        load_model(tmp_path)
    with pytest.raises(ValueError, match="size must be one of"):
        load_model(None, size="7b")


def test_processor_budget_validation(processor):
    with pytest.raises(ValueError, match="below one visual token"):
        build_processor(processor.tokenizer, min_pixels=100)
    with pytest.raises(ValueError, match="must not exceed"):
        build_processor(processor.tokenizer, min_pixels=448 * 448, max_pixels=224 * 224)


def test_synthetic_sample_labels(sample):
    labels, ids = sample["labels"][0], sample["input_ids"][0]
    answer = labels != -100
    assert int(answer.sum()) == 12 + 2  # 12 answer ids, <|im_end|>, "\n"
    assert torch.equal(labels[answer], ids[answer])
    assert int(ids[answer][-2]) == 151645
    assert not bool(np.isin(ids[answer].numpy(), [IMAGE_PAD, VIDEO_PAD]).any())


def test_train_vision_trains_the_whole_vision_tower_and_round_trips(sample, tmp_path):
    """ci-only switch model.train_vision: every vision weight trains (LoRA stays in the LM), a
    step changes them, and the adapter folder carries them."""
    from peft import PeftModel

    model, _ = _tiny()
    before = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith("model.visual.blocks")}
    pm = apply_lora(model, **LORA, train_vision=True)
    trainable = [n for n, p in pm.named_parameters() if p.requires_grad]
    assert any(".blocks." in n for n in trainable) and any(".merger." in n for n in trainable)
    assert all("lora_" not in n for n in trainable if ".visual." in n)
    _one_step(pm, sample)
    after = {"model.visual." + n.split("modules_to_save.default.")[-1]: p
             for n, p in pm.named_parameters() if p.requires_grad and ".blocks." in n}
    assert set(after) == set(before)
    assert sum(not torch.equal(before[k], v.detach()) for k, v in after.items()) > len(after) // 2
    pm.eval()
    inputs = _inputs(sample)
    with torch.no_grad():
        ref = pm(**inputs).logits
    pm.save_pretrained(tmp_path / "adapter")
    base, _ = _tiny()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        loaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    with torch.no_grad():
        assert torch.equal(ref, loaded(**inputs).logits)
    with pytest.raises(AssertionError, match="vision tower weight is trainable"):
        from gazex_lib.model.lora import check_lora_placement
        check_lora_placement(pm, train_merger=True, train_vision=False)


def test_rope_theta_switch_sets_the_base_of_a_random_config():
    from gazex_lib.model import load_tokenizer
    from gazex_lib.model.architecture import config_for_size, tiny_config

    tok = load_tokenizer()
    assert tiny_config(tok).text_config.rope_parameters["rope_theta"] == 1e6
    assert tiny_config(tok, rope_theta=10.0).text_config.rope_parameters["rope_theta"] == 10.0
    with pytest.raises(ValueError, match="2b"):
        config_for_size("2b", tok, rope_theta=10.0)
    model, _ = load_model(None, seed=0, device="cpu", rope_theta=10.0)
    inv = model.model.language_model.rotary_emb.inv_freq
    assert float(inv[-1]) == pytest.approx(10.0 ** (-30 / 32), rel=1e-5)   # width section: real frequencies


def test_token_ids_of_prompts_and_answers():
    """``trainable_tokens: records`` adds the words of the prompts (text items only, never the
    image placeholder) to the answer tokens."""
    from gazex_lib.model import answer_token_ids

    _, proc = _tiny()
    tok = proc.tokenizer
    recs = [{"messages": [{"role": "user", "content": [{"type": "image"},
                                                       {"type": "text", "text": "left lung"}]},
                          {"role": "assistant", "content": [{"type": "text", "text": "<seq>1</seq>"}]}]}]
    answers = set(answer_token_ids(recs, tok))
    both = set(answer_token_ids(recs, tok, roles=("user", "assistant")))
    words = set(tok("left lung", add_special_tokens=False)["input_ids"])
    assert answers < both and both - answers == words - answers
    assert tok.convert_tokens_to_ids("<|image_pad|>") not in both
