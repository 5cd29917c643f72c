"""The procedural chest phantoms: determinism, and anatomy / findings measured on the pixels."""
from __future__ import annotations

import numpy as np
import pytest

from gazex_lib.data.synthetic.anatomy import gaze_regions, make_anatomy, plant_findings
from gazex_lib.data.synthetic.phantom import render

SIZES = [(448, 560), (896, 1120)]


def _case(seed: int, kinds: list[str], size=(448, 560)):
    """(anatomy, findings, pixels with the findings, pixels of the same phantom without them)."""
    rng = np.random.default_rng(seed)
    a = make_anatomy(rng, *size, "cardiomegaly" in kinds)
    f = plant_findings(rng, a, kinds)
    pix = render(a, f, np.random.default_rng(1000 + seed)).astype(float)
    base = render(a, [], np.random.default_rng(1000 + seed)).astype(float)
    return a, f, pix, base


def _box(img, cx, cy, rx, ry):
    y0, y1 = max(0, int(cy - ry)), int(cy + ry) + 1
    x0, x1 = max(0, int(cx - rx)), int(cx + rx) + 1
    return img[y0:y1, x0:x1]


def _smooth_row(img, y, half=2):
    return img[max(0, int(y) - half): int(y) + half + 1].mean(axis=0)


def _levels(a, img):
    """Mean grey of a mid-lung patch, of the mediastinum and of the abdomen below a dome."""
    W, H = a.width, a.height
    lung = np.mean([_box(img, *a.lung_point(s, 0.45, 0.35), 0.02 * W, 0.02 * H).mean() for s in (0, 1)])
    med = _box(img, a.spine_x, 0.26 * H, 0.02 * W, 0.02 * H).mean()
    cx = a.lungs[0][0]
    abd = _box(img, cx, float(a.dome_y(0, cx)) + 0.07 * H, 0.03 * W, 0.02 * H).mean()
    wall = np.mean([_box(img, a.lungs[s][0] + (-1 if s == 0 else 1) * 1.08 * a.lungs[s][2], a.lungs[s][1],
                         0.005 * W, 0.03 * H).mean() for s in (0, 1)])
    return lung, med, abd, wall


def _walk(profile, start, step, below: bool, thr, run=3):
    """First index from ``start`` stepping by ``step`` where ``run`` consecutive values are
    below (or above) ``thr``."""
    i, n = int(start), 0
    while 0 <= i < len(profile):
        hit = profile[i] < thr if below else profile[i] > thr
        n = n + 1 if hit else 0
        if n == run:
            return i - step * (run - 1)
        i += step
    return None


def _region(mask, seed_rc):
    """The 4-connected component of boolean ``mask`` holding ``seed_rc`` (numpy flood fill)."""
    reg = np.zeros_like(mask)
    reg[seed_rc] = mask[seed_rc]
    while True:
        grown = reg.copy()
        grown[1:] |= reg[:-1]
        grown[:-1] |= reg[1:]
        grown[:, 1:] |= reg[:, :-1]
        grown[:, :-1] |= reg[:, 1:]
        grown &= mask
        if (grown == reg).all():
            return reg
        reg = grown


def _lung_fields(a, img, k=4):
    """Both dark lung fields segmented from the pixels on a k-times coarser grid: (masks, k)."""
    lung, med, _, wall = _levels(a, img)
    h, w = img.shape[0] // k * k, img.shape[1] // k * k
    small = img[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))
    dark = small < 0.5 * (lung + min(med, wall))
    out = []
    for s in (0, 1):
        x, y = a.lung_point(s, 0.45, 0.35)
        out.append(_region(dark, (int(y) // k, int(x) // k)))
    return out, k


def _ctr(a, img):
    """Cardiothoracic ratio measured on the pixels: the widest cardiac silhouette (walking out
    from the midline to the lung) over the widest span of the segmented lung fields; also the
    heart's border distances from the midline."""
    lung, med, _, _ = _levels(a, img)
    (r, l), k = _lung_fields(a, img)
    assert not (r & l).any()  # two separate fields (the mediastinum divides them)
    cols = np.arange(r.shape[1]) * k + k / 2
    chest = cols[r.any(axis=0)].min(), cols[l.any(axis=0)].max()
    thr = 0.5 * (lung + med)
    hx, hy, hrx, hry = a.heart
    best = (0.0, 0.0)
    for y in np.linspace(hy - 0.3 * hry, min(a.domes[0][0], a.domes[1][0]), 12):
        row = _smooth_row(img, y)
        le, ri = _walk(row, a.spine_x, -1, True, thr), _walk(row, a.spine_x, +1, True, thr)
        if le is not None and ri is not None and chest[0] < le and ri < chest[1] and ri - le > best[1] - best[0]:
            best = (le, ri)
    return (best[1] - best[0]) / (chest[1] - chest[0]), a.spine_x - best[0], best[1] - a.spine_x


# --------------------------------------------------------------------------- basics
@pytest.mark.parametrize("size", SIZES + [(501, 613)])
def test_deterministic_uint8(size):
    rng = np.random.default_rng(3)
    a = make_anatomy(rng, *size, False)
    f = plant_findings(rng, a, ["effusion", "nodule", "support_device"])
    one = render(a, f, np.random.default_rng(5))
    two = render(a, f, np.random.default_rng(5))
    other = render(a, f, np.random.default_rng(6))
    assert one.dtype == np.uint8 and one.shape == (size[1], size[0])
    assert np.array_equal(one, two)
    assert not np.array_equal(one, other)
    assert 10 < one.mean() < 200 and one.min() < 20 and one.max() > 200


def test_anatomy_without_findings_is_shared():
    """The anatomy's texture is drawn before any finding: adding one changes only its region."""
    a, f, pix, base = _case(2, ["nodule"])
    (cx, cy), (rx, ry) = f[0]["center_px"], f[0]["axes_px"]
    diff = np.abs(pix - base)
    yy, xx = np.mgrid[: a.height, : a.width]
    far = ((xx - cx) / (3 * rx)) ** 2 + ((yy - cy) / (3 * ry)) ** 2 > 1
    assert diff[far].mean() < 3.5  # film noise only (std ~2.2 each)
    assert abs((pix - base)[far].mean()) < 0.2


# --------------------------------------------------------------------------- anatomy
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("size", SIZES)
def test_grey_levels(seed, size):
    a, _, img, _ = _case(seed, [], size)
    lung, med, abd, wall = _levels(a, img)
    assert lung + 60 < med and lung + 60 < abd and lung + 40 < wall, (lung, med, abd, wall)
    assert img[: int(0.02 * a.height), : int(0.08 * a.width)].mean() < 25  # air above the shoulder
    assert _box(img, a.spine_x, 0.03 * a.height, 0.05 * a.width, 0.01 * a.height).mean() > lung + 40  # neck
    # trachea: an air column darker than the mediastinum beside it
    tr = _box(img, a.spine_x - 0.004 * a.width, 0.22 * a.height, 0.006 * a.width, 0.03 * a.height).mean()
    para = _box(img, a.spine_x + 0.035 * a.width, 0.22 * a.height, 0.006 * a.width, 0.03 * a.height).mean()
    assert tr + 6 < para, (tr, para)


@pytest.mark.parametrize("seed", range(4))
def test_heart_shape_and_ratio(seed):
    a, _, img, _ = _case(seed, [], (896, 1120))
    ctr, left, right = _ctr(a, img)
    assert 0.38 < ctr < 0.52, ctr
    assert right > 1.4 * left  # the heart bulges to the image right (patient's left)
    # heart brighter than the lung beside it
    hx, hy, hrx, hry = a.heart
    heart = _box(img, hx, hy + 0.2 * hry, 0.2 * hrx, 0.2 * hry).mean()
    beside = _box(img, hx + 1.35 * hrx, hy, 0.04 * a.width, 0.1 * hry).mean()
    assert heart > beside + 60


@pytest.mark.parametrize("seed", range(3))
def test_cardiomegaly_ratio(seed):
    a, f, img, _ = _case(seed, ["cardiomegaly"], (896, 1120))
    ctr, left, right = _ctr(a, img)
    assert ctr > 0.55, ctr
    assert right > left


@pytest.mark.parametrize("seed", range(3))
def test_domes_and_costophrenic_angles(seed):
    a, _, img, _ = _case(seed, [], (896, 1120))
    fields, k = _lung_fields(a, img)

    def dome_row(s, u):  # lowest lung row ``u`` lung half-widths lateral of the lung's centre line
        x = a.lungs[s][0] + (-1 if s == 0 else 1) * u * a.lungs[s][2]
        return np.nonzero(fields[s][:, int(x) // k])[0].max() * k

    tops = [dome_row(s, 0.4) for s in (0, 1)]
    assert tops[0] < tops[1]  # the right hemidiaphragm (image left) is higher
    for s in (0, 1):  # convex upward: the dome is lower laterally
        assert dome_row(s, 0.9) > tops[s] + 0.02 * a.height
        x = a.lungs[s][0] + (-1 if s == 0 else 1) * 0.4 * a.lungs[s][2]
        assert abs(tops[s] - float(a.dome_y(s, x))) < 0.025 * a.height  # where the anatomy says
    # sharp lateral angle: just above the costophrenic sulcus the lung reaches almost to the wall
    lung, _, abd, _ = _levels(a, img)
    thr = 0.5 * (lung + abd)
    for s in (0, 1):
        out = -1 if s == 0 else 1
        x = a.lungs[s][0] + out * 0.85 * a.lungs[s][2]
        y = float(a.dome_y(s, x)) - 0.015 * a.height
        assert _box(img, x, y, 0.01 * a.width, 0.006 * a.height).mean() < thr


@pytest.mark.parametrize("seed", range(3))
def test_lung_markings_and_ribs(seed):
    a, _, img, _ = _case(seed, [], (896, 1120))
    W, H = a.width, a.height
    for s in (0, 1):
        out = -1 if s == 0 else 1
        # brighter near the hilum than in the lung periphery (vessels, hilar shadows)
        y = a.lungs[s][1] - 0.03 * H
        medial = _box(img, a.spine_x + out * (a.mediastinum_half_width + 0.06 * W), y, 0.02 * W, 0.03 * H).mean()
        lateral = _box(img, a.lungs[s][0] + out * 0.75 * a.lungs[s][2], y, 0.02 * W, 0.03 * H).mean()
        assert medial > lateral + 8, (medial, lateral)
        # ribs cross the lung field: a vertical profile through the lung has periodic bright bands
        x = a.lungs[s][0] + out * 0.3 * a.lungs[s][2]
        col = img[:, int(x) - 3: int(x) + 4].mean(axis=1)
        top, bot = int(a.lungs[s][1] - 0.7 * a.lungs[s][3]), int(a.domes[s][0] - 0.03 * H)
        prof = np.convolve(col[top:bot], np.ones(7) / 7, mode="valid")
        r = int(0.018 * H)  # about a rib spacing / 3
        peaks = [i for i in range(r, len(prof) - r)
                 if prof[i] == prof[i - r: i + r + 1].max() and prof[i] - prof[i - r: i + r + 1].min() > 10]
        assert len(peaks) >= 5, peaks


def test_gaze_regions_match_rendered_anatomy():
    a, _, img, _ = _case(1, [], (896, 1120))
    reg = gaze_regions(a)
    lung, med, abd, wall = _levels(a, img)
    mid = 0.5 * (lung + min(med, abd))
    for name in ("right_upper", "right_mid", "right_lower", "left_upper", "left_mid", "left_lower",
                 "right_costophrenic", "left_costophrenic"):
        cx, cy, ax, ay, _ = reg[name]
        assert _box(img, cx, cy, 0.3 * ax, 0.3 * ay).mean() < mid, name
    for name in ("heart", "mediastinum"):
        cx, cy, ax, ay, _ = reg[name]
        assert _box(img, cx, cy, 0.3 * ax, 0.3 * ay).mean() > mid, name


# --------------------------------------------------------------------------- findings
def _inside(f, x, y, scale=1.5):
    (cx, cy), (rx, ry) = f["center_px"], f["axes_px"]
    return ((x - cx) / (scale * rx)) ** 2 + ((y - cy) / (scale * ry)) ** 2 <= 1


@pytest.mark.parametrize("kind", ["effusion", "consolidation", "groundglass", "nodule", "mass", "atelectasis",
                                  "pneumothorax", "edema", "support_device"])
@pytest.mark.parametrize("seed", range(3))
def test_finding_changes_its_ellipse(kind, seed):
    """The change a finding makes is centred in its planted ellipse (what readers and gaze use)."""
    a, f, pix, base = _case(seed, [kind])
    diff = pix - base
    k = 5
    h, w = diff.shape
    d = np.abs(diff[: h // k * k, : w // k * k].reshape(h // k, k, w // k, k).mean(axis=(1, 3)))
    wgt = np.where(d > 3, d, 0)
    assert wgt.sum() > 0
    yy, xx = np.mgrid[: d.shape[0], : d.shape[1]] * k + k / 2
    cx, cy = (wgt * xx).sum() / wgt.sum(), (wgt * yy).sum() / wgt.sum()
    assert _inside(f[0], cx, cy), (kind, (cx, cy), f[0]["center_px"], f[0]["axes_px"])
    inside = _inside(f[0], xx, yy, 2.0)
    assert wgt[inside].sum() > 0.8 * wgt.sum()


@pytest.mark.parametrize("seed", range(4))
def test_effusion_blunts_costophrenic_angle(seed):
    a, f, pix, base = _case(seed, ["effusion"], (896, 1120))
    s = 0 if f[0]["side"] == "right" else 1
    out = -1 if s == 0 else 1
    x = a.lungs[s][0] + out * 0.85 * a.lungs[s][2]
    y = float(a.dome_y(s, x)) - 0.02 * a.height
    with_, without = (_box(im, x, y, 0.02 * a.width, 0.012 * a.height).mean() for im in (pix, base))
    assert with_ > without + 40, (with_, without)
    # the meniscus: fluid climbs higher laterally than medially
    (cx, cy), (rx, ry) = f[0]["center_px"], f[0]["axes_px"]
    hi_lat = _box(pix - base, cx + out * 0.8 * rx, cy - 0.9 * ry, 0.1 * rx, 0.15 * ry).mean()
    hi_med = _box(pix - base, cx - out * 0.6 * rx, cy - 0.9 * ry, 0.1 * rx, 0.15 * ry).mean()
    assert hi_lat > hi_med + 10, (hi_lat, hi_med)


@pytest.mark.parametrize("kind", ["nodule", "mass"])
@pytest.mark.parametrize("seed", range(4))
def test_nodule_is_round_and_well_defined(kind, seed):
    a, f, pix, base = _case(seed, [kind], (896, 1120))
    (cx, cy), (rx, ry) = f[0]["center_px"], f[0]["axes_px"]
    yy, xx = np.mgrid[: a.height, : a.width]
    r = np.hypot((xx - cx) / rx, (yy - cy) / ry)
    centre, ring = pix[r < 0.5].mean(), pix[(r > 1.4) & (r < 2.0)].mean()
    assert centre > ring + 15, (centre, ring)
    d = (pix - base)
    assert d[r < 0.5].mean() > 15 and abs(d[(r > 1.4) & (r < 2.0)].mean()) < 4


def _box_mean(img, r):
    """Mean over (2r+1)^2 boxes (edges replicated), via cumulative sums."""
    p = np.pad(img, r + 1, mode="edge").cumsum(0).cumsum(1)
    n = 2 * r + 1
    return (p[n:, n:] - p[:-n, n:] - p[n:, :-n] + p[:-n, :-n])[:img.shape[0], :img.shape[1]] / n ** 2


def _fine_texture(img):
    """Band-pass (3 px minus 11 px box means): vessels and parenchyma, little film noise, few ribs."""
    return _box_mean(img, 1) - _box_mean(img, 5)


@pytest.mark.parametrize("seed", range(4))
def test_pneumothorax_has_no_lung_markings(seed):
    a, f, pix, base = _case(seed, ["pneumothorax"], (896, 1120))
    (cx, cy), (rx, ry) = f[0]["center_px"], f[0]["axes_px"]
    d = _box_mean(pix - base, 4)
    space = _box_mean((d < -4).astype(float), 12) > 0.99  # the darkened pleural space, away from its edges
    assert space.sum() > 200
    ys, xs = np.nonzero(space)
    assert all(_inside(f[0], x, y, 2.5) for x, y in zip(xs[::50], ys[::50]))  # at the planted apex
    mirror = np.zeros_like(space)
    mx = np.clip(np.round(2 * a.spine_x - xs).astype(int), 0, a.width - 1)
    mirror[ys, mx] = True
    t_pix, t_base = _fine_texture(pix), _fine_texture(base)
    t_ptx, t_before, t_contra = t_pix[space].std(), t_base[space].std(), t_pix[mirror].std()
    assert t_ptx < 0.8 * t_before and t_ptx < 0.9 * t_contra, (t_ptx, t_before, t_contra)
    assert pix[space].mean() < base[space].mean() - 6


@pytest.mark.parametrize("seed", range(4))
def test_edema_is_bilateral_perihilar_or_basal(seed):
    """Both lungs, densest at the hila (zone ``mid``) or at the bases (``lower``); seed 0 is basal."""
    from gazex_lib.data.synthetic.anatomy import EDEMA_BASAL_V

    a, f, pix, base = _case(seed, ["edema"], (896, 1120))
    d = pix - base
    for s in (0, 1):
        out = -1 if s == 0 else 1
        hil = _box(d, a.spine_x + out * (a.mediastinum_half_width + 0.07 * a.width), a.lungs[s][1],
                   0.03 * a.width, 0.04 * a.height).mean()
        per = _box(d, a.lungs[s][0] + out * 0.85 * a.lungs[s][2], a.lungs[s][1] - 0.2 * a.lungs[s][3],
                   0.015 * a.width, 0.03 * a.height).mean()
        low = _box(d, *a.lung_point(s, EDEMA_BASAL_V, 0.4), 0.03 * a.width, 0.03 * a.height).mean()
        if f[0]["zone"] == "mid":
            assert hil > 10 and hil > per + 6, (s, hil, per)
        else:
            assert f[0]["zone"] == "lower" and low > 10 and low > per + 6 and low > hil, (s, low, hil, per)


@pytest.mark.parametrize("seed", range(6))
def test_support_device_is_a_bright_line(seed):
    a, f, pix, base = _case(seed, ["support_device"], (896, 1120))
    path = np.asarray(f[0]["path_px"])[2:-1]
    off = 0.025 * a.width
    d = pix - base
    w = int(0.008 * a.width)
    on = np.mean([d[int(y), int(x) - w: int(x) + w + 1].max() for x, y in path])
    beside = np.mean([pix[int(y), min(a.width - 1, int(x + off))] - base[int(y), min(a.width - 1, int(x + off))]
                      for x, y in path])
    assert on > 25 and abs(beside) < 5, (f[0]["device"], on, beside)


@pytest.mark.parametrize("size", SIZES)
def test_findings_visible_at_quarter_scale(size):
    """Each finding still changes the image clearly once shrunk to 224 x 280 (what models see)."""
    from PIL import Image

    for kind in ("effusion", "consolidation", "nodule", "mass", "pneumothorax", "atelectasis", "edema",
                 "support_device"):
        a, f, pix, base = _case(7, [kind], size)
        small = [np.asarray(Image.fromarray(im.astype(np.uint8)).resize((224, 280), Image.Resampling.BILINEAR),
                            dtype=float) for im in (pix, base)]
        d = np.abs(small[0] - small[1])
        assert d.max() > 20, (kind, d.max())


@pytest.mark.parametrize("kind", ["effusion", "pneumothorax", "edema", "atelectasis", "consolidation",
                                  "groundglass", "nodule", "mass", "support_device"])
def test_findings_conspicuous_at_model_scale(kind):
    """The mean grey change a finding makes inside its ellipse, on the ci film shrunk to 224 x 280
    (1/4) and 112 x 140 (1/8), median over three films (generator 3 had pneumothorax ~16 and
    edema ~15 grey levels at 1/4: see findings_paint.AMPLITUDE_GAIN)."""
    from gazex_lib.data.synthetic.conspicuity import finding_contrast

    signal = {4: [], 8: []}
    for seed in range(3):
        a, f, pix, base = _case(seed, [kind], (896, 1120))
        for factor in signal:
            signal[factor].append(abs(finding_contrast(pix, base, f[0], factor)["signal"]))
    assert np.median(signal[4]) >= 25 and np.median(signal[8]) >= 20, (kind, signal)


def test_contrast_measure_on_a_known_disc():
    """finding_contrast on a synthetic film: a +40 disc on a flat background."""
    from gazex_lib.data.synthetic.conspicuity import finding_contrast

    base = np.full((320, 256), 100.0)
    yy, xx = np.mgrid[:320, :256]
    pix = base + 40 * (np.hypot(xx - 128, yy - 160) <= 40)
    f = {"center_px": [128, 160], "axes_px": [40, 40]}
    out = finding_contrast(pix, base, f, 4)
    assert 30 < out["signal"] < 41 and 30 < out["local_contrast"] < 41 and out["clutter"] < 1e-6
    line = {"path_px": [[20, 10], [20, 300]]}
    pix = base + 60 * (np.abs(xx - 20) <= 3)
    assert finding_contrast(pix, base, line, 4)["signal"] > 30


# --------------------------------------------------------------------------- painters
def test_every_finding_kind_has_one_painter():
    """The painter registry covers exactly the planted kinds, the REFLACX ones and the
    downstream corpus's (a kind without a painter would be rejected by render, one with a
    stale painter is dead code)."""
    from gazex_lib.data.synthetic.anatomy import KINDS
    from gazex_lib.data.synthetic.downstream_findings import NEW_KINDS
    from gazex_lib.data.synthetic.findings_paint import known_kinds

    assert known_kinds() == sorted({*KINDS, *NEW_KINDS})


def test_unknown_finding_kind_is_rejected_by_name():
    rng = np.random.default_rng(0)
    a = make_anatomy(rng, 448, 560, False)
    f = plant_findings(rng, a, ["nodule"])
    bad = [*f, dict(f[0], kind="pleural_plaque")]
    with pytest.raises(ValueError, match=r"unknown finding kind 'pleural_plaque'; known kinds: "
                                         r"\['atelectasis', .*'support_device'.*\]"):
        render(a, bad, np.random.default_rng(1))


def test_painter_registers_a_kind_once():
    from gazex_lib.data.synthetic.findings_paint import painter

    with pytest.raises(ValueError, match="'nodule' already has a painter"):
        painter("nodule")(lambda scene, f: None)
