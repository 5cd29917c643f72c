"""Key frames: the darkened film lit by gaze heat, one video per reading.

Per sentence (official ``generate_enhanced_gaze_video_by_id``): one frame per cluster in
time order, only when the sentence has ``>= min_clusters_for_frames`` (paper: 2) clusters,
then one **holistic** frame (σ × 1.25 over all the window's samples). A sentence without
gaze still gets its holistic frame, with zero heat (a uniformly darkened film), so there is
exactly one holistic frame per sentence (our fix; see :mod:`gazex_lib.gaze.windows`).

**Blend** (:func:`blend_frame`): ``frame = uint8(film * (d + (1 - d) * h))`` with
``d = darkness`` (paper: 0.15, config ``gaze.darkness``) and ``h`` =
:func:`~gazex_lib.gaze.maps.render_frame_heat` of the raw heat, computed in float32 and
truncated to uint8 like the official numpy expression (``blend_dtype=np.float32``), then
repeated to 3 channels (RGB; the film is greyscale).

**Frame size** (:func:`fit_frame`): Qwen2-VL's video processor works on 28-px patches
(14-px patches merged 2 × 2). The profiles' ``fit="pad"`` (config ``gaze.frame_fit``) pads
the bottom and right edges with black (0) to the next multiple of ``multiple`` (28 px,
``gaze.frame_multiple``); the film keeps its pixels and its top-left origin, so a
box on the film grid is the same box on the frame (:meth:`FrameGeometry.box_to_frame` is the
identity for ``"pad"``); the padding is dark like the darkened film around the gaze.
``fit="crop"`` drops the bottom/right remainder (boxes are clipped); ``fit="none"`` keeps
the official ``W // 4 × H // 4`` size. Qwen 0-1000 coordinates in the key-frame table are
relative to the film (content) size, not to the padded frame: use
:meth:`FrameGeometry.qwen1000_reference` to choose.

**frame_index** (:func:`frame_index`): per reading, the cumulative 1-based frame count at
each holistic frame (the official list), e.g. clusters ``[2, 0, 3]`` -> frames per sentence
``[3, 1, 4]`` -> ``[3, 4, 8]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gazex_lib.gaze.maps import render_frame_heat

__all__ = ["Frame", "FrameGeometry", "FIT_MODES", "QWEN_PATCH", "blend_frame", "fit_frame",
           "frame_geometry", "frame_index", "write_video"]

FIT_MODES = ("pad", "crop", "none")
#: Qwen2-VL: patch 14 px, 2 × 2 spatial merge.
QWEN_PATCH = 28


@dataclass(frozen=True)
class FrameGeometry:
    """How a film of ``content_size`` (width, height) becomes a frame of ``frame_size``."""
    content_size: tuple[int, int]
    frame_size: tuple[int, int]
    fit: str

    @property
    def pad(self) -> tuple[int, int]:
        """Pixels added on the right and at the bottom (negative: cropped)."""
        return (self.frame_size[0] - self.content_size[0],
                self.frame_size[1] - self.content_size[1])

    def box_to_frame(self, box: tuple) -> tuple:
        """A film-grid box ``(x_min, y_min, x_max, y_max, ...)`` on the frame (same origin;
        clipped to the frame for ``"crop"``)."""
        if self.fit != "crop" or box is None:
            return box
        w, h = self.frame_size
        lim = (w - 1, h - 1, w - 1, h - 1, w - 1, h - 1)
        return tuple(min(max(v, 0), m) for v, m in zip(box, lim))

    def qwen1000_reference(self, relative_to: str = "content") -> tuple[int, int]:
        """The (width, height) that 0-1000 coordinates are relative to."""
        if relative_to not in ("content", "frame"):
            raise ValueError(f"relative_to must be 'content' or 'frame', got {relative_to!r}")
        return self.content_size if relative_to == "content" else self.frame_size


def frame_geometry(film_shape, fit: str, multiple: int) -> FrameGeometry:
    """Geometry for a film of shape ``(H, W)``: ``fit`` one of :data:`FIT_MODES` (profiles:
    ``"pad"``), ``multiple`` the side multiple in px (profiles: 28 = :data:`QWEN_PATCH`)."""
    if fit not in FIT_MODES:
        raise ValueError(f"fit must be one of {FIT_MODES}, got {fit!r}")
    if int(multiple) != multiple or multiple < 1:
        raise ValueError(f"multiple must be a positive integer, got {multiple!r}")
    h, w = int(film_shape[0]), int(film_shape[1])
    if fit == "pad":
        size = (-(-w // multiple) * multiple, -(-h // multiple) * multiple)
    elif fit == "crop":
        size = (w // multiple * multiple, h // multiple * multiple)
        if 0 in size:
            raise ValueError(f"film {w}x{h} is smaller than one {multiple}-px patch; use 'pad'")
    else:
        size = (w, h)
    return FrameGeometry(content_size=(w, h), frame_size=size, fit=fit)


def fit_frame(frame: np.ndarray, geometry: FrameGeometry) -> np.ndarray:
    """Pad (black, bottom/right) or crop (bottom/right) ``frame`` (H, W[, C]) to the geometry."""
    w, h = geometry.frame_size
    if geometry.fit == "none" or frame.shape[:2] == (h, w):
        return frame
    if geometry.fit == "crop":
        return np.ascontiguousarray(frame[:h, :w])
    out = np.zeros((h, w) + frame.shape[2:], dtype=frame.dtype)
    out[:frame.shape[0], :frame.shape[1]] = frame
    return out


def blend_frame(film: np.ndarray, raw_heat: np.ndarray | None, darkness: float, *,
                blend_dtype=np.float32, channels: int = 3,
                norm_heat: np.ndarray | None = None) -> np.ndarray:
    """``uint8(film * (darkness + (1 - darkness) * render_frame_heat(raw_heat)))``.

    ``darkness``: the share of the film's brightness kept where there is no gaze, in [0, 1]
    (paper: 0.15, ``gaze.darkness``). ``film``: (H, W) uint8 greyscale on the heat's grid;
    ``raw_heat``: the raw Gaussian sum (``None`` or all-zero: a uniformly darkened film);
    ``norm_heat``: the already log-normalised heat, used instead of ``raw_heat`` when given.
    Returns (H, W, channels) uint8.
    """
    film = np.asarray(film)
    if film.ndim != 2 or film.dtype != np.uint8:
        raise ValueError(f"film must be a 2-D uint8 greyscale array, got {film.dtype} "
                         f"{film.shape}")
    if not 0 <= darkness <= 1:
        raise ValueError(f"darkness must be in [0, 1], got {darkness!r}")
    heat = norm_heat if norm_heat is not None else raw_heat
    if heat is None:
        h = np.zeros(film.shape, dtype=blend_dtype)
    else:
        if heat.shape != film.shape:
            raise ValueError(f"heat shape {heat.shape} != film shape {film.shape}")
        h = np.asarray(heat if norm_heat is not None else render_frame_heat(heat),
                       dtype=blend_dtype)
    d = blend_dtype(darkness)
    factor = d + blend_dtype(1 - darkness) * h
    value = film.astype(blend_dtype) * factor
    grey = np.clip(value, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], channels, axis=2) if channels > 1 else grey


def frame_index(frames_per_sentence) -> list[int]:
    """Cumulative 1-based frame count at the end of each sentence (its holistic frame)."""
    return [int(v) for v in np.cumsum(np.asarray(frames_per_sentence, dtype=np.int64))]


@dataclass
class Frame:
    """One key frame and what it shows."""
    image: np.ndarray = field(repr=False)   #: (H, W, 3) uint8, fitted to the geometry
    kind: str                               #: "cluster" or "holistic"
    sentence_index: int
    cluster_rank: int | None = None         #: 0-based time rank (cluster frames)
    frame_index: int = 0                    #: 1-based position in the reading's video


def write_video(frames, path, fps: float = 1.0) -> Path:
    """Write frames (arrays or :class:`Frame`) to ``.mp4`` (OpenCV ``mp4v``, official) or
    ``.gif`` (PIL, ``1000 / fps`` ms per frame), for viewing. Returns the path."""
    path = Path(path)
    images = [f.image if isinstance(f, Frame) else np.asarray(f) for f in frames]
    if not images:
        raise ValueError("no frames to write")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    shape = images[0].shape
    if any(im.shape != shape for im in images):
        raise ValueError("all frames must have the same shape")
    images = [im if im.ndim == 3 else np.repeat(im[:, :, None], 3, axis=2) for im in images]
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        from PIL import Image

        pil = [Image.fromarray(im) for im in images]
        pil[0].save(path, save_all=True, append_images=pil[1:], duration=int(1000 / fps),
                    loop=0)
    elif suffix == ".mp4":
        import cv2

        h, w = shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
        if not writer.isOpened():
            raise OSError(f"OpenCV could not open a mp4v writer for {path}")
        try:
            for im in images:
                writer.write(np.ascontiguousarray(im[:, :, ::-1]))   # RGB -> BGR
        finally:
            writer.release()
    else:
        raise ValueError(f"video path must end in .mp4 or .gif, got {path.name!r}")
    return path
