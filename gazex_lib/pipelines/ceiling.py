"""Chapter 03's ceiling analysis from the run object (:mod:`gazex_lib.analysis.ceiling`)."""
from __future__ import annotations

__all__ = ["ceiling_answerers", "ceiling"]


def ceiling_answerers(run, records, baselines: dict) -> dict:
    """``baselines`` plus, on synthetic data, ``planted_oracle`` fitted on the training
    ``records`` with the generator's truth (real data has none)."""
    from gazex_lib.analysis import PlantedOracle
    from gazex_lib.data.synthetic import load_truth

    out = dict(baselines)
    if run.synthetic:
        out["planted_oracle"] = PlantedOracle.fit(records, truth=load_truth(run.data_root))
    return out


def ceiling(run, records, splits: dict, baselines: dict, images) -> dict:
    """:func:`~gazex_lib.analysis.ceiling_report` of every probe split with the profile's
    bootstrap (``heldout.n_boot``, ``ci_level``, ``power``) and the run's seed."""
    from gazex_lib.analysis import ceiling_report

    answerers = ceiling_answerers(run, records, baselines)
    h = run.config.heldout
    return ceiling_report(splits, answerers, images, n_boot=h.n_boot, seed=run.seed,
                          ci=h.ci_level, power=h.power,
                          oracle="planted_oracle" if "planted_oracle" in answerers else None)
