"""The simulated depth camera's processing, in numpy and OpenCV: IR images as the imagers
record them (``ir``), stereo matching to depth (``stereo``), registration onto the RGB camera's
pixel grid (``register``), agreement with the exact depth (``agreement``), the per-frame
conversion of a render into ``raw_depth/`` (``convert``) and matching again on kept IR images
with other settings (``rematch``)."""
