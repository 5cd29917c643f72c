"""Qwen2-VL for GazeX: loading (local checkpoint or tiny config), processor, LoRA.

* :func:`load_model` ``(model_path=None, *, size="tiny", ...) -> (model, processor)``
* :func:`build_processor`, :data:`QWEN2VL_CHAT_TEMPLATE`
* :func:`tiny_config`, :func:`qwen2vl_2b_config`
* :func:`apply_lora`, :func:`trainable_parameter_table`, :func:`print_trainable_parameters`
* tokenizer set-up: ``python -m gazex_lib.model.tokenizer build`` (see :mod:`.tokenizer`)

Importing this package does not import torch or transformers; the functions do.
"""
from gazex_lib.model.architecture import qwen2vl_2b_config, tiny_config
from gazex_lib.model.loading import build_model, configure_training, load_model
from gazex_lib.model.lora import (answer_token_ids, apply_lora, print_trainable_parameters,
                                  trainable_parameter_table,
                                  trainable_summary)
from gazex_lib.model.processor import QWEN2VL_CHAT_TEMPLATE, build_processor, n_visual_tokens
from gazex_lib.model.tokenizer import load_tokenizer, tokenizer_dir

__all__ = [
    "QWEN2VL_CHAT_TEMPLATE", "answer_token_ids", "apply_lora", "build_model", "build_processor", "configure_training",
    "load_model", "load_tokenizer", "n_visual_tokens", "print_trainable_parameters",
    "qwen2vl_2b_config", "tiny_config", "tokenizer_dir", "trainable_parameter_table",
    "trainable_summary",
]
