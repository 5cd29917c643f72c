"""Readers for the PhysioNet layouts (REFLACX, MIMIC-CXR-JPG, MIMIC-CXR reports) and the
synthetic generator that writes the same layouts."""
