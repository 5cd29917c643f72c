"""Attention-map similarity (issue 13)."""
from __future__ import annotations

import numpy as np
import pytest

from gazex_lib.analysis.map_similarity import box_map, cosine_similarity


def test_box_map_is_centred_on_the_box():
    m = box_map([(10, 20, 30, 60)], (100, 80))
    iy, ix = np.unravel_index(np.argmax(m), m.shape)
    assert (ix, iy) == (20, 40) and m.max() == pytest.approx(1.0)
    # sigma = a quarter of the box: at x0 (2 sigma from the centre) the profile is exp(-2)
    assert m[40, 10] == pytest.approx(np.exp(-2.0))
    with pytest.raises(ValueError, match="corners the wrong way round"):
        box_map([(30, 20, 10, 60)], (100, 80))


def test_cosine_similarity():
    a = box_map([(10, 10, 30, 30)], (64, 64))
    assert cosine_similarity(a, a) == pytest.approx(1.0)
    assert cosine_similarity(a, 3 * a) == pytest.approx(1.0)          # mass does not matter
    far = box_map([(50, 50, 60, 60)], (64, 64))
    near = box_map([(14, 12, 34, 32)], (64, 64))
    assert cosine_similarity(a, far) < 0.01 < cosine_similarity(a, near) < 1.0
    # by hand: two one-hot maps at different pixels are orthogonal, at the same pixel identical
    e1, e2 = np.zeros((3, 3)), np.zeros((3, 3))
    e1[0, 0], e2[2, 2] = 1.0, 2.0
    assert cosine_similarity(e1, e2) == 0.0 and cosine_similarity(e1 + e2, e1) == pytest.approx(1 / np.sqrt(5))
    assert cosine_similarity(np.zeros((3, 3)), e1) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        cosine_similarity(e1, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        cosine_similarity(-e1, e1)
