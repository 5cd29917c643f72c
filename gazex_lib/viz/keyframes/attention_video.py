"""The key frames as an animated plotly figure (play / pause, a slider labelled by caption).

Units: the axes are in frame pixels (each embedded image may be area-downsampled, then
stretched back); ``frame_ms`` is milliseconds per frame when playing; grey levels uint8.
"""
from __future__ import annotations

import numpy as np

from gazex_lib.viz.style import require_image


def attention_video_plotly(frames, captions, downsample_to: int = 280, title: str | None = None,
                           frame_ms: int = 800):
    """An animated plotly figure of the key frames (play/pause, slider labelled by caption).

    ``frames``: :class:`~gazex_lib.gaze.keyframes.Frame` objects or (H, W[, 3]) uint8
    arrays, all the same shape; ``captions``: one string per frame. Each frame is embedded
    once as a greyscale PNG data URI, area-downsampled so its longer side is at most
    ``downsample_to`` px (about 40 kB per 224 × 280 frame); the axes stay in frame pixels.
    ``frame_ms``: time per frame when playing (milliseconds).
    """
    import plotly.graph_objects as go

    from gazex_lib.viz.scanpath import downsample_image, png_data_uri

    frames = list(frames) if frames is not None else []
    if not frames:
        raise ValueError("frames is empty")
    captions = list(captions)
    if len(captions) != len(frames):
        raise ValueError(f"need one caption per frame: {len(frames)} frames, "
                         f"{len(captions)} captions")
    if int(downsample_to) != downsample_to or downsample_to < 8:
        raise ValueError(f"downsample_to must be an integer >= 8, got {downsample_to!r}")
    images = []
    for i, f in enumerate(frames):
        im = require_image(getattr(f, "image", f), f"frames[{i}]")
        if im.ndim == 3:
            im = im[..., 0]
        if im.dtype != np.uint8:
            raise ValueError(f"frames[{i}] must be uint8, got {im.dtype}")
        images.append(im)
    shape = images[0].shape
    if any(im.shape != shape for im in images):
        raise ValueError("all frames must have the same shape")
    h, w = shape
    uris = [png_data_uri(downsample_image(im, int(downsample_to))) for im in images]
    sh, sw = downsample_image(images[0], int(downsample_to)).shape[:2]
    geo = dict(x0=0.5 * w / sw - 0.5, y0=0.5 * h / sh - 0.5, dx=w / sw, dy=h / sh)

    def image(k):
        return go.Image(source=uris[k], hoverinfo="skip", name="frame", **geo)

    fig = go.Figure(data=[image(0)])
    names = [f"k{k}" for k in range(len(frames))]
    fig.frames = [go.Frame(data=[image(k)], traces=[0], name=names[k]) for k in range(len(frames))]
    anim = dict(mode="immediate", frame=dict(duration=frame_ms, redraw=True),
                transition=dict(duration=0))
    steps = [dict(method="animate", label=str(c), args=[[nm], anim])
             for nm, c in zip(names, captions)]
    height = 560
    fig.update_layout(
        title=dict(text=title or f"Attention video ({len(frames)} key frames)", font=dict(size=14)),
        template="simple_white", height=height, width=int(round((height - 170) * w / h)) + 140,
        margin=dict(l=20, r=20, t=45, b=20),
        xaxis=dict(range=[-0.5, w - 0.5], visible=False, constrain="domain"),
        yaxis=dict(range=[h - 0.5, -0.5], autorange=False, visible=False,
                   scaleanchor="x", scaleratio=1, constrain="domain"),
        updatemenus=[dict(type="buttons", showactive=False, direction="left", x=0.0, y=0.0,
                          xanchor="left", yanchor="top", pad=dict(t=8, r=8),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(anim, fromcurrent=True)]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(mode="immediate",
                                                           frame=dict(duration=0, redraw=False),
                                                           transition=dict(duration=0))])])],
        sliders=[dict(active=0, steps=steps, x=0.0, len=1.0, y=-0.08, yanchor="top",
                      pad=dict(t=30), currentvalue=dict(prefix="", font=dict(size=12)),
                      font=dict(size=1, color="rgba(0,0,0,0)"))],
    )
    return fig
