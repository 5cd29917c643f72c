"""One reading -> its key frames and one table row per frame (the official GazeX recipe).

:func:`reading_keyframes` chains :mod:`~gazex_lib.gaze.windows` (sentence windows),
:mod:`~gazex_lib.gaze.clusters` (clustering map, DBSCAN, time order, cluster heat),
:mod:`~gazex_lib.gaze.maps` (holistic heat), :mod:`~gazex_lib.gaze.keyframes` (blend, fit)
and :mod:`~gazex_lib.gaze.boxes` (boxes, centroids). Every parameter lives in
:class:`KeyframeConfig`; :meth:`KeyframeConfig.from_config` reads a profile config
(``data.window_lead_s``, ``data.trailing_words`` and an optional ``gaze:`` section whose keys
are the field names).

**Edge cases are counted, never skipped or crashed on** (sentence ``status``):

=================  ========================================================================
``ok``             >= 2 clusters: cluster frames + holistic frame
``single_cluster`` 1 cluster: holistic frame only (official rule: cluster frames need >= 2)
``all_noise``      pixels above threshold, all DBSCAN noise: holistic frame only
``offimage``       every Gaussian centre off the image: empty heat, dark holistic frame,
                   no box
``no_gaze``        no valid sample in the window: dark holistic frame, no box
``trimmed_empty``  the percentile trim removed every sample: dark holistic frame, no box
=================  ========================================================================

NaN samples are dropped and counted per window (``n_nan``) and per reading
(``n_nan_timestamp``: rows whose timestamp is NaN belong to no window); samples whose
Gaussian centre falls off the image are skipped (official) and counted (``n_offimage``).
A discarded reading raises :class:`~gazex_lib.data.reflacx.DiscardedReadingError`; a
reading without sentences returns no frames and no rows.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gazex_lib.gaze import boxes as _boxes
from gazex_lib.gaze import maps
from gazex_lib.gaze.clusters import CLUSTER_WEIGHTINGS, DBSCAN_METHODS, cluster_window
from gazex_lib.gaze.keyframes import FIT_MODES, Frame, blend_frame, fit_frame, frame_geometry
from gazex_lib.gaze.windows import windows_from_tables
from gazex_lib.sections import GazeSection

__all__ = ["KeyframeConfig", "reading_keyframes", "load_film", "ROW_COLUMNS"]

_COORDS = ("x_min", "y_min", "x_max", "y_max", "cx", "cy")
_SPACES = {"grid": "box", "original": "box_orig", "qwen1000": "box_q1000"}

#: Columns of each row, in order.
ROW_COLUMNS = [
    "reading_id", "sentence_index", "text", "trailing", "t_start_s", "t_end_s",
    "window_start_s", "window_end_s", "frame_index", "frame_kind", "cluster_rank",
    "cluster_label", "n_clusters", "cluster_time_s", "n_pixels", "n_noise_pixels",
    "n_raw", "n_nan", "n_trimmed", "n_samples", "n_offimage", "n_nan_timestamp", "status",
    "has_box", *(f"{p}_{c}" for p in _SPACES.values() for c in _COORDS),
    "film_width", "film_height", "frame_width", "frame_height", "recipe", "params",
]


@dataclass(frozen=True)
class KeyframeConfig(GazeSection):
    """Every knob of the key-frame pipeline: the profile's ``gaze`` section
    (:class:`~gazex_lib.sections.GazeSection`) plus ``data.window_lead_s`` and
    ``data.trailing_words``. No defaults here: the paper's values live in ``configs/*.yaml``;
    build it with :meth:`from_config`.

    Switches that differ from the official code (official value in brackets):
    ``skip_empty_sentences=False`` [True: misaligns ``frame_index`` and sentences],
    ``shrink="none"`` ["official_percent": the 0.35 % / 0.15 % shrink],
    ``frame_fit="pad"`` ["none": W//4 × H//4, not a multiple of 28],
    ``holistic_nonzero_floor=True`` [same as official], ``cluster_weighting="official"``
    [same], ``dbscan_method="grid"`` [exact equivalent of "sklearn"].
    """
    window_lead_s: float            #: s before the first word (paper 2.0)
    trailing_words: str             #: "drop" (official: text after the last '.' dropped) or "keep"

    def __post_init__(self):
        choices = {"recipe": ("paper",), "trailing_words": ("drop", "keep"),
                   "dbscan_method": DBSCAN_METHODS, "cluster_weighting": CLUSTER_WEIGHTINGS,
                   "shrink": _boxes.SHRINK_MODES, "frame_fit": FIT_MODES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {tuple(allowed)}, "
                                 f"got {getattr(self, name)!r}")
        positive = ("scale", "eps", "cluster_sigma_factor", "render_sigma_factor",
                    "holistic_top_percent")
        for name in positive:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not self.window_lead_s >= 0:
            raise ValueError(f"window_lead_s must be >= 0, got {self.window_lead_s!r}")
        for name in ("min_samples", "min_clusters_for_frames", "frame_multiple"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if self.trim is not None:
            object.__setattr__(self, "trim", tuple(float(v) for v in self.trim))

    @classmethod
    def from_config(cls, config, **overrides) -> "KeyframeConfig":
        """From a profile's :class:`~gazex_lib.config.Config`: its ``gaze`` section and
        ``data.window_lead_s`` / ``data.trailing_words``; ``overrides`` (field names) win."""
        kw = dataclasses.asdict(config.gaze)
        kw.update(window_lead_s=config.data.window_lead_s, trailing_words=config.data.trailing_words)
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown key-frame config keys {unknown}")
        kw.update(overrides)
        return cls(**kw)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def load_film(ds, reading_id: str, jpg_root, *, scale: float) -> np.ndarray:
    """The reading's MIMIC-CXR-JPG film as (H, W) uint8 at ``scale`` (official area resize)."""
    from gazex_lib.data.mimic import load_image, resolve_image_path

    path = resolve_image_path(ds.metadata.at[reading_id, "image"], jpg_root, must_exist=True)
    return load_image(path, scale=scale)


def _box_columns(box, scale, film_wh) -> dict:
    out = {"has_box": box is not None}
    for space, prefix in _SPACES.items():
        vals = _boxes.box_coordinates(box, space, scale=scale, grid_size=film_wh)
        for c, v in zip(_COORDS, vals if vals is not None else (np.nan,) * 6):
            out[f"{prefix}_{c}"] = float(v)
    return out


def reading_keyframes(ds, reading_id: str, film, config: KeyframeConfig,
                      **overrides) -> tuple[list[Frame], list[dict]]:
    """Key frames and table rows of one reading.

    ``film``: the film on the map grid, (H // 4, W // 4) uint8 for ``scale=0.25`` (see
    :func:`load_film`), or a path to the JPG (loaded at ``config.scale``). Its shape must
    equal the grid of the metadata's ``image_size_x/y`` (a mismatch raises). ``overrides``
    replace :class:`KeyframeConfig` fields. Returns ``(frames, rows)``: frames in video
    order, one row per frame (:data:`ROW_COLUMNS`) with ``frame_index`` its 1-based position.
    """
    cfg = config
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    meta = ds.metadata.loc[reading_id]
    image_size = (int(meta["image_size_x"]), int(meta["image_size_y"]))
    shape = maps.scaled_shape(image_size, cfg.scale)
    if isinstance(film, (str, Path)):
        from gazex_lib.data.mimic import load_image

        film = load_image(film, scale=cfg.scale)
    film = np.asarray(film)
    if film.shape != shape:
        raise ValueError(f"reading {reading_id!r}: film shape {film.shape} != map grid {shape} "
                         f"(image_size {image_size} at scale {cfg.scale})")
    film_wh = (shape[1], shape[0])
    geom = frame_geometry(shape, cfg.frame_fit, cfg.frame_multiple)
    gaze = ds.gaze(reading_id)
    n_nan_t = int(np.isnan(gaze["timestamp_sample"].to_numpy(dtype=np.float64)).sum())
    sentences = ds.sentences(reading_id, window_lead_s=cfg.window_lead_s,
                             trailing_words=cfg.trailing_words)
    windows = windows_from_tables(gaze, sentences, trim=cfg.trim,
                                  skip_empty_sentences=cfg.skip_empty_sentences,
                                  reading_id=reading_id)
    params = cfg.to_json()
    frames: list[Frame] = []
    rows: list[dict] = []
    for w in windows:
        wc = cluster_window(w, image_size, scale=cfg.scale, threshold=cfg.threshold,
                            eps=cfg.eps, min_samples=cfg.min_samples,
                            intensity_weight=cfg.intensity_weight, method=cfg.dbscan_method,
                            cluster_sigma_factor=cfg.cluster_sigma_factor,
                            render_sigma_factor=cfg.render_sigma_factor,
                            cluster_weighting=cfg.cluster_weighting,
                            render_heat=True, min_clusters_to_order=cfg.min_clusters_for_frames)
        base = {"reading_id": reading_id, "sentence_index": w.sentence_index, "text": w.text,
                "trailing": w.trailing, "t_start_s": w.t_start_s, "t_end_s": w.t_end_s,
                "window_start_s": w.window_start_s, "window_end_s": w.window_end_s,
                "n_clusters": wc.n_clusters, "n_raw": w.n_raw, "n_nan": w.n_nan,
                "n_trimmed": w.n_trimmed, "n_samples": w.n_samples,
                "n_offimage": wc.n_offimage, "n_nan_timestamp": n_nan_t,
                "status": wc.status, "film_width": film_wh[0], "film_height": film_wh[1],
                "frame_width": geom.frame_size[0], "frame_height": geom.frame_size[1],
                "recipe": cfg.recipe, "params": params}
        emitted = []   # (kind, rank, label, time, n_pixels, heat, box)
        if wc.n_clusters >= cfg.min_clusters_for_frames:
            for c in wc.clusters:
                norm = maps.render_frame_heat(c.heat)
                box = _boxes.cluster_box(c.heat, cfg.cluster_box_threshold, norm=norm)
                box = _boxes.shrink_box(box, cfg.shrink_cluster, cfg.shrink)
                emitted.append(("cluster", c.rank, c.label, c.time_s, c.n_pixels, norm, box))
        holistic = maps.attention_map(w, image_size, "paper", scale=cfg.scale,
                                      sigma_factor=cfg.render_sigma_factor, normalize="none")
        norm = maps.render_frame_heat(holistic)
        hbox = _boxes.holistic_box(holistic, cfg.holistic_top_percent,
                                   nonzero_floor=cfg.holistic_nonzero_floor, norm=norm)
        hbox = _boxes.shrink_box(hbox, cfg.shrink_holistic, cfg.shrink)
        emitted.append(("holistic", -1, -1, np.nan, wc.n_pixels, norm, hbox))
        for kind, rank, label, time_s, n_pix, norm, box in emitted:
            image = fit_frame(blend_frame(film, None, cfg.darkness, norm_heat=norm), geom)
            idx = len(frames) + 1
            frames.append(Frame(image=image, kind=kind, sentence_index=w.sentence_index,
                                cluster_rank=None if rank < 0 else rank, frame_index=idx))
            row = dict(base, frame_index=idx, frame_kind=kind, cluster_rank=rank,
                       cluster_label=label, cluster_time_s=float(time_s), n_pixels=int(n_pix),
                       n_noise_pixels=wc.n_noise, **_box_columns(box, cfg.scale, film_wh))
            rows.append({k: row[k] for k in ROW_COLUMNS})
    return frames, rows
