"""Baselines of the held-out probes: the best constant SDA order, the finding parser, the
text-only per-finding means and their backoff, all scored by the held-out scorers."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from gazex_lib import tasks as T
from gazex_lib.data.synthetic.dictation import _OTHER, _TEMPLATES, NORMAL_SENTENCES
from gazex_lib.eval import (InputIgnoringBaseline, TextOnlyBaseline, TrivialBaseline,
                            best_constant_order, fit_baselines, parse_finding, score_answers,
                            summarize_scores)
from gazex_lib.tasks.order import draw_shuffle
from gazex_lib.tasks.records import make_record


# --- SDA: the best constant order ----------------------------------------------------------------
def _sda(i, order, task="sda_finding", fmt="ranks"):
    return {"id": f"{task}:{i}", "task": task, "reading_id": f"R{i}",
            "meta": {"order": list(order), "order_format": fmt, "n_frames": len(order)}}


def _targets(n, fmt, rng, k=40):
    """Shuffles with the identity re-drawn; half of them a planted order, so that the best
    constant order is neither the identity nor obvious from any single position."""
    planted = draw_shuffle(n, np.random.default_rng(n))
    out = []
    for _ in range(k):
        s = planted if rng.random() < 0.4 else draw_shuffle(n, rng)
        out.append(T.order_truth(s, fmt))
    return out


def _accuracy(order, targets):
    return float(np.mean([T.order_accuracy(order, t) for t in targets]))


@pytest.mark.parametrize("fmt", ["ranks", "official"])
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_best_constant_order_beats_every_permutation(n, fmt):
    targets = _targets(n, fmt, np.random.default_rng(100 + n))
    order, acc = best_constant_order(targets, n, fmt)
    values = sorted(T.order_truth(list(range(n)), fmt))
    assert sorted(order) == values and acc == pytest.approx(_accuracy(order, targets))
    brute = {p: _accuracy(p, targets) for p in itertools.permutations(values)}
    assert acc == pytest.approx(max(brute.values()))                  # nothing beats it
    identity = T.order_truth(list(range(n)), fmt)
    assert acc > brute[tuple(identity)] + 0.1                          # and the identity loses
    # the baseline answers it, and the scorer gives the same number on those targets
    recs = [_sda(i, t, fmt=fmt) for i, t in enumerate(targets)]
    base = InputIgnoringBaseline.fit(recs)
    answers = base.answers(recs)
    assert set(answers) == {T.encode_order(order, fmt)}
    assert summarize_scores(score_answers(recs, answers))["sda_order_accuracy"] == \
        pytest.approx(max(brute.values()))
    assert base.stats["sda"] == {"task": len(recs)}


def test_best_constant_order_two_frames_is_the_swap():
    # identity re-drawn: every 2-frame target is the swap, which a constant answer gets right
    order, acc = best_constant_order([[2, 1]] * 5, 2)
    assert order == [2, 1] and acc == 1.0
    with pytest.raises(ValueError, match="not a permutation"):
        best_constant_order([[1, 1]], 2)


def test_constant_orders_per_task_back_off_to_pooled_then_identity():
    rng = np.random.default_rng(0)
    train = [_sda(i, t) for i, t in enumerate(_targets(3, "ranks", rng))]
    base = InputIgnoringBaseline.fit(train)
    best, _ = best_constant_order([r["meta"]["order"] for r in train], 3)
    held = [_sda(100, [2, 3, 1]), _sda(101, [3, 1, 2], task="sda_global"),
            _sda(102, [2, 1, 4, 3]), _sda(103, [2, 1], fmt="official")]
    answers = base.answers(held)
    assert answers[:2] == [T.encode_order(best, "ranks")] * 2        # sda_global: pooled
    assert answers[2] == "<seq>1,2,3,4</seq>" and answers[3] == "<seq>01</seq>"
    assert base.stats["sda"] == {"task": 1, "pooled": 1, "identity": 2}
    rows = base.to_dict()["sda_orders"]
    assert {(r["task"], r["n_frames"]) for r in rows} == {("sda_finding", 3), ("pooled", 3)}
    assert TextOnlyBaseline.fit(train).answers(held) == answers       # same SDA answers


# --- the finding of a sentence -------------------------------------------------------------------
_DEVICE_KIND = {"central line": "central_line", "endotracheal tube": "endotracheal_tube",
                "enteric tube": "enteric_tube"}


@pytest.mark.parametrize("key", sorted(_TEMPLATES))
def test_parse_finding_reads_every_synthetic_template(key):
    for template in _TEMPLATES[key]:
        for side, zone in (("right", "upper"), ("left", "lower"), ("left", "mid")):
            lobe = f"{side} {zone} lobe" if zone != "mid" else f"{side} mid lung"
            words = {"side": side, "zone": zone, "sev": "mild", "lobe": lobe, "sevly": "mildly"}
            words.update({k.capitalize(): v.capitalize() for k, v in words.items()})
            kind, got_side, got_zone = parse_finding(template.format(**words))
            assert kind == _DEVICE_KIND.get(key, key), template
            if "{side}" in template.lower() or "{lobe}" in template.lower():
                assert got_side == side, template
            if "{zone}" in template.lower() or "{lobe}" in template.lower():
                assert got_zone == zone, template


def test_parse_finding_normal_statements_and_negation():
    for text, *_ in NORMAL_SENTENCES:
        kind = parse_finding(text)[0]
        assert kind in {"trachea", "heart", "mediastinum", "bones", "lungs"} \
            or kind.startswith("no_"), text
    assert parse_finding("No pleural effusion or pneumothorax.") == ("no_effusion", None, None)
    assert parse_finding("The lungs are clear.") == ("lungs", None, None)
    assert parse_finding("The trachea is midline.") == ("trachea", None, None)  # not "mid"
    assert parse_finding("Lung volumes are normal, without focal opacity.")[0] == "no_opacity"
    assert parse_finding("The heart is not enlarged.")[0] == "no_cardiomegaly"
    # REFLACX style: lower case, detached punctuation; negation stays in its clause
    assert parse_finding("small right effusion , no pneumothorax .") == ("effusion", "right", None)
    assert parse_finding("bibasilar atelectasis .") == ("atelectasis", "bilateral", "lower")
    assert parse_finding("right and left lower lobe opacities") == ("opacity", "bilateral",
                                                                    "lower")
    assert parse_finding("old healed rib fracture .")[0] == "fracture"
    assert parse_finding("")[0] is None and parse_finding("end of report") == (None, None, None)
    assert {parse_finding(t)[0] for t, _ in _OTHER.values()} == {"scoliosis", "granuloma",
                                                                 "fracture"}


# --- text-only FVP and path ----------------------------------------------------------------------
_PLANTED = {  # sentence -> planted q1000 box; parse_finding keys in the comment
    "There is a small right pleural effusion.": [100, 600, 300, 800, 200, 700],  # effusion,right
    "Small left pleural effusion.": [700, 600, 900, 800, 800, 700],              # effusion,left
    "There is a small nodule in the left upper lobe.": [600, 200, 700, 300, 650, 250],
    "No pleural effusion.": [200, 700, 800, 760, 500, 730],                      # no_effusion
}


def _fvp(i, sentence, box, coords="q1000", film=(100, 120)):
    meta = {"sentence": sentence, "coords": coords, "film_size": list(film), "observation": box}
    return make_record("fvp", f"R{i}", f"where for {sentence}",
                         T.format_boxes([], box, "clean"), meta=meta, sentence_index=0)


def _train_fvp():
    out = []
    for i, (text, box) in enumerate(_PLANTED.items()):
        for j, d in enumerate((-20, 0, 20)):                    # the mean is the planted box
            out.append(_fvp(10 * i + j, text, [v + d for v in box]))
    return out


def test_text_only_fvp_recovers_planted_boxes_and_backs_off():
    train = _train_fvp()
    base = TextOnlyBaseline.fit(train)
    held = [_fvp(100 + i, t, b) for i, (t, b) in enumerate(_PLANTED.items())]
    answers = base.answers(held)
    for rec, ans in zip(held, answers):
        assert [int(v) for v in T.parse_fvp(ans)["observation"]] == rec["meta"]["observation"]
    assert summarize_scores(score_answers(held, answers))["fvp_iou"] == pytest.approx(1.0)
    assert base.stats["fvp"] == {"kind_side_zone": 4}
    everything = np.mean([r["meta"]["observation"] for r in train], axis=0)
    backoff = [_fvp(200, "Moderate right effusion at the base.", [0] * 6),    # (effusion, right)
               _fvp(201, "Nodule in the right lower lobe.", [0] * 6),          # (nodule,)
               _fvp(202, "Mild scoliosis.", [0] * 6),                           # global mean
               _fvp(203, "Small left pleural effusion.", [0] * 6, coords="official_px")]
    got = [[int(v) for v in T.parse_fvp(a)["observation"]] for a in base.answers(backoff)]
    assert got[0] == _PLANTED["There is a small right pleural effusion."]
    assert got[1] == _PLANTED["There is a small nodule in the left upper lobe."]
    assert got[2] == np.rint(everything).astype(int).tolist()
    assert got[3] == [70, 72, 90, 96, 80, 84]                  # q1000 -> film px, truncated
    assert base.stats["fvp"] == {"kind_side_zone": 1, "kind_side": 1, "kind": 1, "global": 1}
    d = base.to_dict()
    assert d["stats"]["fvp"] == base.stats["fvp"] and d["fvp"]["keys_per_level"] == {
        "kind_side_zone": 4, "kind_side": 4, "kind": 3}
    # the input-ignoring baseline answers the mean of every box, whatever the sentence
    flat = InputIgnoringBaseline.fit(train)
    assert {a for a in flat.answers(held)} == {T.format_boxes(
        [], np.rint(everything).astype(int).tolist(), "clean")}


def _path(i, sentences, points, size=(400, 480)):
    meta = {"sentences": sentences, "points": points, "n_points": len(points),
            "image_size": list(size),
            "points_orig": [[x / 1000 * size[0], y / 1000 * size[1]] for x, y in points]}
    return make_record("gtm_path", f"P{i}", "path of " + " ".join(sentences),
                         T.format_path(points), meta=meta)


def test_text_only_path_uses_the_mean_point_per_finding():
    texts = list(_PLANTED)
    centres = {t: b[4:] for t, b in _PLANTED.items()}
    train = [_path(0, texts[:2], [centres[t] for t in texts[:2]]),
             _path(1, texts[2:], [centres[t] for t in texts[2:]]),
             _path(2, texts[::-1], [centres[t] for t in texts[::-1]])]
    base = TextOnlyBaseline.fit(train)
    held = _path(9, [texts[3], texts[0], "Mild scoliosis."],
                 [centres[texts[3]], centres[texts[0]], [500, 500]])
    ans = base.answers([held])[0]
    assert T.parse_path(ans)[:2] == [tuple(map(float, centres[texts[3]])),
                                     tuple(map(float, centres[texts[0]]))]
    assert base.stats["gtm_path"] == {"kind_side_zone": 2, "global": 1}
    s = score_answers([held], [ans]).iloc[0]
    every = np.mean([p for r in train for p in r["meta"]["points"]], axis=0)   # q1000
    dx, dy = (np.array([500, 500]) - every) * [400 / 1000, 480 / 1000]        # original px
    assert s["answered_n"] == 3 and s["answered_sum"] == pytest.approx(np.hypot(dx, dy), abs=0.5)
    # the input-ignoring path: the mean point by sentence position
    flat = InputIgnoringBaseline.fit(train)
    assert flat.path_points[0] == np.rint(np.mean([r["meta"]["points"][0] for r in train],
                                                  axis=0)).astype(int).tolist()


def test_fit_baselines_names_and_json_ready_dicts():
    import json

    train = _train_fvp() + [_sda(i, [2, 1]) for i in range(3)]
    bases = fit_baselines(train)
    assert list(bases) == ["input_ignoring", "text_only"]
    for name, base in bases.items():
        answers = base.answers(train)
        assert len(answers) == len(train) and base.name == name
        json.dumps(base.to_dict())
        assert base.to_dict()["n_train"] == {"fvp": 12, "sda_finding": 3}
    with pytest.raises(ValueError, match="no answer for task 'gtm'"):
        bases["text_only"].answer({**train[0], "task": "gtm"})
    assert TrivialBaseline.fit(train).answers(train[-1:]) == ["<seq>1,2</seq>"]  # unchanged
