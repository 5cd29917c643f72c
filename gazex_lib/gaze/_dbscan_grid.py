"""Exact DBSCAN of pixel features on their grid (private helper of :mod:`.dbscan`).

Input: the official features ``F = [z(col), z(row), w * value]`` of the ``n`` thresholded
pixels (row-major order) and the StandardScaler scales ``(sx, sy)``. The eps-ball of a pixel
is then, up to rounding, the ellipse ``(dx/sx)^2 + (dy/sy)^2 + dI^2 <= eps^2`` in pixel
offsets, with ``0 <= dI^2 <= tmax = (max w*value - min w*value)^2``.

sklearn's DBSCAN (``algorithm="auto"`` -> KD-tree for ``n >= 12``) decides "q is a neighbour
of p" by float comparisons of the squared distance ``rd`` with ``eps^2`` (leaves) or of
``sqrt`` of node bounds with ``eps`` (whole nodes). Every decision here is either

* **sure**: ``rd`` is farther than a margin ``m`` (>= 1e-9 eps^2, orders of magnitude above
  any rounding) from ``eps^2``, so sklearn decides the same way in both directions; or
* **a hazard** (``|rd - eps^2| <= m``): then sklearn's own answer is taken, by querying the
  same ``NearestNeighbors`` model that DBSCAN fits, for that point only (same tree, same
  query code, so the same neighbour set). Such ties are rare; they can make the relation
  asymmetric, which the cluster expansion below reproduces.

Steps:

1. Core status: FFT counts of the pixel mask under an outer ellipse (``S <= eps^2 + m``,
   an upper bound on the neighbour count) and an inner one (``S + tmax <= eps^2 - 2m``, a
   lower bound). Only pixels with ``inner < min_samples <= outer`` get an exact count.
2. Core pixels are grouped by the part of the 3x3 neighbourhood inside the inner ellipse
   (sure, symmetric edges) with ``scipy.ndimage.label``; when that leaves many groups, by
   labelling the core mask dilated by an ellipse small enough that touching dilations imply
   a sure edge between their centres.
3. Links between groups: small groups (<= 64 pixels) check every core pixel's candidates
   (outer-ellipse offsets, or a cKDTree), vectorised; pairs of larger groups whose bounding
   boxes come within the ellipse reach are tested with cKDTree nearest neighbours on their
   nearby pixels only. A sure edge merges two groups; tie pairs are resolved by sklearn's
   neighbour sets in both directions (both -> merge, one -> one-way edge).
4. Clusters are expanded as ``dbscan_inner`` does: groups in order of their lowest point
   index; with one-way hazard edges, a depth-first search over unlabelled groups.
5. A non-core pixel takes the lowest label among the core pixels whose neighbourhood holds it
   (the first cluster whose expansion reaches it), else -1.

For ``n < 12`` sklearn switches to brute force (another arithmetic); there the function just
runs sklearn, which is instantaneous at that size.
"""
from __future__ import annotations

import numpy as np

_REL = 1e-9  # relative half-width of the hazard band around eps^2
_CHUNK = 2_000_000  # max (points x offsets) evaluated at once
_SMALL_GROUP = 64  # core groups up to this size are linked pixel by pixel, larger ones pairwise
_BRUTE_PAIRS = 50_000  # two big groups with at most this many nearby pairs: all pairs at once


class _Grid:
    def __init__(self, rows, cols, F, scale, eps, min_samples):
        self.F = np.ascontiguousarray(F, dtype=np.float64)
        self.n = n = rows.shape[0]
        self.eps = eps
        self.min_samples = min_samples
        self.r0, self.c0 = int(rows.min()), int(cols.min())
        self.lr = (rows - self.r0).astype(np.int64)
        self.lc = (cols - self.c0).astype(np.int64)
        self.h = int(self.lr.max()) + 1
        self.w = int(self.lc.max()) + 1
        self.idx = np.full((self.h, self.w), -1, dtype=np.int64)
        self.idx[self.lr, self.lc] = np.arange(n)
        self.sx, self.sy = float(scale[0]), float(scale[1])
        eps2 = eps * eps
        fmax = float(np.abs(self.F).max())
        self.m = _REL * eps2 + 1e-12 * (1.0 + fmax) * (1.0 + eps)
        self.lo = eps2 - self.m  # rd < lo: surely a neighbour (both directions)
        self.hi = eps2 + self.m  # rd > hi: surely not
        self.r_net = np.sqrt(self.hi) * (1 + 1e-10)  # cKDTree search radius covering rd <= hi
        ival = self.F[:, 2]
        self.tmax = float(ival.max() - ival.min()) ** 2
        self._nn = None
        self._nbr_cache: dict[int, np.ndarray] = {}
        #: diagnostics: tie pairs resolved by sklearn's neighbour sets, and one-way edges
        #: between core groups that the cluster expansion had to follow
        self.stats = {"hazard_pairs": 0, "one_way_edges": 0}

    # ------------------------------------------------------------------ exact helpers
    def rd(self, a, b):
        """Squared feature distances of index arrays ``a`` and ``b`` (sklearn's order)."""
        Fa, Fb = self.F[a], self.F[b]
        d0 = Fa[..., 0] - Fb[..., 0]
        d1 = Fa[..., 1] - Fb[..., 1]
        d2 = Fa[..., 2] - Fb[..., 2]
        return (d0 * d0 + d1 * d1) + d2 * d2

    def neighbours(self, pts) -> dict[int, np.ndarray]:
        """sklearn's own eps-neighbourhoods of the points ``pts`` (the model DBSCAN fits)."""
        pts = np.unique(np.asarray(pts, dtype=np.int64))
        todo = [int(p) for p in pts if int(p) not in self._nbr_cache]
        if todo:
            if self._nn is None:
                from sklearn.neighbors import NearestNeighbors

                # exactly the model DBSCAN(eps, min_samples) builds in fit()
                self._nn = NearestNeighbors(radius=self.eps, algorithm="auto", leaf_size=30,
                                            metric="euclidean", metric_params=None, p=None,
                                            n_jobs=None).fit(self.F)
            for s in range(0, len(todo), 256):
                part = todo[s:s + 256]
                res = self._nn.radius_neighbors(self.F[part], return_distance=False)
                for p, nb in zip(part, res):
                    self._nbr_cache[p] = np.sort(nb)
        return {int(p): self._nbr_cache[int(p)] for p in pts}

    def contains(self, p: int, q: int) -> bool:
        """Is ``q`` in sklearn's neighbourhood of ``p``?"""
        nb = self.neighbours([p])[int(p)]
        i = np.searchsorted(nb, q)
        return bool(i < nb.size and nb[i] == q)

    # ------------------------------------------------------------------ kernels
    def ideal(self, dy, dx):
        return (dx / self.sx) ** 2 + (dy / self.sy) ** 2

    def kernels(self):
        reach = np.sqrt(self.hi + self.m)
        self.Rr = int(min(np.floor(self.sy * reach) + 1, self.h - 1))
        self.Rc = int(min(np.floor(self.sx * reach) + 1, self.w - 1))
        dy = np.arange(-self.Rr, self.Rr + 1, dtype=np.float64)[:, None]
        dx = np.arange(-self.Rc, self.Rc + 1, dtype=np.float64)[None, :]
        S = self.ideal(dy, dx)
        self.K_out = S <= self.hi + self.m
        self.K_in = S + self.tmax <= self.lo - self.m
        self.K_in[self.Rr, self.Rc] = True  # a point is always its own neighbour
        oy, ox = np.nonzero(self.K_out)
        self.off_r = (oy - self.Rr).astype(np.int64)
        self.off_c = (ox - self.Rc).astype(np.int64)
        s3 = np.arange(-1, 2, dtype=np.float64)
        self.struct3 = self.ideal(s3[:, None], s3[None, :]) + self.tmax <= self.lo - self.m
        self.struct3[1, 1] = True

    def _counts(self, K) -> np.ndarray:
        """Number of mask pixels under kernel ``K`` centred on every point."""
        if K.sum() == 1:
            return np.ones(self.n, dtype=np.int64)
        mask = self.idx >= 0
        if K.size <= 49 or mask.sum() * K.sum() < 200_000:
            from scipy.ndimage import correlate

            c = correlate(mask.astype(np.int64), K.astype(np.int64), mode="constant", cval=0)
            return c[self.lr, self.lc]
        return np.rint(_fft_correlate(mask.astype(np.float64), K.astype(np.float64))
                       [self.lr, self.lc]).astype(np.int64)

    def _candidates(self, q, among):
        """Yield ``(qc, qi, p)``: points ``p`` (``among[p]``) possibly within eps of ``qc[qi]``.

        Covers every pair with ``rd <= hi``: the outer-ellipse offsets around each query
        pixel, or (when that is many offsets for few pixels) a cKDTree on the features.
        """
        if q.size == 0:
            return
        n_off = self.off_r.size
        if q.size * n_off <= 4 * _CHUNK or n_off <= 64:
            step = max(1, _CHUNK // n_off)
            for s in range(0, q.size, step):
                qc = q[s:s + step]
                rr = self.lr[qc][:, None] + self.off_r[None, :]
                cc = self.lc[qc][:, None] + self.off_c[None, :]
                qi, oi = np.nonzero((rr >= 0) & (rr < self.h) & (cc >= 0) & (cc < self.w))
                p = self.idx[rr[qi, oi], cc[qi, oi]]
                keep = p >= 0
                qi, p = qi[keep], p[keep]
                keep = among[p]
                yield qc, qi[keep], p[keep]
            return
        from scipy.spatial import cKDTree

        pool = np.nonzero(among)[0]
        if pool.size == 0:
            return
        tree = cKDTree(self.F[pool])
        step = max(16, _CHUNK // n_off)  # each query returns up to ~n_off points
        for s in range(0, q.size, step):
            qc = q[s:s + step]
            res = tree.query_ball_point(self.F[qc], self.r_net)
            lens = np.fromiter((len(x) for x in res), dtype=np.int64, count=qc.size)
            qi = np.repeat(np.arange(qc.size), lens)
            p = pool[np.concatenate([np.asarray(x, dtype=np.int64) for x in res])] \
                if lens.sum() else np.empty(0, dtype=np.int64)
            yield qc, qi, p

    # ------------------------------------------------------------------ 1. core status
    def core_status(self) -> np.ndarray:
        ms = self.min_samples
        c_out = self._counts(self.K_out)
        c_in = self._counts(self.K_in)
        core = c_in >= ms
        amb = np.nonzero((c_in < ms) & (c_out >= ms))[0]
        for q, qi, p in self._candidates(amb, np.ones(self.n, dtype=bool)):
            rd = self.rd(q[qi], p)
            sure = np.bincount(qi, weights=(rd < self.lo).astype(np.float64), minlength=q.size)
            hazard = np.bincount(qi, weights=((rd >= self.lo) & (rd <= self.hi)).astype(np.float64),
                                 minlength=q.size)
            cnt = sure.astype(np.int64)
            hz = np.nonzero(hazard)[0]
            if hz.size:
                nb = self.neighbours(q[hz])
                for j in hz:
                    cnt[j] = nb[int(q[j])].size
            core[q] = cnt >= ms
        return core

    # ------------------------------------------------------------------ 2.-4. clusters
    def clusters(self, core):
        from scipy import ndimage

        n = self.n
        cimg = np.zeros((self.h, self.w), dtype=bool)
        cimg[self.lr[core], self.lc[core]] = True
        lab, k = ndimage.label(cimg, structure=self.struct3)
        if k > 32 and self.struct3.all():
            lab, k = self._coarser_groups(cimg, lab, k)
        comp = np.full(n, -1, dtype=np.int64)
        comp[core] = lab[self.lr[core], self.lc[core]] - 1
        if k == 0:
            return comp, np.full(n, -1, dtype=np.int64)
        core_idx = np.nonzero(core)[0]
        order = np.argsort(comp[core_idx], kind="stable")
        sizes = np.bincount(comp[core_idx], minlength=k)
        members = np.split(core_idx[order], np.cumsum(sizes)[:-1])
        objs = ndimage.find_objects(lab)
        rmin = np.array([o[0].start for o in objs]); rmax = np.array([o[0].stop - 1 for o in objs])
        cmin = np.array([o[1].start for o in objs]); cmax = np.array([o[1].stop - 1 for o in objs])

        parent = np.arange(k)
        hazards = []
        small = sizes <= _SMALL_GROUP
        if small.any():  # small groups: every core pixel's candidates, vectorised
            ea, eb = [], []
            for qc, qi, p in self._candidates(core_idx[small[comp[core_idx]]], core):
                q = qc[qi]
                other = comp[q] != comp[p]
                q, p = q[other], p[other]
                rd = self.rd(q, p)
                sure = rd < self.lo
                ea.append(comp[q[sure]])
                eb.append(comp[p[sure]])
                hz = ~sure & (rd <= self.hi)
                hazards.extend(zip(q[hz].tolist(), p[hz].tolist()))
            ea = np.concatenate(ea) if ea else np.empty(0, dtype=np.int64)
            eb = np.concatenate(eb) if eb else np.empty(0, dtype=np.int64)
            if ea.size:
                from scipy.sparse import coo_matrix
                from scipy.sparse.csgraph import connected_components

                graph = coo_matrix((np.ones(ea.size), (ea, eb)), shape=(k, k))
                _, cc = connected_components(graph, directed=False)
                rep = np.full(cc.max() + 1, k, dtype=np.int64)
                np.minimum.at(rep, cc, np.arange(k))
                parent = rep[cc]

        def find(a):
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        def union(a, b):
            a, b = find(a), find(b)
            if a != b:
                parent[max(a, b)] = min(a, b)

        Rr, Rc = self.Rr, self.Rc
        big = np.nonzero(~small)[0]  # pairs of big groups: nearest neighbours near each other
        for i, a in enumerate(big[:-1]):
            b_all = big[i + 1:]
            near = ((rmin[b_all] <= rmax[a] + Rr) & (rmin[a] <= rmax[b_all] + Rr)
                    & (cmin[b_all] <= cmax[a] + Rc) & (cmin[a] <= cmax[b_all] + Rc))
            for b in b_all[near]:
                if find(a) == find(b):
                    continue
                found, hz = self._link(members[a], members[b])
                if found:
                    union(a, b)
                elif hz:
                    hazards.extend(hz)

        directed = set()
        if hazards:
            hp = np.unique(np.sort(np.array(hazards, dtype=np.int64), axis=1), axis=0)
            self.stats["hazard_pairs"] += len(hp)
            nb = self.neighbours(hp.ravel())
            for p, q in hp:
                pq = _isin(nb[int(p)], q)
                qp = _isin(nb[int(q)], p)
                if pq and qp:
                    union(comp[p], comp[q])
                elif pq:
                    directed.add((int(comp[p]), int(comp[q])))
                elif qp:
                    directed.add((int(comp[q]), int(comp[p])))

        roots = np.array([find(a) for a in range(k)])
        first = np.full(k, n, dtype=np.int64)  # lowest point index of each root group
        np.minimum.at(first, roots, np.array([m[0] for m in members]))
        root_list = np.unique(roots)
        root_list = root_list[np.argsort(first[root_list], kind="stable")]
        root_label = np.full(k, -1, dtype=np.int64)
        edges = {}
        for s, t in directed:
            rs, rt = roots[s], roots[t]
            if rs != rt:
                edges.setdefault(rs, set()).add(rt)
                self.stats["one_way_edges"] += 1
        nxt = 0
        for r in root_list:  # dbscan_inner: expand from the lowest unlabelled core point
            if root_label[r] != -1:
                continue
            stack = [r]
            while stack:
                g = stack.pop()
                if root_label[g] != -1:
                    continue
                root_label[g] = nxt
                stack.extend(t for t in edges.get(g, ()) if root_label[t] == -1)
            nxt += 1
        labels = np.full(n, -1, dtype=np.int64)
        labels[core] = root_label[roots[comp[core]]]
        return comp, labels

    def _coarser_groups(self, cimg, lab, k):
        """Fewer groups, still joined only by sure edges: label the core mask dilated by an
        ellipse of radius r with 2 r + N(1, 1) <= rho (N the spatial ellipse norm, rho the
        sure-edge radius): two dilated pixels that touch (8-neighbours) come from core pixels
        at most 2 r + N(1, 1) apart, i.e. joined by a sure edge."""
        from scipy import ndimage

        rho2 = self.lo - self.m - self.tmax
        r = (np.sqrt(rho2) - np.sqrt(self.ideal(1.0, 1.0))) / 2 * (1 - 1e-9)
        if not r > 0:
            return lab, k
        ry = min(int(np.floor(r * self.sy)), self.h - 1)
        rx = min(int(np.floor(r * self.sx)), self.w - 1)
        if ry == 0 and rx == 0:
            return lab, k
        dy = np.arange(-ry, ry + 1, dtype=np.float64)[:, None]
        dx = np.arange(-rx, rx + 1, dtype=np.float64)[None, :]
        D = self.ideal(dy, dx) <= r * r
        dil = _fft_correlate(cimg.astype(np.float64), D.astype(np.float64)) > 0.5
        lab2, k2 = ndimage.label(dil, structure=self.struct3)
        lab2 = np.where(cimg, lab2, 0)
        return lab2, k2

    def _link(self, A, B):
        """Sure core-core edge between groups A and B? Else the hazard pairs between them."""
        lr, lc, Rr, Rc = self.lr, self.lc, self.Rr, self.Rc
        a = A[(lr[A] >= lr[B].min() - Rr) & (lr[A] <= lr[B].max() + Rr)
              & (lc[A] >= lc[B].min() - Rc) & (lc[A] <= lc[B].max() + Rc)]
        if a.size == 0:
            return False, []
        b = B[(lr[B] >= lr[a].min() - Rr) & (lr[B] <= lr[a].max() + Rr)
              & (lc[B] >= lc[a].min() - Rc) & (lc[B] <= lc[a].max() + Rc)]
        if b.size == 0:
            return False, []
        if a.size * b.size <= _BRUTE_PAIRS:
            rd = self.rd(a[:, None], b[None, :])
            if (rd < self.lo).any():
                return True, []
            ia, ib = np.nonzero(rd <= self.hi)
            return False, list(zip(a[ia].tolist(), b[ib].tolist()))
        from scipy.spatial import cKDTree

        if a.size < b.size:
            a, b = b, a
        tree = cKDTree(self.F[b])
        d, _ = tree.query(self.F[a], k=1, distance_upper_bound=self.r_net)
        close = np.isfinite(d)
        if not close.any():
            return False, []
        if (d[close] ** 2 < self.lo * (1 - 1e-12)).any():
            return True, []
        out = []
        qa = a[close]
        for pa, cand in zip(qa, tree.query_ball_point(self.F[qa], self.r_net)):
            cand = b[np.asarray(cand, dtype=np.int64)]
            rd = self.rd(np.full(cand.size, pa), cand)
            if (rd < self.lo).any():
                return True, []
            out.extend((int(pa), int(q)) for q in cand[rd <= self.hi])
        return False, out

    # ------------------------------------------------------------------ 5. border points
    def borders(self, core, labels):
        nc = np.nonzero(~core)[0]
        big = np.iinfo(np.int64).max
        for q, qi, p in self._candidates(nc, core):
            rd = self.rd(q[qi], p)
            sure = rd < self.lo
            best = np.full(q.size, big, dtype=np.int64)
            np.minimum.at(best, qi[sure], labels[p[sure]])
            hz = np.nonzero((rd >= self.lo) & (rd <= self.hi))[0]
            if hz.size:
                hz = hz[labels[p[hz]] < best[qi[hz]]]  # only a lower label could matter
            if hz.size:
                self.neighbours(p[hz])
                for j in hz:
                    if labels[p[j]] < best[qi[j]] and self.contains(p[j], q[qi[j]]):
                        best[qi[j]] = labels[p[j]]
            labels[q] = np.where(best == big, -1, best)
        return labels


def _fft_correlate(img: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``img`` correlated with the centro-symmetric odd-sized ``K`` ('same' size, zero pad)."""
    from scipy import fft

    (h, w), (kh, kw) = img.shape, K.shape
    shape = (fft.next_fast_len(h + kh - 1, real=True), fft.next_fast_len(w + kw - 1, real=True))
    full = fft.irfft2(fft.rfft2(img, shape) * fft.rfft2(K, shape), shape)
    return full[kh // 2:kh // 2 + h, kw // 2:kw // 2 + w]


def _isin(sorted_arr: np.ndarray, v) -> bool:
    i = np.searchsorted(sorted_arr, v)
    return bool(i < sorted_arr.size and sorted_arr[i] == v)


def grid_dbscan(rows, cols, features, scale, eps, min_samples) -> np.ndarray:
    """Labels identical to ``DBSCAN(eps, min_samples).fit_predict(features)``."""
    n = int(rows.shape[0])
    if n < 12:  # sklearn's "auto" uses brute force (GEMM arithmetic) here: defer to it
        from sklearn.cluster import DBSCAN

        return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(features)
    g = _Grid(rows, cols, features, scale, eps, min_samples)
    g.kernels()
    core = g.core_status()
    _, labels = g.clusters(core)
    labels = g.borders(core, labels)
    return labels.astype(np.intp)
