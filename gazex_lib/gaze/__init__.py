"""Gaze key frames: sentence windows, attention maps, clustering, ordered frames, boxes.

The official GazeX preprocessing (``Generate_Attention_Videos_Phase_*.py`` and
``Bounding_Box_Centroid_Phase_*.py``), reimplemented exactly and vectorised:

* :func:`sentence_windows` (:mod:`.windows`): the gaze samples behind each sentence;
* :func:`attention_map` (:mod:`.maps`): ``"paper"`` and ``"reflacx"`` recipes;
* :func:`cluster_pixels` (:mod:`.dbscan`) and :func:`cluster_window` (:mod:`.clusters`):
  DBSCAN on the clustering map, clusters ordered in time;
* :mod:`.keyframes`: frames (blend, 28-px fit), ``frame_index``, :func:`write_video`;
* :mod:`.boxes`: cluster / holistic boxes, centroids, shrink, coordinate spaces;
* :func:`reading_keyframes` (:mod:`.pipeline`): one reading -> frames + table rows.

The recipe's values (the paper's, in ``configs/*.yaml``, section ``gaze``) are required
arguments everywhere; :func:`cluster_params` and :func:`dbscan_params` read the clustering
ones from ``load_config(profile).gaze`` or a :class:`KeyframeConfig`.
"""
from gazex_lib.gaze.boxes import (
    Box, box_coordinates, cluster_box, from_qwen1000, holistic_box, shrink_box, to_qwen1000,
    top_percent_box, threshold_box, weighted_centroid,
)
from gazex_lib.gaze.clusters import Cluster, WindowClustering, cluster_params, cluster_window
from gazex_lib.gaze.dbscan import PixelClusters, cluster_pixels, dbscan_params, fixation_dbscan
from gazex_lib.gaze.keyframes import (
    Frame, FrameGeometry, blend_frame, fit_frame, frame_geometry, frame_index, write_video,
)
from gazex_lib.gaze.maps import MapInfo, attention_map, render_frame_heat, scaled_shape
from gazex_lib.gaze.pipeline import KeyframeConfig, load_film, reading_keyframes
from gazex_lib.gaze.windows import SentenceWindow, sentence_windows, windows_table

__all__ = [
    "attention_map", "render_frame_heat", "scaled_shape", "MapInfo",
    "sentence_windows", "SentenceWindow", "windows_table",
    "cluster_pixels", "dbscan_params", "fixation_dbscan", "PixelClusters", "cluster_window",
    "cluster_params", "Cluster", "WindowClustering",
    "blend_frame", "fit_frame", "frame_geometry", "frame_index", "write_video", "Frame",
    "FrameGeometry",
    "Box", "cluster_box", "holistic_box", "threshold_box", "top_percent_box",
    "weighted_centroid", "shrink_box", "box_coordinates", "to_qwen1000", "from_qwen1000",
    "reading_keyframes", "KeyframeConfig", "load_film",
]
