"""The downstream datasets in the data-exploration chapter (notebook 01): what is there, how it
splits, its labels and questions, what the readers dropped, and the leakage audit.

:func:`downstream_overview` reads whatever of MIMIC-CXR reports, IU X-ray, MS-CXR and
Medical-CXR-VQA the data root holds (with the run's ``downstream`` switches) and says which are
absent; it never fails for a missing dataset. :func:`leakage_sets` builds the audit's sets from
REFLACX (pretraining as we do it or as the official code does; evaluation: the multi-reader
phases and the phase-3 validation and test readings) and the downstream frames.
:func:`labeller_truth_agreement` compares the rule-based labeller with the synthetic corpus's
sentence truth (synthetic data only).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from gazex_lib.data import schema
from gazex_lib.data.labels import CHEXBERT_LABELS

__all__ = ["downstream_overview", "leakage_sets", "labeller_truth_agreement", "label_value_table",
           "downstream_results"]

_NAMES = {"reports": "MIMIC-CXR reports", "iu": "IU X-ray", "ms_cxr": "MS-CXR", "vqa": "Medical-CXR-VQA"}


def label_value_table(labels: pd.DataFrame) -> pd.DataFrame:
    """Per CheXbert label: the share of reports labelled positive, uncertain, negative, blank."""
    rows = {}
    for lab in CHEXBERT_LABELS:
        v = labels[lab]
        rows[lab] = {"positive": (v == 1).mean(), "uncertain": (v == -1).mean(), "negative": (v == 0).mean(),
                     "blank": v.isna().mean()}
    return pd.DataFrame.from_dict(rows, orient="index")


def downstream_overview(data_root: str | Path, section) -> dict:
    """What the data root holds of the downstream datasets, read with ``section`` (the run's
    ``config.downstream``). Keys: ``data`` (name -> the reader's object, absent ones missing),
    ``absent`` (names; a dataset that needs MIMIC-CXR-JPG's split table counts as absent
    without it), ``splits`` (dataset x split counts), ``labels`` (MIMIC-CXR label
    values, :func:`label_value_table`), ``vqa_types`` (type x split), ``dropped`` (every
    reader's accounting)."""
    from gazex_lib.data.downstream import load_iu_xray, load_ms_cxr, load_report_dataset, load_vqa
    from gazex_lib.data.downstream._common import mimic_split_of

    root = Path(data_root)
    mimic_split = mimic_split_of(root / schema.MIMIC_JPG_DIR)
    readers = {
        "reports": (lambda: load_report_dataset(root, section=section.report_section,
                                                cleaning=section.report_cleaning),
                    (root / schema.MIMIC_REPORTS_DIR).is_dir()),
        "iu": (lambda: load_iu_xray(root / schema.IU_XRAY_DIR, frontal_index=section.iu_frontal_index,
                                    cleaning=section.report_cleaning), (root / schema.IU_XRAY_DIR).is_dir()),
        "ms_cxr": (lambda: load_ms_cxr(root / schema.MS_CXR_DIR, split_policy=section.ms_cxr_split,
                                       mimic_split=mimic_split), (root / schema.MS_CXR_DIR).is_dir()),
        "vqa": (lambda: load_vqa(root / schema.VQA_DIR, split_policy=section.vqa_split, mimic_split=mimic_split),
                (root / schema.VQA_DIR).is_dir()),
    }
    if mimic_split is None:      # the MIMIC-CXR reports need the split table, and so may MS-CXR
        readers["reports"] = (None, False)
        if section.ms_cxr_split != "released":
            readers["ms_cxr"] = (None, False)
    data = {name: read() for name, (read, present) in readers.items() if present}
    absent = [_NAMES[n] for n in readers if n not in data]
    rows = []
    for name, ds in data.items():
        counts = ds.frame["split"].value_counts()
        rows.append({"dataset": _NAMES[name], **{s: int(counts.get(s, 0)) for s in schema.SPLITS},
                     "total": len(ds.frame)})
    splits = pd.DataFrame(rows, columns=["dataset", *schema.SPLITS, "total"]).set_index("dataset")
    labels = label_value_table(data["reports"].labels) if "reports" in data else None
    vqa_types = (pd.crosstab(data["vqa"].frame["question_type"], data["vqa"].frame["split"])
                 .reindex(index=list(schema.VQA_TYPES), columns=list(schema.SPLITS), fill_value=0)
                 if "vqa" in data else None)
    drops = [ds.dropped.frame() for ds in data.values()]
    dropped = pd.concat(drops, ignore_index=True) if drops else None
    return {"data": data, "absent": absent, "splits": splits, "labels": labels, "vqa_types": vqa_types,
            "dropped": dropped}


def leakage_sets(metadata: pd.DataFrame, data: dict, *, pretraining: str = "ours") -> dict:
    """The audit's sets (:func:`gazex_lib.data.downstream.leakage_audit`).

    REFLACX pretraining (role train) is ``ours`` (the phase-3 readings of the MIMIC training
    split: ``tasks.holdout_phases`` and chapter 03's validation and test splits held out) or
    ``official`` (every reading, as the official code trains). Evaluation sets: the multi-reader
    phases (the agreement chapters' images), the phase-3 validation and test readings (chapter
    03's probes), and the downstream frames' validation and test splits; their training splits
    are training sets. MIMIC-CXR's reports keep REFLACX's own studies: a report-generation test
    study that pretraining read is exactly the leak to find."""
    from gazex_lib.data.downstream import sets_from_frames

    if pretraining not in ("ours", "official"):
        raise ValueError(f"pretraining must be 'ours' or 'official', got {pretraining!r}")
    md = metadata
    pre = md if pretraining == "official" else md[(md["phase"] == 3) & (md["split"] == "train")]
    sets = sets_from_frames(pretraining=pre, heldout=md[md["phase"] < 3],
                            reports=data["reports"].frame if "reports" in data else None,
                            ms_cxr=data["ms_cxr"].frame if "ms_cxr" in data else None,
                            vqa=data["vqa"].frame if "vqa" in data else None)
    probes = md[(md["phase"] == 3) & (md["split"] != "train")]
    if len(probes):
        sets["REFLACX phase-3 validation and test"] = ("eval", probes)
    return sets


def labeller_truth_agreement(data_root: str | Path, labeller) -> pd.DataFrame | None:
    """Per-label agreement (:func:`gazex_lib.eval.labellers.labeller_agreement`) of
    ``labeller`` on the synthetic downstream reports with their planted report labels; None
    when the data root is not a synthetic one with the downstream corpus."""
    from gazex_lib.data.synthetic.downstream import TRUTH_FILE, load_downstream_truth
    from gazex_lib.eval.labellers import labeller_agreement

    if not (Path(data_root) / TRUTH_FILE).is_file():
        return None
    reports, _ = load_downstream_truth(data_root)
    return labeller_agreement(reports[list(CHEXBERT_LABELS)], labeller.label(reports["text"]))


def downstream_results(overview: dict, leakage: dict, agreement: pd.DataFrame | None) -> dict:
    """The ``downstream`` block of ``01_data_exploration.json``: absent datasets, counts per split,
    what the readers dropped, the leakage findings per pretraining recipe, and the labeller's
    overall agreement with the synthetic truth (None on real data)."""
    from gazex_lib.data.downstream import leakage_findings

    splits = {name: {k: int(v) for k, v in row.items()} for name, row in overview["splits"].iterrows()}
    dropped = ([{k: (int(v) if k in ("count", "denominator") else v) for k, v in r.items()}
                for r in overview["dropped"].to_dict("records")] if overview["dropped"] is not None else [])
    return {"absent": list(overview["absent"]), "splits": splits, "dropped": dropped,
            "leakage": {p: leakage_findings(t) for p, t in leakage.items()},
            "labeller_truth_agreement": (None if agreement is None
                                         else round(float(agreement.loc["overall", "agreement"]), 4))}
