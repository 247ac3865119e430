"""Readers and writers for the image files of the data contract (EXR, PNG)."""
