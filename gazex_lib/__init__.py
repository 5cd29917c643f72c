"""gazex_lib: the library behind the GazeX reproducibility book.

Layers (each imports only those on its left)::

    data -> gaze -> tasks -> model/train -> eval -> analysis -> viz -> notebooks -> book
"""
__version__ = "0.1.0"


def setup(profile: str = "ci", data_root=None, model_path=None, output_dir=None, seed: int = 0,
          **overrides):
    """The run object of a notebook: see :func:`gazex_lib.runtime.setup`."""
    from gazex_lib.runtime import setup as _setup

    return _setup(profile, data_root, model_path, output_dir, seed, **overrides)
