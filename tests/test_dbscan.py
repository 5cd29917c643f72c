"""Pixel DBSCAN: the exact grid method against sklearn (the official estimator call).

Every comparison asks for identical arrays: same point order, same labels (same cluster
numbering, same noise set), on every input, never "on average".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from gazex_lib.config import load_config
from gazex_lib.gaze import _dbscan_grid
from gazex_lib.gaze.dbscan import (
    PixelClusters, cluster_pixels, dbscan_params, fixation_dbscan, pixel_features,
)

#: The official parameters, from the ci profile (configs/ci.yaml, section gaze; paper:
#: threshold 0.1, eps 0.3, min_samples 10, intensity weight 0.1).
PAPER = dbscan_params(load_config("ci").gaze)


# ----------------------------------------------------------------------------- helpers
def features(hm, **kw):
    """``pixel_features`` with the profile's threshold and intensity weight unless given."""
    kw = {"threshold": PAPER["threshold"], "intensity_weight": PAPER["intensity_weight"], **kw}
    return pixel_features(hm, **kw)


def pixels(hm, **kw):
    """``cluster_pixels`` with the profile's parameters unless given."""
    return cluster_pixels(hm, **{**PAPER, **kw})


def both(hm, **kw):
    ref = pixels(hm, **dict(kw, method="sklearn"))
    fast = pixels(hm, **dict(kw, method="grid"))
    return ref, fast


def assert_same(hm, **kw):
    ref, fast = both(hm, **kw)
    assert np.array_equal(ref.rows, fast.rows) and np.array_equal(ref.cols, fast.cols)
    assert np.array_equal(ref.values, fast.values)
    assert ref.labels.dtype == fast.labels.dtype
    assert np.array_equal(ref.labels, fast.labels), (kw, ref.labels, fast.labels)
    return ref


def gauss_sum(rng, H, W, n, sigma, dtype=np.float32, spread=None):
    """Max-normalised sum of ``n`` Gaussians (the paper's map, one Gaussian per sample)."""
    yy = np.arange(H, dtype=np.float64)[:, None]
    xx = np.arange(W, dtype=np.float64)[None, :]
    hm = np.zeros((H, W), dtype=dtype)
    centres = rng.uniform([0, 0], [H, W], size=(max(1, n // 8), 2))
    for i in range(n):
        cy, cx = centres[i % len(centres)]
        if spread:
            cy, cx = cy + rng.normal(0, spread), cx + rng.normal(0, spread)
        s = sigma if np.isscalar(sigma) else rng.uniform(*sigma)
        hm += (np.exp(-(yy - cy) ** 2 / (2 * s * s)) * np.exp(-(xx - cx) ** 2 / (2 * s * s))
               ).astype(dtype)
    return hm / hm.max()


def random_heatmap(rng, kind, H, W):
    yy, xx = np.mgrid[:H, :W]
    if kind == "noise":  # sparse isolated pixels
        return rng.random((H, W)) * (rng.random((H, W)) < rng.uniform(0.02, 0.3))
    if kind == "speckle":
        return rng.random((H, W)) * (rng.random((H, W)) < rng.uniform(0.3, 0.9))
    if kind == "blobs":
        return gauss_sum(rng, H, W, int(rng.integers(1, 12)), (1.0, 6.0),
                         dtype=rng.choice([np.float32, np.float64]))
    if kind == "plateau":  # exactly equal intensities
        levels = int(rng.integers(1, 4))
        return np.round(rng.random((H, W)) * levels) / levels
    if kind == "binary":
        return np.where(rng.random((H, W)) < rng.uniform(0.1, 0.7), 0.5, 0.0)
    if kind == "lines":  # 1-px lines, some bridging blocks
        hm = np.zeros((H, W))
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.5:
                hm[int(rng.integers(0, H)), :] = rng.uniform(0.2, 1)
            else:
                hm[:, int(rng.integers(0, W))] = rng.uniform(0.2, 1)
        for _ in range(int(rng.integers(0, 3))):
            r, c = int(rng.integers(0, H)), int(rng.integers(0, W))
            hm[r:r + 4, c:c + 4] = 0.9
        return hm
    if kind == "rings":
        hm = np.zeros((H, W))
        for _ in range(int(rng.integers(1, 3))):
            cy, cx, rad = rng.uniform(0, H), rng.uniform(0, W), rng.uniform(2, max(H, W) / 2)
            hm += (np.abs(np.hypot(yy - cy, xx - cx) - rad) < 0.6) * rng.uniform(0.2, 1)
        return hm
    if kind == "bridged":  # two blobs joined by a thin line
        hm = np.zeros((H, W))
        r = int(rng.integers(0, H))
        hm[max(0, r - 3):r + 3, : W // 3] = 0.8
        hm[max(0, r - 3):r + 3, 2 * W // 3:] = 0.6
        hm[r, :] = np.maximum(hm[r, :], 0.3)
        return hm
    raise AssertionError(kind)


KINDS = ("noise", "speckle", "blobs", "plateau", "binary", "lines", "rings", "bridged")


# ----------------------------------------------------------------------------- features and API
def test_pixel_features_are_the_official_ones():
    rng = np.random.default_rng(0)
    hm = gauss_sum(rng, 23, 31, 6, 3.0)  # float32 like the official map
    rows, cols, values, F = features(hm)
    thr, iw = PAPER["threshold"], PAPER["intensity_weight"]
    y, x = np.where(hm > thr)  # official point order: row-major
    assert np.array_equal(rows, y) and np.array_equal(cols, x)
    assert values.dtype == np.float32 and np.array_equal(values, hm[y, x])
    xy = StandardScaler().fit_transform(np.column_stack([x, y]))  # x first, then y
    official = np.column_stack([xy, hm[y, x] * iw])
    assert F.dtype == np.float64 and np.array_equal(F, official)
    # the float32 product, not a float64 one
    assert np.array_equal(F[:, 2], (values * np.float32(iw)).astype(np.float64))
    ref = DBSCAN(eps=PAPER["eps"], min_samples=PAPER["min_samples"]).fit_predict(official)
    assert np.array_equal(pixels(hm, method="sklearn").labels, ref)


def test_threshold_compared_in_heatmap_dtype():
    hm = np.zeros((4, 5), dtype=np.float32)
    thr = PAPER["threshold"]
    hm[1, 1] = np.float32(thr)  # == threshold in float32: excluded, as in the official code
    hm[2, 3] = np.nextafter(np.float32(thr), np.float32(1))
    rows, cols, _, _ = features(hm)
    assert rows.tolist() == [2] and cols.tolist() == [3]


def test_empty_and_tiny():
    for method in ("grid", "sklearn"):
        res = pixels(np.zeros((7, 9)), method=method)
        assert res.n_clusters == 0 and res.labels.size == 0 and res.rows.size == 0
        assert not res.mask(-1, (7, 9)).any()
    _, _, _, F = features(np.zeros((3, 3)))
    assert F.shape == (0, 3)
    one = np.zeros((5, 6))
    one[2, 4] = 0.7
    for ms in (1, 2, 10):
        ref = assert_same(one, min_samples=ms)
        assert ref.labels.tolist() == ([0] if ms == 1 else [-1])
    # around sklearn's brute-force / KD-tree switch (n < 12 / n >= 12), eps at a pair distance
    # (sklearn's brute force computes |x|^2 - 2 x.y + |y|^2: other ties than the KD-tree)
    rng = np.random.default_rng(1)
    for case in range(36):
        n = 2 + case % 18
        hm = np.zeros((6, 8))
        hm.flat[rng.choice(48, n, replace=False)] = rng.choice([0.5, 0.7], n)
        _, _, _, F = features(hm)
        d = F[0] - F[-1]
        e = np.sqrt((d[0] * d[0] + d[1] * d[1]) + d[2] * d[2])
        for eps in (0.6, float(e), float(np.nextafter(e, 0)), float(np.nextafter(e, np.inf))):
            for ms in (1, 3):
                assert_same(hm, min_samples=ms, eps=eps)


def test_validation():
    good = np.ones((3, 3)) * 0.5
    with pytest.raises(ValueError, match="2-D"):
        pixels(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        pixels(np.array([[0.5, np.nan]]))
    with pytest.raises(ValueError, match="NaN"):
        features(np.array([[0.5, np.inf]]))
    with pytest.raises(ValueError, match="dtype"):
        pixels(np.ones((2, 2), dtype=complex))
    with pytest.raises(ValueError, match="eps"):
        pixels(good, eps=0)
    with pytest.raises(ValueError, match="eps"):
        pixels(good, eps=float("nan"))
    with pytest.raises(ValueError, match="min_samples"):
        pixels(good, min_samples=0)
    with pytest.raises(ValueError, match="min_samples"):
        pixels(good, min_samples=2.5)
    with pytest.raises(ValueError, match="min_samples"):
        pixels(good, min_samples=True)
    with pytest.raises(ValueError, match="method"):
        pixels(good, method="kdtree")
    with pytest.raises(ValueError, match="threshold"):
        pixels(good, threshold="0.1")
    with pytest.raises(ValueError, match="intensity_weight"):
        features(good, intensity_weight=None)
    # integer heatmaps are accepted (as float64)
    res = pixels(np.eye(4, dtype=int), min_samples=1)
    assert res.values.dtype == np.float64


def test_pixel_clusters_mask_and_n_clusters():
    hm = np.zeros((12, 20))
    hm[1:4, 0:4] = 0.9  # 12 pixels
    hm[2:11, 14:18] = 0.9  # 36 pixels, 10 columns away
    res = assert_same(hm, min_samples=3, eps=0.8)
    assert isinstance(res, PixelClusters) and res.n_clusters == 2
    m0 = res.mask(0, hm.shape)
    assert m0.shape == hm.shape and m0.dtype == bool
    assert m0.sum() == 12 and m0[1:4, 0:4].all()
    assert res.mask(1, hm.shape).sum() == 36 and not res.mask(-1, hm.shape).any()
    with pytest.raises(ValueError):
        res.mask(2, hm.shape)
    with pytest.raises(ValueError):
        res.mask(0, (3, 3))
    with pytest.raises(ValueError):
        res.mask(0, (12, 20, 1))


# ----------------------------------------------------------------------------- exactness
def test_random_small_heatmaps():
    """>= 200 seeded random and adversarial heatmaps, random parameters."""
    rng = np.random.default_rng(2024)
    n_clusters_seen = set()
    for case in range(240):
        kind = KINDS[case % len(KINDS)]
        H, W = (int(v) for v in rng.integers(2, 36, 2))
        hm = random_heatmap(rng, kind, H, W)
        kw = dict(eps=float(rng.choice([0.05, 0.1, 0.2, 0.3, 0.3, 0.5, 1.0])),
                  min_samples=int(rng.choice([1, 2, 3, 5, 10, 10, 20])),
                  intensity_weight=float(rng.choice([0.0, 0.1, 0.1, 1.0, 5.0])),
                  threshold=float(rng.choice([0.0, 0.1, 0.1, 0.5])))
        ref = assert_same(hm, **kw)
        n_clusters_seen.add(min(ref.n_clusters, 3))
    assert n_clusters_seen == {0, 1, 2, 3}  # the suite does exercise multi-cluster numbering


def test_medium_heatmaps_fft_path():
    """Grids large enough for the FFT neighbour counts and the coarse grouping."""
    rng = np.random.default_rng(7)
    for case in range(16):
        kind = ("noise", "speckle", "blobs", "rings")[case % 4]
        H, W = (int(v) for v in rng.integers(60, 130, 2))
        hm = random_heatmap(rng, kind, H, W)
        assert_same(hm, min_samples=int(rng.choice([2, 5, 10, 30])))


def test_fft_correlate_matches_direct():
    from scipy.ndimage import correlate

    rng = np.random.default_rng(3)
    for _ in range(10):
        img = (rng.random(tuple(rng.integers(1, 40, 2))) < 0.4).astype(float)
        kh, kw = (2 * int(v) + 1 for v in rng.integers(0, 25, 2))
        K = rng.random((kh, kw)) < 0.7
        K = (K | K[::-1, ::-1]).astype(float)  # centro-symmetric, like the ellipses
        ref = correlate(img, K, mode="constant", cval=0.0)
        assert np.array_equal(np.rint(_dbscan_grid._fft_correlate(img, K)), ref)


def _sk_neighbourhoods(F, eps):
    return NearestNeighbors(radius=eps, metric="euclidean").fit(F).radius_neighbors(
        F, return_distance=False)


def test_ties_at_eps(monkeypatch):
    """eps equal (to the last bit, and one ulp either side) to an actual pair distance, on
    plateaus where many pairs share that distance: sklearn's KD-tree then decides some pairs
    by ``rd <= eps*eps`` and others by ``sqrt(bound) <= eps``, even asymmetrically."""
    calls = []
    orig = _dbscan_grid._Grid.neighbours
    monkeypatch.setattr(_dbscan_grid._Grid, "neighbours",
                        lambda self, pts: calls.append(1) or orig(self, pts))
    rng = np.random.default_rng(11)
    n_cases = asym = 0
    for case in range(48):
        H, W = (int(v) for v in rng.integers(5, 24, 2))
        hm = np.where(rng.random((H, W)) < rng.uniform(0.3, 1.0), 0.5, 0.0)
        if case % 2:
            hm[rng.random((H, W)) < 0.2] = 0.7
        _, _, _, F = features(hm)
        if len(F) < 12:
            continue
        i, j = rng.integers(0, len(F), 2)
        d = F[i] - F[j]
        rd = (d[0] * d[0] + d[1] * d[1]) + d[2] * d[2]
        if rd == 0:
            continue
        e = np.sqrt(rd)
        for eps in {float(e), float(np.nextafter(e, 0)), float(np.nextafter(e, np.inf)),
                    float(np.sqrt(np.nextafter(rd, np.inf)))}:
            nb = _sk_neighbourhoods(F, eps)
            A = np.zeros((len(F), len(F)), dtype=bool)
            for k, x in enumerate(nb):
                A[k, x] = True
            asym += bool((A != A.T).any())
            for ms in (2, 4, 7):
                assert_same(hm, eps=eps, min_samples=ms)
                n_cases += 1
    assert n_cases > 200
    assert calls  # the tie (hazard) path of the grid method ran
    assert asym > 0  # and the suite contains neighbourhoods that sklearn makes asymmetric


def _tie_case(seed):
    """The heatmap of the seeded search that found the cases of ``test_ties_change_labels``."""
    rng = np.random.default_rng(seed)
    H, W = (int(v) for v in rng.integers(9, 26, 2))
    hm = np.where(rng.random((H, W)) < rng.uniform(0.3, 1.0), 0.5, 0.0)
    if seed % 2:
        hm[rng.random((H, W)) < 0.2] = 0.7
    return hm


def _naive_labels(hm, eps, min_samples):
    """DBSCAN with the textbook rule ``rd <= eps * eps`` for every pair (symmetric)."""
    _, _, _, F = features(hm)
    D = F[:, None, :] - F[None, :, :]
    rd = (D[..., 0] * D[..., 0] + D[..., 1] * D[..., 1]) + D[..., 2] * D[..., 2]
    M = np.where(rd <= eps * eps, 0.0, 2 * eps)
    return DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(M)


# (seed, eps, min_samples): eps ties where sklearn's KD-tree labels differ from the naive
# rule (found by a seeded search); the grid method must follow sklearn, not the rule.
TIE_CASES = [(10, 1.5709374284685862, 328), (70, 2.262257860363312, 153),
             (82, 1.4118077496646138, 235), (82, 1.4118077496646138, 256),
             (180, 1.5851368682058684, 122), (166, 1.7160714548916687, 317)]


@pytest.mark.parametrize("forced_pairwise", [False, True])
def test_ties_change_labels(monkeypatch, forced_pairwise):
    if forced_pairwise:  # every group linked through _link's cKDTree branch
        monkeypatch.setattr(_dbscan_grid, "_SMALL_GROUP", 0)
        monkeypatch.setattr(_dbscan_grid, "_BRUTE_PAIRS", 0)
    for seed, eps, ms in TIE_CASES:
        hm = _tie_case(seed)
        ref = assert_same(hm, eps=eps, min_samples=ms)
        assert not np.array_equal(ref.labels, _naive_labels(hm, eps, ms))


def _dbscan_inner(neighbourhoods, min_samples):
    """Plain transcription of sklearn's ``dbscan_inner`` (depth-first expansion)."""
    n = len(neighbourhoods)
    core = [len(nb) >= min_samples for nb in neighbourhoods]
    labels = [-1] * n
    label = 0
    for i in range(n):
        if labels[i] != -1 or not core[i]:
            continue
        stack, p = [], i
        while True:
            if labels[p] == -1:
                labels[p] = label
                if core[p]:
                    stack.extend(v for v in neighbourhoods[p] if labels[v] == -1)
            if not stack:
                break
            p = stack.pop()
        label += 1
    return np.array(labels)


def _one_way_rule(p, q):
    """Is q in p's neighbourhood, for a tie pair? Deterministic and not symmetric."""
    return ((np.asarray(p, dtype=np.int64) + 1) * (np.asarray(q, dtype=np.int64) + 3)
            * 2654435761 % 2**32) % 3 != 0


@pytest.mark.parametrize("forced_pairwise", [False, True])
def test_one_way_neighbour_relations(monkeypatch, forced_pairwise):
    """Tie pairs decided by an arbitrary one-way rule: the grid method must expand clusters
    exactly as dbscan_inner does on that relation (sklearn's KD-tree can make tie pairs
    one-way; core groups joined only by such pairs are too rare to find by search)."""
    if forced_pairwise:  # all groups linked through _link's cKDTree branch
        monkeypatch.setattr(_dbscan_grid, "_SMALL_GROUP", 0)
        monkeypatch.setattr(_dbscan_grid, "_BRUTE_PAIRS", 0)
    state = {}

    def oracle(self, pts):
        F, eps2 = self.F, self.eps * self.eps
        out = {}
        for p in np.unique(np.asarray(pts)):
            rd = (((F[:, 0] - F[p, 0]) ** 2 + (F[:, 1] - F[p, 1]) ** 2) + (F[:, 2] - F[p, 2]) ** 2)
            tie = np.abs(rd - eps2) <= 1e-12 * eps2
            keep = np.where(tie, _one_way_rule(int(p), np.arange(len(F))), rd <= eps2)
            out[int(p)] = np.nonzero(keep)[0]
        state["calls"] = state.get("calls", 0) + 1
        return out

    monkeypatch.setattr(_dbscan_grid._Grid, "neighbours", oracle)
    orig_clusters = _dbscan_grid._Grid.clusters

    def spy(self, core):
        out = orig_clusters(self, core)
        state["one_way"] = state.get("one_way", 0) + self.stats["one_way_edges"]
        return out

    monkeypatch.setattr(_dbscan_grid._Grid, "clusters", spy)
    rng = np.random.default_rng(31)
    n_cases = 0
    for case in range(60):
        H, W = (int(v) for v in rng.integers(6, 22, 2))
        if case % 2:  # plateau blobs; eps = the length of a random pixel offset
            hm = np.where(rng.random((H, W)) < rng.uniform(0.1, 0.6), 0.5, 0.0)
            dy, dx = (int(v) for v in rng.integers(0, 4, 2))
        else:  # dots on a lattice, eps = the lattice step: every link is a tie
            a, b = (int(v) for v in rng.integers(1, 4, 2))
            hm = np.zeros((H, W))
            hm[::a, ::b] = np.where(rng.random(hm[::a, ::b].shape) < 0.7, 0.5, 0.0)
            dy, dx = (a, 0) if rng.random() < 0.5 else (0, b)
        rows, cols, _, F = features(hm)
        if len(F) < 12 or dy == dx == 0:
            continue
        sx, sy = StandardScaler().fit(np.column_stack([cols, rows])).scale_
        eps = float(np.hypot(dx / sx, dy / sy))
        D = F[:, None, :] - F[None, :, :]
        rd = (D[..., 0] ** 2 + D[..., 1] ** 2) + D[..., 2] ** 2
        tie = np.abs(rd - eps * eps) <= 1e-12 * eps * eps
        rule = _one_way_rule(np.arange(len(F))[:, None], np.arange(len(F))[None, :])
        A = np.where(tie, rule, rd <= eps * eps)
        nbs = [np.nonzero(A[i])[0] for i in range(len(F))]
        for ms in (1, 2, 3, 5):
            ref = _dbscan_inner(nbs, ms)
            got = pixels(hm, eps=eps, min_samples=ms, method="grid").labels
            assert np.array_equal(got, ref), (case, ms)
            n_cases += 1
    assert n_cases > 100 and state["calls"] and state["one_way"] > 0


def test_min_samples_edge():
    """min_samples equal to a pixel's exact neighbour count (self included), and one more."""
    rng = np.random.default_rng(5)
    for case in range(20):
        hm = random_heatmap(rng, ("binary", "plateau", "noise", "blobs")[case % 4], 15, 19)
        _, _, _, F = features(hm)
        if len(F) < 12:
            continue
        counts = np.array([len(x) for x in _sk_neighbourhoods(F, PAPER["eps"])])
        for c in np.unique(counts)[:4]:
            for ms in (int(c), int(c) + 1):
                assert_same(hm, min_samples=ms)


def test_border_point_reachable_from_two_clusters():
    """A non-core pixel within eps of both clusters takes the lower-numbered cluster."""
    hm = np.zeros((1, 31))
    hm[0, 0:10] = 0.5  # cluster 0 (lowest indices)
    hm[0, 15] = 0.5  # the border pixel: 6 px from both clusters
    hm[0, 21:31] = 0.5  # cluster 1
    _, cols, _, F = features(hm)
    sx = StandardScaler().fit(cols[:, None].astype(float)).scale_[0]
    eps = 6.0 / sx * (1 + 1e-6)
    ref = assert_same(hm, eps=eps, min_samples=5)
    assert ref.labels.tolist() == [0] * 10 + [0] + [1] * 10
    # mirrored, and the lower-numbered cluster is the one starting first in row-major order
    hm2 = np.zeros((2, 31))
    hm2[0, 21:31] = 0.5
    hm2[1, 0:10] = 0.5
    hm2[0, 15] = 0.5
    for eps in (0.05, 0.1, 0.2, 0.3, 0.5):
        for ms in (2, 3, 5, 8):
            assert_same(hm2, eps=eps, min_samples=ms)
    # many border pixels between several touching clusters, random
    rng = np.random.default_rng(9)
    for _ in range(20):
        hm3 = np.zeros((12, 40))
        for c0 in (0, 13, 26):
            hm3[:, c0:c0 + 8] = rng.uniform(0.3, 1)
        hm3[rng.random(hm3.shape) < 0.1] = 0.6
        assert_same(hm3, eps=float(rng.uniform(0.05, 0.3)), min_samples=int(rng.integers(3, 12)))


def test_non_square_and_thin():
    rng = np.random.default_rng(13)
    for H, W in ((1, 50), (50, 1), (2, 200), (200, 3), (7, 120)):
        for kind in ("noise", "lines", "plateau"):
            hm = random_heatmap(rng, kind, H, W)
            for ms in (1, 3, 10):
                assert_same(hm, min_samples=ms)


def test_many_groups_and_tree_candidates(monkeypatch):
    """Sparse dots (many core groups -> coarse grouping), and a tiny chunk budget that
    switches candidate search to the cKDTree and splits every batch."""
    rng = np.random.default_rng(17)
    grouped = []
    orig = _dbscan_grid._Grid._coarser_groups
    monkeypatch.setattr(_dbscan_grid._Grid, "_coarser_groups",
                        lambda self, *a: grouped.append(1) or orig(self, *a))
    for case in range(6):
        hm = (rng.random((90, 110)) < rng.uniform(0.01, 0.05)) * rng.uniform(0.2, 1, (90, 110))
        for ms in (1, 3, 12):
            assert_same(hm, min_samples=ms, eps=float(rng.choice([0.1, 0.3])))
    assert grouped
    monkeypatch.setattr(_dbscan_grid, "_CHUNK", 500)
    for case in range(6):
        hm = random_heatmap(rng, ("noise", "blobs", "binary")[case % 3], 50, 60)
        for ms in (2, 10, 40):
            assert_same(hm, min_samples=ms)


def test_realistic_gaze_heatmaps_224x280():
    rng = np.random.default_rng(21)
    for n_roi in (1, 2, 3, 4):
        hm = gauss_sum(rng, 224, 280, 8 * n_roi, (6.0, 12.0), spread=10.0)
        ref = assert_same(hm)
        assert ref.rows.size > 1000


@pytest.mark.slow
def test_realistic_gaze_heatmap_636x764():
    """The paper's ¼-scale grid; touching clusters of different sizes (~15k-30k pixels)."""
    rng = np.random.default_rng(23)
    for sigma in (6.0, 10.0):
        hm = gauss_sum(rng, 636, 764, 24, sigma, spread=15.0)
        ref = assert_same(hm)
        assert ref.rows.size > 5000


# ----------------------------------------------------------------------------- fixations
def _fix(x, y, ppd_x=50.0, ppd_y=40.0):
    n = len(x)
    return pd.DataFrame({"x_position": x, "y_position": y,
                         "angular_resolution_x_pixels_per_degree": np.broadcast_to(ppd_x, n),
                         "angular_resolution_y_pixels_per_degree": np.broadcast_to(ppd_y, n),
                         "duration": np.ones(n)})


def test_fixation_dbscan_degrees_and_nan():
    x = [100.0, 120.0, 110.0, 900.0, 930.0, np.nan, 500.0, 915.0]
    y = [100.0, 110.0, 90.0, 400.0, 410.0, 50.0, 1500.0, np.nan]
    df = _fix(x, y)
    labels = fixation_dbscan(df, eps_deg=1.0, min_samples=2)
    assert labels.dtype == np.intp and labels.shape == (len(df),)
    assert labels.tolist() == [0, 0, 0, 1, 1, -1, -1, -1]
    valid = np.isfinite(df.x_position) & np.isfinite(df.y_position)
    deg = np.column_stack([df.x_position / 50.0, df.y_position / 40.0])[valid]
    assert np.array_equal(labels[valid.to_numpy()], DBSCAN(eps=1.0, min_samples=2).fit_predict(deg))
    # per-fixation resolution: 30 px apart is 0.6 deg at 50 ppd but 1.5 deg at 20 ppd
    df2 = _fix([0.0, 30.0], [0.0, 0.0])
    assert fixation_dbscan(df2).tolist() == [0, 0]
    df2["angular_resolution_x_pixels_per_degree"] = 20.0
    assert fixation_dbscan(df2).tolist() == [-1, -1]
    # index alignment does not matter: labels follow row order
    df3 = df.iloc[::-1].set_index(np.arange(len(df)) * 7)
    assert fixation_dbscan(df3).tolist() == [-1, -1, -1, 0, 0, 1, 1, 1]
    assert fixation_dbscan(df.iloc[:0]).shape == (0,)
    assert fixation_dbscan(_fix([np.nan], [1.0])).tolist() == [-1]


def test_fixation_dbscan_validation():
    df = _fix([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="DataFrame"):
        fixation_dbscan(df.to_numpy())
    with pytest.raises(ValueError, match="lacks"):
        fixation_dbscan(df.drop(columns="angular_resolution_y_pixels_per_degree"))
    with pytest.raises(ValueError, match="eps"):
        fixation_dbscan(df, eps_deg=-1)
    with pytest.raises(ValueError, match="min_samples"):
        fixation_dbscan(df, min_samples=0)
    bad = df.copy()
    bad["angular_resolution_x_pixels_per_degree"] = 0.0
    with pytest.raises(ValueError, match="> 0"):
        fixation_dbscan(bad)
    bad = df.copy()
    bad["x_position"] = ["a", "b"]
    with pytest.raises(ValueError, match="numeric"):
        fixation_dbscan(bad)
