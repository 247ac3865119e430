"""Geometry in pure numpy: rigid transforms, the camera model and the orbit, optical flow."""
