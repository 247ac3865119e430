"""Camera math in pure numpy: intrinsics, OpenCV/Blender conventions, the orbit path, projection.

Conventions (also in docs/format.md):
- World: z up, metres.
- Camera: OpenCV (x right, y down, z forward). Blender cameras look along their -z with y up;
  ``BLENDER_TO_OPENCV`` converts between the two camera frames.
- Pixels: (u, v) = (column, row) with the centre of the top-left pixel at (0, 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLENDER_TO_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])


def intrinsics(width: int, height: int, focal_length_mm: float, sensor_width_mm: float) -> np.ndarray:
    """3x3 K of a Blender camera with horizontal sensor fit, square pixels and no lens shift."""
    fx = focal_length_mm / sensor_width_mm * width
    return np.array([[fx, 0.0, width / 2.0 - 0.5], [0.0, fx, height / 2.0 - 0.5], [0.0, 0.0, 1.0]], dtype=np.float64)


WORLD_UP = np.array([0.0, 0.0, 1.0])


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = WORLD_UP) -> np.ndarray:
    """camera_to_world (OpenCV frame) of a camera at ``eye`` looking at ``target``, no roll."""
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:  # looking straight up or down: pick any right vector
        right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    camera_to_world = np.eye(4)
    camera_to_world[:3, 0] = right
    camera_to_world[:3, 1] = down
    camera_to_world[:3, 2] = forward
    camera_to_world[:3, 3] = eye
    return camera_to_world


def invert_rigid(matrix: np.ndarray) -> np.ndarray:
    """Inverse of rigid 4x4 transforms (..., 4, 4)."""
    rotation = matrix[..., :3, :3]
    inverse = np.zeros_like(matrix)
    inverse[..., :3, :3] = np.swapaxes(rotation, -1, -2)
    inverse[..., :3, 3] = -np.einsum("...ji,...j->...i", rotation, matrix[..., :3, 3])
    inverse[..., 3, 3] = 1.0
    return inverse


def opencv_to_blender_camera_to_world(camera_to_world_cv: np.ndarray) -> np.ndarray:
    """Blender camera object's matrix_world from an OpenCV camera_to_world."""
    return camera_to_world_cv @ BLENDER_TO_OPENCV


def project(K: np.ndarray, world_to_camera: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (N, 2) and planar depths (N,) of world points (N, 3)."""
    points = np.asarray(points, dtype=np.float64)
    cam = points @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (cam @ K.T)[:, :2] / z[:, None]
    return uv, z


def pixel_rays(K: np.ndarray, width: int, height: int) -> np.ndarray:
    """Camera-frame ray directions (H, W, 3) through pixel centres, scaled to z = 1."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    ones = np.ones_like(u)
    pixels = np.stack([u, v, ones], axis=-1)
    return pixels @ np.linalg.inv(K).T


def unproject(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Camera-frame points (H, W, 3) of a planar depth map."""
    return pixel_rays(K, depth.shape[1], depth.shape[0]) * depth[..., None]


@dataclass(frozen=True)
class Wave:
    """A sinusoid a * sin(2 pi f t + phase), t in [0, 1] over the clip; f in cycles per clip."""

    amplitude: float
    frequency: float
    phase: float

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return self.amplitude * np.sin(2.0 * np.pi * self.frequency * t + self.phase)


@dataclass(frozen=True)
class Orbit:
    """A circular orbit with sinusoidal perturbations (all values resolved, see SceneSpec.camera).

    At clip time t in [0, 1]:
      azimuth(t) = start + direction * sweep * t
      radius(t)  = radius * (1 + radius_wave(t))                (relative perturbation)
      height(t)  = height + height_wave(t)                       (metres above the centre)
      eye(t)     = centre + distance_scale * (radius(t) cos az, radius(t) sin az, height(t))
      target(t)  = centre + look_at_offset + (look_x(t), look_y(t), look_z(t))
    """

    radius: float
    height: float
    start_azimuth: float  # radians
    sweep: float  # radians
    direction: int  # +1 counter-clockwise seen from above, -1 clockwise
    radius_wave: Wave
    height_wave: Wave
    look_waves: tuple[Wave, Wave, Wave]
    look_at_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def eyes_and_targets(
        self, centre: np.ndarray, num_frames: int, distance_scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        t = clip_times(num_frames)
        azimuth = self.start_azimuth + self.direction * self.sweep * t
        radius = self.radius * (1.0 + self.radius_wave(t))
        height = self.height + self.height_wave(t)
        offset = np.stack([radius * np.cos(azimuth), radius * np.sin(azimuth), height], axis=-1)
        eyes = np.asarray(centre, dtype=np.float64) + distance_scale * offset
        look = np.stack([w(t) for w in self.look_waves], axis=-1)
        targets = np.asarray(centre, dtype=np.float64) + np.asarray(self.look_at_offset) + look
        return eyes, targets

    def world_to_camera(self, centre: np.ndarray, num_frames: int, distance_scale: float = 1.0) -> np.ndarray:
        """(F, 4, 4) world_to_camera matrices (OpenCV) along the path."""
        eyes, targets = self.eyes_and_targets(centre, num_frames, distance_scale)
        camera_to_world = np.stack([look_at(e, g) for e, g in zip(eyes, targets, strict=True)])
        return invert_rigid(camera_to_world)


def clip_times(num_frames: int) -> np.ndarray:
    """Normalised clip time of each frame: 0 at the first frame, 1 at the last."""
    if num_frames <= 1:
        return np.zeros(max(num_frames, 0))
    return np.arange(num_frames, dtype=np.float64) / (num_frames - 1)


def points_in_view(
    K: np.ndarray, world_to_camera: np.ndarray, points: np.ndarray, width: int, height: int, margin: float
) -> bool:
    """True if every point lies in front of the camera and inside the image shrunk by ``margin``
    (a fraction of the image size) on every side, in every frame."""
    mx, my = margin * width, margin * height
    for w2c in np.atleast_3d(world_to_camera).reshape(-1, 4, 4):
        uv, z = project(K, w2c, points)
        if np.any(z <= 1e-6):
            return False
        u, v = uv[:, 0], uv[:, 1]
        if (
            np.any(u < mx - 0.5)
            or np.any(u > width - 0.5 - mx)
            or np.any(v < my - 0.5)
            or np.any(v > height - 0.5 - my)
        ):
            return False
    return True


def fit_distance_scale(
    orbit: Orbit,
    centre: np.ndarray,
    points: np.ndarray,
    K: np.ndarray,
    width: int,
    height: int,
    num_frames: int,
    margin: float,
    max_scale: float = 20.0,
) -> float:
    """The smallest distance scale >= 1 (in steps of 5%) that keeps ``points`` in view all along
    the path; ``max_scale`` if none does."""
    scale = 1.0
    while scale < max_scale:
        if points_in_view(K, orbit.world_to_camera(centre, num_frames, scale), points, width, height, margin):
            return scale
        scale *= 1.05
    return max_scale
