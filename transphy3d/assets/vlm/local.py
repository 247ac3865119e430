"""The local backend: ``Qwen2_5_VLForConditionalGeneration`` with transformers, greedy decoding,
batched with left padding. The processor is the model's own ``AutoProcessor`` where it constructs;
without torchvision (no video processor) an image-only processor does the same for images: chat
template, image processor, each ``<|image_pad|>`` expanded to the image's token count, and the
multimodal token types the model's 3-D rotary positions need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transphy3d.assets.vlm.prompt import PROMPT
from transphy3d.assets.vlm.vision import VisionPath, detect_vision_path, vision_inputs

IMAGE_TOKEN = "<|image_pad|>"


class ImageOnlyProcessor:
    """Image processor + tokenizer, for installs where ``Qwen2_5_VLProcessor`` cannot be built."""

    def __init__(self, image_processor: Any, tokenizer: Any, chat_template: str | None):
        self.image_processor = image_processor
        self.tokenizer = tokenizer
        self.chat_template = chat_template or tokenizer.chat_template
        if not self.chat_template:
            raise ValueError("the model has no chat template (tokenizer or chat_template.jinja/json)")
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)

    def apply_chat_template(self, conversation: list[dict[str, Any]], **kwargs: Any) -> str:
        return self.tokenizer.apply_chat_template(conversation, chat_template=self.chat_template, **kwargs)

    def __call__(self, text: list[str], images: list[Any], **_kwargs: Any) -> dict[str, Any]:
        """Like the processor's call with ``padding=True, return_tensors="pt"`` (left padding)."""
        vision = self.image_processor(images=images, return_tensors="pt")
        merge = self.image_processor.merge_size**2
        counts = iter((vision["image_grid_thw"].prod(-1) // merge).tolist())
        expanded = []
        for prompt in text:
            pieces = prompt.split(IMAGE_TOKEN)
            out = pieces[0]
            for piece in pieces[1:]:
                out += IMAGE_TOKEN * next(counts) + piece
            expanded.append(out)
        encoded = self.tokenizer(expanded, padding=True, padding_side="left", return_tensors="pt")
        encoded["mm_token_type_ids"] = (encoded["input_ids"] == self.image_token_id).int()
        return {**encoded, **vision}

    def batch_decode(self, ids: Any, **kwargs: Any) -> list[str]:
        return self.tokenizer.batch_decode(ids, **kwargs)


def _read_chat_template(model: str) -> str | None:
    """The processor's chat template file of a model (local folder or hub name), if any."""
    import json

    from transformers.utils import cached_file

    for name in ("chat_template.jinja", "chat_template.json"):
        try:
            path = cached_file(model, name, _raise_exceptions_for_missing_entries=False)
        except OSError:
            path = None
        if path:
            text = Path(path).read_text(encoding="utf-8")
            return json.loads(text)["chat_template"] if name.endswith(".json") else text
    return None


def load_processor(model: str) -> tuple[Any, str]:
    """(processor, kind): the full ``AutoProcessor`` or, where it cannot be built, the image-only one."""
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

    try:
        processor = AutoProcessor.from_pretrained(model)
        processor.tokenizer.padding_side = "left"
        return processor, "full"
    except Exception as error:  # no torchvision: the video processor cannot be built
        reason = f"{type(error).__name__}: {' '.join(str(error).split())[:160]}"
    tokenizer = AutoTokenizer.from_pretrained(model)
    tokenizer.padding_side = "left"
    image_processor = AutoImageProcessor.from_pretrained(model)
    return ImageOnlyProcessor(image_processor, tokenizer, _read_chat_template(model)), f"image-only ({reason})"


@dataclass
class LocalBackend:
    """Qwen2.5-VL on this machine. ``ask`` takes a batch of image lists, returns answer texts."""

    model_name: str
    device: str = "auto"
    max_new_tokens: int = 128
    min_pixels: int = 4 * 28 * 28
    max_pixels: int = 256 * 28 * 28
    vision_path: VisionPath | None = None
    threads: int | None = None  # torch CPU threads (None: torch's default)

    name = "transformers"

    def __post_init__(self) -> None:
        import torch
        from transformers import Qwen2_5_VLForConditionalGeneration

        if self.threads:
            torch.set_num_threads(self.threads)
        if self.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.model = Qwen2_5_VLForConditionalGeneration.from_pretrained(self.model_name, dtype=dtype)
        self.model.to(self.device).eval()
        self.processor, self.processor_kind = load_processor(self.model_name)
        self.vision_path = self.vision_path or detect_vision_path()

    def messages(self, images: list[str]) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [
            {
                "type": "image",
                "image": f"file://{Path(p).absolute()}",
                "min_pixels": self.min_pixels,
                "max_pixels": self.max_pixels,
            }
            for p in images
        ]
        content.append({"type": "text", "text": PROMPT})
        return [{"role": "user", "content": content}]

    def inputs(self, batch: list[list[str]]) -> dict[str, Any]:
        """The model inputs of a batch (exposed for tests: both vision paths must agree)."""
        conversations = [self.messages(images) for images in batch]
        texts = [
            self.processor.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        images = vision_inputs(conversations, self.vision_path)
        return dict(self.processor(text=texts, images=images, padding=True, return_tensors="pt"))

    def ask(self, batch: list[list[str]]) -> list[str]:
        import torch

        inputs = {k: v.to(self.device) if hasattr(v, "to") else v for k, v in self.inputs(batch).items()}
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new = out[:, inputs["input_ids"].shape[1] :]
        return [str(t) for t in self.processor.batch_decode(new, skip_special_tokens=True)]
