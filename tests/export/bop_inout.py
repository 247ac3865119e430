# ruff: noqa
# fmt: off
"""The loaders of bop_toolkit's ``bop_toolkit_lib/inout.py`` (github thodan/bop_toolkit, commit
cea62d651c7e395b2e1962b9749e4e89693c6ac4, MIT licence, Copyright (c) 2019 Tomas Hodan), copied
verbatim for the BOP export's read-back test: bop_toolkit is not on PyPI. Only ``misc.log`` is
replaced (by ``print``) and the imports the loaders do not use are left out."""

import gzip
import struct
from pathlib import Path
from typing import Union

import imageio.v2 as iio
import json
import numpy as np


class misc:
    log = staticmethod(print)


def load_depth(path: Union[str,Path]):
    """Loads a depth image from a file.

    :param path: Path to the depth image file to load.
    :return: ndarray with the loaded depth image.
    """
    return iio.imread(path).astype(np.float32)



def load_json(path: Union[str,Path], keys_to_int=False):
    """Loads content of a JSON file.

    :param path: Path to the JSON file. If ".json.gz" extension, opens with gzip.
    :return: Content of the loaded JSON file.
    """
    path = Path(path)
    assert path.as_posix().endswith(('.json', '.json.gz')), f"{path} should end with .json or .json.gz extension"

    # Keys to integers.
    def convert_keys_to_int(x):
        return {int(k) if k.lstrip("-").isdigit() else k: v for k, v in x.items()}
    
    # Open+decompress with gzip if ".json.gz" file extension
    if path.as_posix().endswith('.json.gz'):
        f = gzip.open(path, "rt", encoding="utf8")
    else:
        f = open(path, "r")
    if keys_to_int:
        content = json.load(f, object_hook=lambda x: convert_keys_to_int(x))
    else:
        content = json.load(f)

    f.close()

    return content



def _camera_as_numpy(camera: dict):
    """Convert fields from scene camera from native python to numpy.

    See docs/bop_datasets_format.md for details.
    Note: "cam_K" and "cam_model" are mutually exclusive and raise a ValueError.

    :param camera: Dictionnary containing
    - 'cam_R_w2c': orientation of world frame in camera frame
    - 'cam_t_w2c': position of world frame in camera frame
    - 'cam_K': IF BOP19 format, camera pinhole intrinsics parameters
    - 'cam_model': IF BOP24 format
    :return: Dictionnary with same keys and flat lists field as numpy arrays 
    """
    if "cam_K" in camera and "cam_model" in camera:
        raise ValueError("Only one of 'cam_K', 'cam_model' field should be present in a scene camera configuration")
    if "cam_K" in camera.keys():
        camera["cam_K"] = np.array(camera["cam_K"], np.float64).reshape((3, 3))
    if "cam_R_w2c" in camera.keys():
        camera["cam_R_w2c"] = np.array(camera["cam_R_w2c"], np.float64).reshape((3, 3))
    if "cam_t_w2c" in camera.keys():
        camera["cam_t_w2c"] = np.array(camera["cam_t_w2c"], np.float64).reshape((3, 1))
    if "cam_model" in camera:
        camera["cam_model"]["projection_params"] = np.array(camera["cam_model"]["projection_params"], np.float64)
    return camera



def load_scene_camera(path: Union[str,Path]):
    """Loads content of a JSON file with information about the scene camera.

    See docs/bop_datasets_format.md for details.

    :param path: Path to the JSON file.
    :return: Dictionary with the loaded content.
    """
    scene_camera = load_json(path, keys_to_int=True)

    for im_id in scene_camera.keys():
        scene_camera[im_id] = _camera_as_numpy(scene_camera[im_id])
    return scene_camera



def load_scene_gt(path: Union[str,Path]):
    """Loads content of a JSON file with ground-truth annotations.

    See docs/bop_datasets_format.md for details.

    :param path: Path to the JSON file.
    :return: Dictionary with the loaded content.
    """
    scene_gt = load_json(path, keys_to_int=True)

    for im_id, im_gt in scene_gt.items():
        for gt in im_gt:
            if "cam_R_m2c" in gt.keys():
                gt["cam_R_m2c"] = np.array(gt["cam_R_m2c"], np.float64).reshape((3, 3))
            if "cam_t_m2c" in gt.keys():
                gt["cam_t_m2c"] = np.array(gt["cam_t_m2c"], np.float64).reshape((3, 1))
    return scene_gt


def load_ply(path: Union[str,Path]):
    """Loads a 3D mesh model from a PLY file.

    :param path: Path to a PLY file.
    :return: The loaded model given by a dictionary with items:
     - 'pts' (nx3 ndarray)
     - 'normals' (nx3 ndarray), optional
     - 'colors' (nx3 ndarray), optional
     - 'faces' (mx3 ndarray), optional
     - 'texture_uv' (nx2 ndarray), optional
     - 'texture_uv_face' (mx6 ndarray), optional
     - 'texture_file' (string), optional
    """
    f = open(path, "rb")

    # Only triangular faces are supported.
    face_n_corners = 3

    n_pts = 0
    n_faces = 0
    pt_props = []
    face_props = []
    is_binary = False
    header_vertex_section = False
    header_face_section = False
    texture_file = None

    # Read the header.
    while True:
        # Strip the newline character(s).
        line = f.readline().decode("utf8").rstrip("\n").rstrip("\r")

        if line.startswith("comment TextureFile"):
            texture_file = line.split()[-1]
        elif line.startswith("element vertex"):
            n_pts = int(line.split()[-1])
            header_vertex_section = True
            header_face_section = False
        elif line.startswith("element face"):
            n_faces = int(line.split()[-1])
            header_vertex_section = False
            header_face_section = True
        elif line.startswith("element"):  # Some other element.
            header_vertex_section = False
            header_face_section = False
        elif line.startswith("property") and header_vertex_section:
            # (name of the property, data type)
            pt_props.append((line.split()[-1], line.split()[-2]))
        elif line.startswith("property list") and header_face_section:
            elems = line.split()
            if elems[-1] == "vertex_indices" or elems[-1] == "vertex_index":
                # (name of the property, data type)
                face_props.append(("n_corners", elems[2]))
                for i in range(face_n_corners):
                    face_props.append(("ind_" + str(i), elems[3]))
            elif elems[-1] == "texcoord":
                # (name of the property, data type)
                face_props.append(("texcoord", elems[2]))
                for i in range(face_n_corners * 2):
                    face_props.append(("texcoord_ind_" + str(i), elems[3]))
            else:
                misc.log("Warning: Not supported face property: " + elems[-1])
        elif line.startswith("format"):
            if "binary" in line:
                is_binary = True
        elif line.startswith("end_header"):
            break

    # Prepare data structures.
    model = {}
    if texture_file is not None:
        model["texture_file"] = texture_file
    model["pts"] = np.zeros((n_pts, 3), np.float64)
    if n_faces > 0:
        model["faces"] = np.zeros((n_faces, face_n_corners), np.float64)

    pt_props_names = [p[0] for p in pt_props]
    face_props_names = [p[0] for p in face_props]

    is_normal = False
    if {"nx", "ny", "nz"}.issubset(set(pt_props_names)):
        is_normal = True
        model["normals"] = np.zeros((n_pts, 3), np.float64)

    is_color = False
    if {"red", "green", "blue"}.issubset(set(pt_props_names)):
        is_color = True
        model["colors"] = np.zeros((n_pts, 3), np.float64)

    is_texture_pt = False
    if {"texture_u", "texture_v"}.issubset(set(pt_props_names)):
        is_texture_pt = True
        model["texture_uv"] = np.zeros((n_pts, 2), np.float64)

    is_texture_face = False
    if {"texcoord"}.issubset(set(face_props_names)):
        is_texture_face = True
        model["texture_uv_face"] = np.zeros((n_faces, 6), np.float64)

    # Formats for the binary case.
    formats = {
        "float": ("f", 4),
        "double": ("d", 8),
        "int": ("i", 4),
        "uint": ("I", 4),
        "uchar": ("B", 1),
    }

    # Load vertices.
    for pt_id in range(n_pts):
        prop_vals = {}
        load_props = [
            "x",
            "y",
            "z",
            "nx",
            "ny",
            "nz",
            "red",
            "green",
            "blue",
            "texture_u",
            "texture_v",
        ]
        if is_binary:
            for prop in pt_props:
                format = formats[prop[1]]
                read_data = f.read(format[1])
                val = struct.unpack(format[0], read_data)[0]
                if prop[0] in load_props:
                    prop_vals[prop[0]] = val
        else:
            elems = f.readline().decode("utf8").rstrip("\n").rstrip("\r").split()
            for prop_id, prop in enumerate(pt_props):
                if prop[0] in load_props:
                    prop_vals[prop[0]] = elems[prop_id]

        model["pts"][pt_id, 0] = float(prop_vals["x"])
        model["pts"][pt_id, 1] = float(prop_vals["y"])
        model["pts"][pt_id, 2] = float(prop_vals["z"])

        if is_normal:
            model["normals"][pt_id, 0] = float(prop_vals["nx"])
            model["normals"][pt_id, 1] = float(prop_vals["ny"])
            model["normals"][pt_id, 2] = float(prop_vals["nz"])

        if is_color:
            model["colors"][pt_id, 0] = float(prop_vals["red"])
            model["colors"][pt_id, 1] = float(prop_vals["green"])
            model["colors"][pt_id, 2] = float(prop_vals["blue"])

        if is_texture_pt:
            model["texture_uv"][pt_id, 0] = float(prop_vals["texture_u"])
            model["texture_uv"][pt_id, 1] = float(prop_vals["texture_v"])

    # Load faces.
    for face_id in range(n_faces):
        prop_vals = {}
        if is_binary:
            for prop in face_props:
                format = formats[prop[1]]
                val = struct.unpack(format[0], f.read(format[1]))[0]
                if prop[0] == "n_corners":
                    if val != face_n_corners:
                        raise ValueError("Only triangular faces are supported.")
                elif prop[0] == "texcoord":
                    if val != face_n_corners * 2:
                        raise ValueError("Wrong number of UV face coordinates.")
                else:
                    prop_vals[prop[0]] = val
        else:
            elems = f.readline().decode("utf8").rstrip("\n").rstrip("\r").split()
            for prop_id, prop in enumerate(face_props):
                if prop[0] == "n_corners":
                    if int(elems[prop_id]) != face_n_corners:
                        raise ValueError("Only triangular faces are supported.")
                elif prop[0] == "texcoord":
                    if int(elems[prop_id]) != face_n_corners * 2:
                        raise ValueError("Wrong number of UV face coordinates.")
                else:
                    prop_vals[prop[0]] = elems[prop_id]

        model["faces"][face_id, 0] = int(prop_vals["ind_0"])
        model["faces"][face_id, 1] = int(prop_vals["ind_1"])
        model["faces"][face_id, 2] = int(prop_vals["ind_2"])

        if is_texture_face:
            for i in range(6):
                model["texture_uv_face"][face_id, i] = float(
                    prop_vals["texcoord_ind_{}".format(i)]
                )

    f.close()

    return model
