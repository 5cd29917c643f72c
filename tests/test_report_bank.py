"""The synthetic downstream reports' sentence bank (issue 12): every template's labels agree
with its text (read by the rule-based labeller), all 14 labels occur, and reports aggregate as
CheXpert does."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.data.synthetic.report_bank import (DOWNSTREAM_KINDS, HEDGED, KIND_LABEL, NEGATED, NORMAL,
                                                  POSITIVE, fill, label_vector, report_labels)
from gazex_lib.eval.labellers import RuleLabeller

FINDINGS = [{"side": s, "zone": z, "severity": v}
            for s, z, v in itertools.product(("right", "left"), ("upper", "mid", "lower"),
                                             ("mild", "moderate", "large"))]
TEMPLATES = [(bank, kind, t, labels) for bank, table in (("positive", POSITIVE), ("hedged", HEDGED),
                                                          ("negated", NEGATED))
             for kind, items in table.items() for t, labels in items]


@pytest.fixture(scope="module")
def rules():
    return RuleLabeller(progress=False)


def test_every_template_reads_as_its_labels(rules):
    texts, wants = [], []
    for _, _, template, labels in TEMPLATES:
        for f in FINDINGS:
            texts.append(fill(template, f))
            wants.append(label_vector(labels))
    texts += [t for t, _, _ in NORMAL]
    wants += [label_vector(labels) for _, labels, _ in NORMAL]
    got = rules.label(texts).to_numpy()[:, :13]          # No Finding is a report-level label
    want = np.stack(wants)[:, :13]
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    bad = [(texts[i], {CHEXBERT_LABELS[j]: got[i, j] for j in range(13) if got[i, j] == got[i, j]})
           for i in np.flatnonzero(~same.all(axis=1))]
    assert not bad, bad[:5]


def test_every_label_occurs_and_every_kind_has_its_label():
    seen = {lab: set() for lab in CHEXBERT_LABELS}
    for _, _, _, labels in TEMPLATES:
        for lab, v in labels.items():
            seen[lab].add(v)
    for kind in DOWNSTREAM_KINDS:
        assert any(KIND_LABEL[kind] in labels for _, labels in POSITIVE[kind]), kind
    for lab in CHEXBERT_LABELS[:-2]:                 # findings: positive, uncertain and negative
        assert seen[lab] == {1.0, -1.0, 0.0}, lab
    assert seen["Support Devices"] == {1.0}
    # No Finding comes from the aggregation: a report of normal statements only
    assert report_labels([labels for _, labels, _ in NORMAL])[-1] == 1.0


def test_report_labels_aggregate_like_chexpert():
    out = report_labels([{"Pleural Effusion": 0.0}, {"Pleural Effusion": 1.0}, {"Pneumonia": -1.0},
                         {"Pneumonia": 0.0}, {"Support Devices": 1.0}])
    by = dict(zip(CHEXBERT_LABELS, out))
    assert by["Pleural Effusion"] == 1.0           # positive beats negative
    assert by["Pneumonia"] == -1.0                 # uncertain beats negative
    assert by["Support Devices"] == 1.0 and np.isnan(by["No Finding"])
    assert np.isnan(by["Edema"])                    # never mentioned: blank
    devices_only = dict(zip(CHEXBERT_LABELS, report_labels([{"Support Devices": 1.0}, {"Edema": 0.0}])))
    assert devices_only["No Finding"] == 1.0       # devices do not unset No Finding


def test_fill_states_the_location():
    assert fill("{Lobe} consolidation.", {"side": "left", "zone": "upper"}) == "Left upper lobe consolidation."
    assert fill("Bilateral {zone} lung opacities.", {"side": "right", "zone": "mid"}) == "Bilateral mid lung opacities."
    assert fill("The heart is {sevly} enlarged.", {"severity": "moderate"}) == "The heart is moderately enlarged."
