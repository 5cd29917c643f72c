"""Shared fixtures. Tests run with OMP_NUM_THREADS=1 and HF_HUB_OFFLINE=1 (set here too)."""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

#: A small synthetic dataset: 1 + 1 multi-reader images (10 readings) and 12 phase-3 readings.
SMALL_SYNTHETIC = {"n_readings": 22, "seed": 3,
                   "config": {"image_size": [448, 560], "multi_reader_images": [1, 1]}}


def small_downstream():
    """The ci profile's downstream corpus, shrunk: 30 MIMIC-CXR studies without gaze, 4 IU X-ray."""
    import dataclasses

    from gazex_lib.config import load_config

    return dataclasses.replace(load_config("ci").synthetic_downstream, n_studies=30, n_iu=4)


@pytest.fixture(scope="session")
def small_synthetic(tmp_path_factory):
    """``(root, summary)`` of a generated dataset shared by the integration tests, with a
    small downstream corpus (every downstream layout)."""
    from gazex_lib.data.synthetic import make_dataset

    root = tmp_path_factory.mktemp("small-synthetic")
    summary = make_dataset(root, progress=False, downstream=small_downstream(), **SMALL_SYNTHETIC)
    return root, summary


@pytest.fixture(scope="session")
def qwen_tokenizer_dir():
    """The real Qwen2 tokenizer, rebuilt offline (``gazex_lib.model.tokenizer``).

    Built once into the cache (``.cache/tokenizer/qwen2``, about 3 s); if the ranks file is not
    cached yet, pip downloads the 2.4 MB ``dashscope==2.0.2`` wheel first. A failure is an
    error, never a skip.
    """
    from gazex_lib.model.tokenizer import ensure_tokenizer

    return ensure_tokenizer()
