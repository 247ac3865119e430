"""``transphy3d.geometry.transforms``: quaternions (w first) to matrices and back, poses, uniform
random rotations, point transforms and rotation angles, with known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from transphy3d.geometry.transforms import (
    matrix_to_quaternion,
    pose_matrix,
    quaternion_to_matrix,
    random_quaternion,
    rotation_angle,
    transform_points,
)

S = math.sqrt(0.5)


@pytest.mark.parametrize(
    ("q", "matrix"),
    [
        ((1, 0, 0, 0), np.eye(3)),
        ((S, 0, 0, S), [[0, -1, 0], [1, 0, 0], [0, 0, 1]]),  # 90 degrees about z: x -> y
        ((0, 1, 0, 0), np.diag([1, -1, -1])),  # 180 degrees about x
        ((S, S, 0, 0), [[1, 0, 0], [0, 0, -1], [0, 1, 0]]),  # 90 degrees about x: y -> z
    ],
)
def test_known_rotations(q, matrix) -> None:
    np.testing.assert_allclose(quaternion_to_matrix(np.array(q, float)), matrix, atol=1e-12)
    np.testing.assert_allclose(quaternion_to_matrix(3.0 * np.array(q, float)), matrix, atol=1e-12)  # normalised
    np.testing.assert_allclose(matrix_to_quaternion(np.array(matrix, float)), q, atol=1e-12)


def test_matrix_to_quaternion_round_trips_with_w_non_negative() -> None:
    rng = np.random.default_rng(0)
    for _ in range(500):  # every branch of Shepperd's method is taken on random rotations
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        back = matrix_to_quaternion(quaternion_to_matrix(q))
        assert back[0] >= 0 and abs(np.linalg.norm(back) - 1) < 1e-12
        np.testing.assert_allclose(back, q if q[0] >= 0 else -q, atol=1e-9)


def test_pose_matrix_moves_points() -> None:
    pose = pose_matrix(np.array([1.0, 2.0, 3.0]), np.array([S, 0, 0, S]))
    assert pose.shape == (4, 4) and pose[3].tolist() == [0, 0, 0, 1]
    np.testing.assert_allclose(transform_points(pose, np.array([[1.0, 0, 0], [0, 0, 2.0]])), [[1, 3, 3], [1, 2, 5]])


def test_random_quaternions_are_uniform_rotations() -> None:
    """Unit, w >= 0, and uniform on SO(3): the rotation angle has density (1 - cos t) / pi, so
    its mean is pi/2 + 2/pi and a quarter of angles lie below 2.0 rad (CDF (t - sin t) / pi)."""
    rng = np.random.default_rng(1)
    qs = np.array([random_quaternion(rng) for _ in range(20000)])
    assert np.all(qs[:, 0] >= 0) and np.allclose(np.linalg.norm(qs, axis=1), 1)
    angles = 2 * np.arccos(np.clip(qs[:, 0], -1, 1))
    assert angles.mean() == pytest.approx(math.pi / 2 + 2 / math.pi, abs=0.02)
    assert np.mean(angles < 2.0) == pytest.approx((2.0 - math.sin(2.0)) / math.pi, abs=0.01)
    assert np.all(np.abs(qs[:, 1:].mean(axis=0)) < 0.02)  # no preferred axis


def test_random_quaternions_follow_the_generator() -> None:
    a = random_quaternion(np.random.default_rng(5))
    assert np.array_equal(a, random_quaternion(np.random.default_rng(5)))
    assert not np.array_equal(a, random_quaternion(np.random.default_rng(6)))


def test_rotation_angle() -> None:
    about_z = quaternion_to_matrix(np.array([math.cos(0.35), 0, 0, math.sin(0.35)]))
    assert rotation_angle(np.eye(3), about_z) == pytest.approx(0.7)
    assert rotation_angle(about_z, about_z) == pytest.approx(0.0, abs=1e-7)
    assert rotation_angle(np.eye(3), np.diag([1.0, -1, -1])) == pytest.approx(math.pi)
