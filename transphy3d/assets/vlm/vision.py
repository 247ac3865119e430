"""Vision inputs for the local backend. Where ``qwen_vl_utils`` imports (GPU installs with a
working torchvision) its ``process_vision_info`` prepares the images; where it does not (the CPU
torch build has no working torchvision), ``image_only_inputs`` does the same for images: open,
convert to RGB (alpha over white) and resize to multiples of 28 within the pixel budget with the
same rounding (``smart_resize``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from PIL import Image

PATCH_FACTOR = 28  # patch 14 x spatial merge 2
MIN_PIXELS = 4 * PATCH_FACTOR * PATCH_FACTOR
MAX_PIXELS = 16384 * PATCH_FACTOR * PATCH_FACTOR
MAX_RATIO = 200


@dataclass(frozen=True)
class VisionPath:
    """Which vision-input path the local backend takes, and why."""

    name: str  # "qwen-vl-utils" or "image-only"
    reason: str


def detect_vision_path() -> VisionPath:
    """``qwen-vl-utils`` when ``qwen_vl_utils`` imports, else ``image-only`` with the import error."""
    try:
        import qwen_vl_utils  # noqa: F401
    except Exception as error:  # ImportError, or a broken torchvision raising anything at import
        return VisionPath("image-only", f"qwen_vl_utils does not import: {type(error).__name__}: {error}")
    return VisionPath("qwen-vl-utils", "qwen_vl_utils imports")


def smart_resize(
    height: int, width: int, min_pixels: int = MIN_PIXELS, max_pixels: int = MAX_PIXELS
) -> tuple[int, int]:
    """(height, width): multiples of 28, pixel count within [min_pixels, max_pixels], aspect kept."""
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ValueError(f"aspect ratio must be below {MAX_RATIO}, got {max(height, width) / min(height, width)}")
    f = PATCH_FACTOR
    h_bar = max(f, round(height / f) * f)
    w_bar = max(f, round(width / f) * f)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = math.floor(height / beta / f) * f
        w_bar = math.floor(width / beta / f) * f
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / f) * f
        w_bar = math.ceil(width * beta / f) * f
    return h_bar, w_bar


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":
        white = Image.new("RGB", image.size, (255, 255, 255))
        white.paste(image, mask=image.split()[3])
        return white
    return image.convert("RGB")


def image_only_inputs(messages: list[list[dict[str, Any]]]) -> list[Image.Image]:
    """The images of a batch of conversations, in order, ready for the image processor."""
    images = []
    for conversation in messages:
        for message in conversation:
            content = message["content"]
            if not isinstance(content, list):
                continue
            for element in content:
                if element.get("type") != "image":
                    continue
                source = element["image"]
                image = source if isinstance(source, Image.Image) else Image.open(str(source).removeprefix("file://"))
                image = _to_rgb(image)
                h, w = smart_resize(
                    image.height,
                    image.width,
                    element.get("min_pixels", MIN_PIXELS),
                    element.get("max_pixels", MAX_PIXELS),
                )
                images.append(image.resize((w, h)))
    return images


def vision_inputs(messages: list[list[dict[str, Any]]], path: VisionPath) -> list[Image.Image]:
    """Images for a batch of conversations through ``path``."""
    if path.name == "qwen-vl-utils":
        from qwen_vl_utils import process_vision_info

        images, videos = process_vision_info(messages)
        if videos:
            raise ValueError("the asset filter sends images only")
        return list(images or [])
    return image_only_inputs(messages)
