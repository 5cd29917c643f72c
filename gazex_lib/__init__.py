"""gazex_lib: the library behind the GazeX reproducibility book.

Layers (each imports only those on its left)::

    data -> gaze -> tasks -> model/train -> eval -> analysis -> viz -> notebooks -> book
"""
__version__ = "0.1.0"
