"""Prompt texts of the gaze pretraining tasks: the official ones verbatim, and our clean defaults.

**Official** (``prompt_style="official"``): quoted verbatim, as data, from the GazeX
repository, ``KennyLee123/GazeX`` ``preprocessing_scripts/Create_Training_Data.py``
(commit ``b21d29e3f95487b1b0b6cb219844dbc210a137ba``), MIT-licensed work of Kinhei Lee et al.
Only the f-string fields are renamed (``{n_frames}``, ``{sentence}``); ``<video>`` and
``<image>`` are LLaMA-Factory's placeholders, kept where the official strings put them
(:func:`~gazex_lib.tasks.records.to_content` turns them into Qwen2-VL content items).

====  ===================  ==============================================================
T1    GTM, video + image   :data:`OFFICIAL_GTM_VIDEO` (``{n_frames}`` = frames of the video)
T2    GTM, image only      :data:`OFFICIAL_GTM_IMAGE`
T3    GTM, sentence clip   :data:`OFFICIAL_GTM_CLIP`
T4    FVP                  :data:`OFFICIAL_FVP_CLUES` (>= 1 clue box), else
                           :data:`OFFICIAL_FVP_NO_CLUES` (the prompt itself tells whether
                           the answer has clues: a leak we do not copy in the clean style)
T5    SDA, global          :data:`OFFICIAL_SDA_GLOBAL`
T6    SDA, per finding     :data:`OFFICIAL_SDA_FINDING`
====  ===================  ==============================================================

**Clean** (``prompt_style="clean"``, our default): same tasks, same placeholder order, with
the grammar fixed, the answer format stated exactly as the target writes it (coordinates,
order format), one FVP prompt whether or not the answer has clues, and sentences
detokenised (``"no effusion ."`` -> ``"no effusion."``).
"""
from __future__ import annotations

__all__ = [
    "PROMPT_STYLES", "OFFICIAL_SOURCE", "OFFICIAL_GTM_VIDEO", "OFFICIAL_GTM_IMAGE",
    "OFFICIAL_GTM_CLIP", "OFFICIAL_FVP_CLUES", "OFFICIAL_FVP_NO_CLUES", "OFFICIAL_SDA_GLOBAL",
    "OFFICIAL_SDA_FINDING", "CLEAN_GTM_VIDEO", "CLEAN_GTM_IMAGE", "CLEAN_GTM_CLIP", "CLEAN_FVP",
    "CLEAN_SDA_GLOBAL", "CLEAN_SDA_FINDING", "CLEAN_FVP_COORDS", "CLEAN_ORDER_INSTRUCTIONS",
    "CLEAN_DESCRIBE_INSTRUCTION", "CLEAN_GTM_PATH", "OFFICIAL_INFERENCE_PROMPT", "check_style", "clean_fvp_coords",
]

PROMPT_STYLES = ("official", "clean")

OFFICIAL_SOURCE = ("KennyLee123/GazeX, preprocessing_scripts/Create_Training_Data.py, commit "
                   "b21d29e3f95487b1b0b6cb219844dbc210a137ba (quoted verbatim)")

# --- official (verbatim) ---------------------------------------------------------------------
OFFICIAL_GTM_VIDEO = (
    "<video>This video contains {n_frames} frames of a radiologist's eye-tracking data while "
    "examining an X-ray image. Each frame shows where the radiologist focused their gaze at "
    "that point in time. <image> This is the corresponding X-ray image. Using the gaze patterns "
    "and the image, generate a detailed description or diagnosis that reflects the "
    "radiologist's interpretation, guided by their attention over time.")

OFFICIAL_GTM_IMAGE = (
    "<image> Given an X-ray image, using the radiologist's interpretation pattern, generate a "
    "detailed description or diagnosis for the image.")

OFFICIAL_GTM_CLIP = (
    "<video>This video contains a radiologist's gazing data while examining an X-ray image "
    "<image>. Each frame shows where the radiologist focused their gaze at that point in time. "
    "Generate a description that reflects the radiologist's interpretation, guided by their "
    "attention over time.")

_OFFICIAL_FVP_HEAD = (
    "<image>Given an X-ray image and a radiologist's description '{sentence}', mimic a "
    "radiologist's interpretation pattern to identify visual clues and an overall observation "
    "area. Analyze the image to detect relevant features (e.g., abnormal opacities, fractures, "
    "lesions, or other radiological findings) that correspond to the provided description. ")
_OFFICIAL_FVP_TAIL = (
    " in the format of bounding boxes and centroids, using the structure: 'visual clues: "
    "[(xmin1, ymin1)(xmax1, ymax1)(centroidx1, centroidy1), (xmin2, ymin2)(xmax2, ymax2)"
    "(centroidx2, centroidy2), ...], observation: [(xmin, ymin)(xmax, ymax)(centroidx, "
    "centroidy)]'.")
OFFICIAL_FVP_CLUES = (_OFFICIAL_FVP_HEAD + "Output as much visual clues to support your "
                      "observation and generate only one observation area" + _OFFICIAL_FVP_TAIL)
OFFICIAL_FVP_NO_CLUES = (_OFFICIAL_FVP_HEAD + "Output visual clues and observation area"
                         + _OFFICIAL_FVP_TAIL)

OFFICIAL_SDA_GLOBAL = (
    "<video>Given a shuffled radiologist's eye-tracking video with {n_frames} frames, which "
    "captures how a radiologist examines an X-ray image, analyze the video to identify the "
    "correct sequence of frames and the specific regions of the X-ray attended by the "
    "radiologist's gaze in each frame. <image> Using the provided X-ray image and knowledge of "
    "a radiologist's eye-tracking pattern, first generate the accurate sequence of frames for "
    "the eye-tracking video. Then, provide a detailed description of the X-ray image, ensuring "
    "the number of descriptions matches the number of frames in the eye-tracking video. "
    "Provide your answer in the following format "
    "<seq>32145</seq><description>description1,description2,...</descriptions>.")

OFFICIAL_SDA_FINDING = (
    "<video>Given a shuffled radiologist's eye-tracking video with {n_frames} frames, which "
    "captures how a radiologist examines an X-ray image for description '{sentence}', analyze "
    "the video to identify the correct sequence of gazing to reach the diagnosis. Provide your "
    "answer in the following format <seq>32145</seq>, where the first index number you "
    "provided should be the frame to be analyzed first.")

#: ``model_inference/basic_examine_chest_xray.json`` (differs from T2; for reference only).
OFFICIAL_INFERENCE_PROMPT = ("Given an X-ray image, mimic a radiologist's eye-tracking pattern "
                             "and generate a description of the image.")

# --- clean (ours) ----------------------------------------------------------------------------
CLEAN_GTM_VIDEO = (
    "<video>This video shows {n_frames} frames of a radiologist's eye-tracking data, in the "
    "order they looked, while reading a chest X-ray. Each frame highlights where the gaze "
    "rested at that point of the reading. <image>This is the X-ray image. Using the gaze "
    "sequence and the image, write the radiologist's report.")

CLEAN_GTM_IMAGE = ("<image>Given this chest X-ray image, follow a radiologist's reading "
                   "pattern and write the report.")

CLEAN_GTM_CLIP = (
    "<video>This video shows {n_frames} frames of where a radiologist looked, in order, while "
    "dictating one finding about a chest X-ray. <image>This is the X-ray image. Write the "
    "finding the radiologist dictated.")

#: ``{coords}`` comes from :data:`CLEAN_FVP_COORDS`.
CLEAN_FVP = (
    "<image>Given this chest X-ray image and a radiologist's finding '{sentence}', show where "
    "the radiologist looked. List the visual clues (one box per gaze cluster, in the order they "
    "were viewed; an empty list when the gaze formed a single cluster), then one overall "
    "observation area. {coords} Answer as 'visual clues: [(x1,y1),(x2,y2),(cx,cy); ...] "
    "observation: [(x1,y1),(x2,y2),(cx,cy)]'.")

CLEAN_FVP_COORDS = {
    "q1000": ("Coordinates are integers on a 0-1000 grid over the image (x from the left, y "
              "from the top): top-left corner, bottom-right corner, then the gaze centroid."),
    "q<N>": ("Coordinates are integers on a 0-{steps} grid over the image (x from the left, y "
             "from the top): top-left corner, bottom-right corner, then the gaze centroid."),
    "official_px": ("Coordinates are integer pixels of the image (x from the left, y from the "
                    "top): top-left corner, bottom-right corner, then the gaze centroid."),
}

#: ``{order}`` of the SDA prompts, by ``order_format``.
CLEAN_ORDER_INSTRUCTIONS = {
    "ranks": ("Recover the order in which the radiologist looked: answer <seq>p1,p2,...</seq>, "
              "where p1 is the position (1 to {n_frames}) in the shuffled video of the frame "
              "viewed first, p2 that of the frame viewed second, and so on."),
    "official": ("Answer <seq>i1i2...</seq>: for each frame of the shuffled video, in the order "
                 "shown, its place in the radiologist's viewing order (0 = viewed first), "
                 "digits concatenated."),
}

CLEAN_DESCRIBE_INSTRUCTION = (" Then give the sentence the radiologist dictated for each frame, "
                              "in viewing order, each as <description>...</description>.")

CLEAN_SDA_GLOBAL = (
    "<video>This video shows {n_frames} gaze frames of a radiologist reading a chest X-ray, "
    "one per dictated sentence, in shuffled order. <image>This is the X-ray image. {order}")

CLEAN_SDA_FINDING = (
    "<video>This video shows {n_frames} gaze frames of a radiologist examining a chest X-ray "
    "for the finding '{sentence}', in shuffled order. {order}")

#: GTM path (ours, :mod:`gazex_lib.tasks.path`; no official counterpart, so one style).
CLEAN_GTM_PATH = (
    "<image>A radiologist reading this chest X-ray dictated these {n} sentences, in order: "
    "{sentences} For each sentence, in order, give the point the radiologist's gaze was "
    "centred on while dictating it, as integers on a 0-{steps} grid over the image (x from the "
    "left, y from the top). Answer as '<path>1:(x1,y1),2:(x2,y2),...</path>' with {n} points.")


def clean_fvp_coords(coords: str) -> str:
    """The coordinate sentence of :data:`CLEAN_FVP` for ``coords`` (``q1000``,
    ``official_px`` or any ``q<N>``)."""
    if coords in CLEAN_FVP_COORDS:
        return CLEAN_FVP_COORDS[coords]
    from gazex_lib.tasks.coords import grid_steps

    return CLEAN_FVP_COORDS["q<N>"].format(steps=grid_steps(coords))


def check_style(prompt_style: str) -> str:
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"prompt_style must be one of {PROMPT_STYLES}, got {prompt_style!r}")
    return prompt_style
