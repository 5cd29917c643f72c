"""LoRA on the language model of Qwen2-VL (peft), and the trainable-parameter table.

Targets are a regex over **full module paths under the language model** (transformers 5.x:
``model.language_model.layers.N.self_attn.q_proj`` …), because the leaf names
``gate_proj/up_proj/down_proj`` also exist in vision blocks (Qwen2.5-VL) and ``all-linear``
would hit the vision ``Conv3d`` (anchors.md, VLM pitfall 5). The vision tower stays frozen; the
merger (``model.visual.merger``, vision -> LM projector) is optionally trained in full and saved
with the adapter (``modules_to_save``).

**Trainable token rows** (``trainable_token_ids``, off by default): peft's
``trainable_token_indices`` trains the embedding rows of a few tokens (tied: input and output
at once) next to LoRA and saves them with the adapter. The ci profile uses it for the tokens
its answers are made of (:func:`answer_token_ids`: digits, brackets, tags, about 30 tokens),
because a *randomly initialised* tiny model has no usable output embedding for them and LoRA
alone barely moves the loss in a book-sized run (measured: loss 11.9 -> 7 in 150 steps with
LoRA alone, -> 1.7 with the rows trained). The full profile, on the pretrained 2B, keeps
LoRA alone (``configs/full.yaml``).
"""
from __future__ import annotations

import re
import warnings

# peft 0.21 reads transformers' deprecated ``is_gradient_checkpointing`` whenever it wraps,
# loads or merges a model (training, checkpoint selection, held-out answers); the FutureWarning
# says nothing about our code, so this one message is silenced for the process.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)

ATTN = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")
DEFAULT_TARGETS = ATTN + MLP
MERGER = "visual.merger"
VISUAL = "visual"


def lora_target_regex(target=DEFAULT_TARGETS) -> str:
    """The full-path regex (``re.fullmatch``) of the language-model projections in ``target``."""
    target = tuple(target)
    unknown = sorted(set(target) - set(DEFAULT_TARGETS))
    if unknown or not target:
        raise ValueError(f"LoRA targets must be among {DEFAULT_TARGETS}, got {target}")
    groups = []
    attn = [t for t in target if t in ATTN]
    mlp = [t for t in target if t in MLP]
    if attn:
        groups.append(r"self_attn\.(?:" + "|".join(attn) + ")")
    if mlp:
        groups.append(r"mlp\.(?:" + "|".join(mlp) + ")")
    return r"model\.language_model\.layers\.\d+\.(?:" + "|".join(groups) + ")"


def answer_token_ids(records, tokenizer, roles=("assistant",)) -> list[int]:
    """Sorted ids of every token in the records' assistant answers (or the text of every
    message whose role is in ``roles``: ``("user", "assistant")`` adds the prompts' words,
    never the image and video placeholders), plus ``<|im_end|>``."""
    ids = {tokenizer.convert_tokens_to_ids("<|im_end|>")}
    for r in records:
        for m in r["messages"]:
            if m.get("role") in roles:
                text = m["content"] if isinstance(m["content"], str) else "".join(
                    c.get("text", "") for c in m["content"] if isinstance(c, dict))
                ids.update(tokenizer(text, add_special_tokens=False)["input_ids"])
    return sorted(int(i) for i in ids)


def apply_lora(model, *, r: int, alpha: int, dropout: float, target,
               train_merger: bool = False, train_vision: bool = False, trainable_token_ids=None):
    """Wrap ``model`` in a peft ``PeftModel`` with LoRA (rank ``r``, scale ``alpha / r``,
    ``dropout``) on the language model's ``target`` projections only. The values come from
    the profile's ``model`` section (``gazex_lib.model.setup.lora_kwargs``; full profile:
    LLaMA-Factory's r 8, alpha 16, dropout 0, every projection).

    Everything else is frozen, the vision tower included; ``train_merger=True`` makes the merger
    fully trainable (as ``modules_to_save``, so it is saved with the adapter);
    ``train_vision=True`` (a **ci-only switch**, ``model.train_vision``: the random tiny
    model's vision tower cannot see anything frozen) makes the whole vision tower, merger
    included, fully trainable the same way. Asserts that no LoRA layer landed in the vision
    tower and that the vision tower has no trainable weight besides what the flags allow.
    """
    from peft import LoraConfig, get_peft_model

    extra = {}
    if trainable_token_ids:
        extra["trainable_token_indices"] = {"embed_tokens": sorted(int(i)
                                                                   for i in trainable_token_ids)}
    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout,
                     target_modules=lora_target_regex(target), bias="none",
                     modules_to_save=[VISUAL] if train_vision else [MERGER] if train_merger
                     else None, **extra)
    peft_model = get_peft_model(model, cfg)
    if getattr(model, "is_activation_checkpointing", False):
        from gazex_lib.model.loading import enable_lm_input_require_grads

        enable_lm_input_require_grads(peft_model)  # undo the hooks peft put on the vision tower
    check_lora_placement(peft_model, train_merger=train_merger or train_vision,
                         train_vision=train_vision)
    return peft_model


def is_token_row(name: str) -> bool:
    """A peft trainable-token-rows parameter (``...embed_tokens.token_adapter...``)."""
    return "token_adapter" in name or "trainable_tokens_" in name


def _strip(name: str) -> str:
    return name[len("base_model.model."):] if name.startswith("base_model.model.") else name


def check_lora_placement(model, train_merger: bool = False, train_vision: bool = False) -> None:
    """Raise ``AssertionError`` if a LoRA weight sits outside the language model, if the vision
    tower (merger aside) is trainable without ``train_vision``, or if the merger's
    trainability differs from the flags."""
    n_lora = 0
    for name, p in model.named_parameters():
        n = _strip(name)
        if "lora_" in n:
            n_lora += 1
            if not n.startswith("model.language_model."):
                raise AssertionError(f"LoRA weight outside the language model: {name}")
        elif is_token_row(n):
            if not n.startswith("model.language_model.embed_tokens."):
                raise AssertionError(f"trainable token rows outside the LM embedding: {name}")
        elif p.requires_grad:
            if train_vision and "visual." in n:
                continue
            if ".visual." in "." + n and MERGER not in n:
                raise AssertionError(f"vision tower weight is trainable: {name}")
            if MERGER in n and not train_merger:
                raise AssertionError(f"merger weight is trainable without train_merger: {name}")
            if MERGER not in n:
                raise AssertionError(f"non-LoRA weight is trainable: {name}")
    if n_lora == 0:
        raise AssertionError("no LoRA weights were created")
    if train_merger and not any(".merger." in _strip(n) and ".visual." in "." + _strip(n)
                                and p.requires_grad for n, p in model.named_parameters()):
        raise AssertionError("train_merger=True but no merger weight is trainable")


def component_of(name: str) -> str:
    """Top-level component of a parameter name: ``vision tower``, ``vision merger``,
    ``language model``, ``LoRA`` (adapter weights), ``token rows`` (trainable embedding rows),
    ``lm_head`` or ``other``."""
    n = _strip(name)
    if "lora_" in n:
        return "LoRA"
    if is_token_row(n):
        return "token rows"
    if MERGER in n:
        return "vision merger"
    if re.match(r"(?:model\.)?visual\.", n):
        return "vision tower"
    if re.match(r"(?:model\.)?language_model\.", n):
        return "language model"
    if n.startswith("lm_head"):
        return "lm_head"
    return "other"


def trainable_parameter_table(model):
    """A DataFrame, one row per component plus ``total``: ``params``, ``trainable``,
    ``trainable_%`` (of that component). Tied weights count once (``named_parameters``
    de-duplicates them; a tied ``lm_head`` therefore has no row). A ``modules_to_save`` merger
    counts its frozen original and its trainable copy."""
    import pandas as pd

    order = ["vision tower", "vision merger", "language model", "LoRA", "token rows", "lm_head",
             "other"]
    rows = {k: [0, 0] for k in order}
    for name, p in model.named_parameters():
        c = component_of(name)
        rows[c][0] += p.numel()
        rows[c][1] += p.numel() if p.requires_grad else 0
    df = pd.DataFrame([{"component": k, "params": v[0], "trainable": v[1]}
                       for k, v in rows.items() if v[0] > 0])
    total = {"component": "total", "params": int(df["params"].sum()),
             "trainable": int(df["trainable"].sum())}
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["trainable_%"] = (100.0 * df["trainable"] / df["params"]).round(4)
    return df.set_index("component")


def trainable_summary(model) -> str:
    """One line: ``trainable params: 1,234 || all params: 5,678 || trainable%: 21.7326``."""
    total = sum(p.numel() for p in model.parameters())
    train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return (f"trainable params: {train:,} || all params: {total:,} || "
            f"trainable%: {100.0 * train / max(total, 1):.4f}")


def print_trainable_parameters(model) -> None:
    """Print the trainable-parameter table and the one-line summary."""
    print(trainable_parameter_table(model).to_string())
    print(trainable_summary(model))


def lora_b_weights(model) -> dict:
    """``{name: tensor}`` of every LoRA B matrix (zero at initialisation)."""
    return {n: p for n, p in model.named_parameters() if "lora_B" in n}
