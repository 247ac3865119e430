"""The depth cameras the simulated sensor can be (``sensor.preset``): every published figure in
one place, with where it comes from.

Sources:
- [DS] Intel RealSense D400 Series Product Family Datasheet (document 337029; the 2017 revision
  0.7 and later ones): depth field of view, maximum IR resolution, minimum depth at that
  resolution, projector field of projection, 850 nm emitter, range up to about 10 m; the left
  invalid depth band is f * B / Z pixels wide (what the left imager sees and the right one does
  not). The sheet itself could not be opened from this project's machines; its figures were
  taken from the sources below, which quote or reproduce them.
- [ROS] Intel's ROS description of the cameras (IntelRealSense/realsense-ros,
  ``realsense2_description/urdf/_d415.urdf.xacro`` and ``_d435.urdf.xacro``, the nominal
  extrinsics used in simulation): right imager 55 mm (D415) / 50 mm (D435) from the left one,
  colour camera 15 mm from the left imager on the side away from the right one.
- [FR] FRAMOS' D435e manual (built on Intel's D430 module): wide projector 86 x 57 degrees
  (+-3), 850 nm, VCSEL static pattern.
- [PP] Intel's product pages of the cameras (intelrealsense.com): ideal range 0.5 to 3 m (D415)
  and 0.3 to 3 m (D435), depth accuracy under 2 % at 2 m.
- [TW] Intel's white paper "Tuning depth cameras for best performance" (D400): the D4 vision
  processor searches a fixed range of about 126 disparities (so min-Z falls with resolution).
- [DREDS] PKU-EPIC/DREDS ``DepthSensorSimulator``: a D415 simulated with a 55 mm baseline, a
  71.28 degree horizontal field of view (measured, wider than the datasheet's 65) and an
  emitter halfway between the imagers; ambient IR at 7 % of the visible environment.

Where a sheet gives a tolerance (65 +- 2 degrees) the nominal value is used. The test
``tests/sensor/test_sensor_unit.py`` checks that f * B / 126 at 1280 px reproduces each min-Z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

SensorPreset = Literal["d415", "d435"]
SENSOR_PRESETS: tuple[str, ...] = get_args(SensorPreset)
DISPARITY_SEARCH = 128  # [TW] ~126, rounded up to a multiple of 16 (OpenCV's StereoSGBM needs one)


@dataclass(frozen=True)
class PresetInfo:
    """A depth camera's published figures (camera frame: OpenCV, x to the camera's right)."""

    name: str
    baseline_m: float  # [DS], [ROS] left to right imager
    ir_hfov_deg: float  # [DS] depth field of view at 16:9, horizontal
    ir_vfov_deg: float  # [DS] ... vertical
    ir_max_width: int  # [DS] 1280 x 720 at most
    ir_max_height: int
    min_depth_m: float  # [DS] min-Z at the maximum resolution
    max_depth_m: float  # [DS] "up to 10 m", varies with calibration, scene and lighting
    ideal_max_depth_m: float  # [PP] far end of the ideal range, where the accuracy is specified
    projector_hfov_deg: float  # [DS], [FR] field of projection, horizontal
    projector_vfov_deg: float  # [DS] ... vertical
    rgb_offset_m: float  # [ROS] RGB camera along x from the left imager
    emitter_offset_m: float  # projector along x from the left imager ([DREDS]: halfway)
    wavelength_nm: float = 850.0  # [DS]

    def focal_px(self, width: int) -> float:
        """The IR cameras' focal length in pixels at ``width`` pixels across (square pixels)."""
        return width / 2.0 / math.tan(math.radians(self.ir_hfov_deg) / 2.0)

    def min_depth_at(self, width: int, disparities: int = DISPARITY_SEARCH) -> float:
        """The nearest depth ``disparities`` can reach at ``width``: f * B / d_max."""
        return self.focal_px(width) * self.baseline_m / disparities


PRESETS: dict[str, PresetInfo] = {
    "d415": PresetInfo(
        name="d415",
        baseline_m=0.055,
        ir_hfov_deg=65.0,
        ir_vfov_deg=40.0,
        ir_max_width=1280,
        ir_max_height=720,
        min_depth_m=0.45,
        max_depth_m=10.0,
        ideal_max_depth_m=3.0,
        projector_hfov_deg=67.0,
        projector_vfov_deg=41.0,
        rgb_offset_m=-0.015,
        emitter_offset_m=0.0275,
    ),
    "d435": PresetInfo(
        name="d435",
        baseline_m=0.050,
        ir_hfov_deg=87.0,
        ir_vfov_deg=58.0,
        ir_max_width=1280,
        ir_max_height=720,
        min_depth_m=0.28,
        max_depth_m=10.0,
        ideal_max_depth_m=3.0,
        projector_hfov_deg=86.0,
        projector_vfov_deg=57.0,
        rgb_offset_m=-0.015,
        emitter_offset_m=0.025,
    ),
}
