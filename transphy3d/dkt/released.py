"""The released DKT LoRAs (DKT-Depth-1-3B-v1.1, DKT-Depth-14B, DKT-Normal-14B) on our model.

The official code (DiffSynth-Studio's ``GeneralLoRALoader``) reads keys such as
``blocks.0.self_attn.q.lora_A.default.weight`` / ``...lora_B.default.weight`` (``default.``
optional, an optional ``diffusion_model.`` prefix), module names in Wan's original layout, and
merges ``W += alpha * B @ A`` with alpha 1: no ``lora_alpha / r`` scaling. Here every module name
goes through diffusers' own Wan conversion (``self_attn.q`` -> ``attn1.to_q``, ``ffn.0`` ->
``ffn.net.0.proj``, ...) and the pairs become a peft adapter with ``lora_alpha = r`` (scale 1),
so the model computes exactly the official merged weights and can train further. A key that is
not a LoRA factor of a linear layer of the model is an error naming it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from transphy3d.errors import UserError

ADAPTER = "default"
PREFIX = "diffusion_model."
FACTORS = ("lora_A", "lora_B")


def lora_file(path: str | Path) -> Path:
    """The LoRA ``.safetensors`` file of ``path``: the file itself, or the only one in a folder
    (a downloaded model repository)."""
    path = Path(path)
    if path.is_file():
        return path
    found = sorted(path.glob("*.safetensors")) if path.is_dir() else []
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise UserError(
            f"neither a train-dkt checkpoint (no dkt.json) nor a released DKT LoRA ({what} *.safetensors files; "
            "pass the LoRA file itself, e.g. DKT-Depth-1-3B-v1.1/*.safetensors)",
            path=str(path),
            field="--lora",
        )
    return found[0]


def is_released(path: str | Path) -> bool:
    """True for a released LoRA (file or folder) rather than a train-dkt checkpoint (dkt.json)."""
    from transphy3d.dkt.model import DKT_CONFIG_FILE

    path = Path(path)
    return path.suffix == ".safetensors" or (path.is_dir() and not (path / DKT_CONFIG_FILE).exists())


def split_key(key: str) -> tuple[str, str] | None:
    """(original module name, lora_A | lora_B) of a DiffSynth LoRA key, or None."""
    parts = key.removeprefix(PREFIX).split(".")
    for factor in FACTORS:
        if factor in parts:
            i = parts.index(factor)
            if parts[i + 1 :] in (["weight"], [ADAPTER, "weight"]) and i > 0:
                return ".".join(parts[:i]), factor
    return None


def diffusers_names(modules: list[str]) -> dict[str, str]:
    """Original Wan module name -> diffusers module name, by diffusers' own single-file conversion."""
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers

    converted = convert_wan_transformer_to_diffusers({f"{m}.weight": m for m in modules})
    return {original: new.removesuffix(".weight") for new, original in converted.items()}


def read_lora(path: str | Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """diffusers module name -> (A (r, in), B (out, r)) of a released LoRA file; every key must map."""
    from safetensors.torch import load_file

    file = lora_file(path)
    try:
        state = load_file(str(file))
    except Exception as error:  # safetensors raises its own types for damaged files
        raise UserError(f"not a readable safetensors file ({error})", path=str(file), field="--lora") from None
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        parsed = split_key(key)
        if parsed is None:
            raise UserError(
                f"key {key!r} is not a LoRA factor (<module>.lora_A|lora_B[.default].weight)",
                path=str(file),
                field="--lora",
            )
        pairs.setdefault(parsed[0], {})[parsed[1]] = tensor
    if not pairs:
        raise UserError("holds no LoRA keys", path=str(file), field="--lora")
    names = diffusers_names(sorted(pairs))
    out = {}
    for module, factors in pairs.items():
        if set(factors) != set(FACTORS):
            raise UserError(f"module {module!r} lacks {set(FACTORS) - set(factors)}", path=str(file), field="--lora")
        out[names[module]] = (factors["lora_A"], factors["lora_B"])
    return out


def check_fits(transformer, pairs: dict[str, tuple[torch.Tensor, torch.Tensor]], where: str) -> None:
    """Every pair names a linear layer of ``transformer`` with matching shapes, or a UserError."""
    modules = dict(transformer.named_modules())
    for name, (a, b) in sorted(pairs.items()):
        module = modules.get(name)
        if not isinstance(module, torch.nn.Linear):
            raise UserError(f"LoRA module {name!r} is not a linear layer of the model", path=where, field="--lora")
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise UserError(
                f"LoRA {name!r}: A {tuple(a.shape)} and B {tuple(b.shape)} do not pair", path=where, field="--lora"
            )
        if a.shape[1] != module.in_features or b.shape[0] != module.out_features:
            raise UserError(
                f"LoRA {name!r} is {a.shape[1]} -> {b.shape[0]}, the layer {module.in_features} -> "
                f"{module.out_features}: a LoRA for another model size?",
                path=where,
                field="--lora",
            )


def attach(transformer, pairs: dict[str, tuple[torch.Tensor, torch.Tensor]], where: str, trainable: bool) -> None:
    """Add the pairs as the peft adapter ``default`` with scale 1 (lora_alpha = r per module)."""
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

    check_fits(transformer, pairs, where)
    ranks = {name: int(a.shape[0]) for name, (a, _) in pairs.items()}
    rank = max(ranks.values())
    pattern = {name: r for name, r in ranks.items() if r != rank}
    config = LoraConfig(
        r=rank,
        lora_alpha=rank,
        target_modules=sorted(pairs),
        rank_pattern=pattern,
        alpha_pattern=dict(pattern),
        init_lora_weights=True,
    )
    transformer.requires_grad_(False)
    transformer.add_adapter(config, adapter_name=ADAPTER)
    weights = {f"{name}.{f}.weight": t for name, (a, b) in pairs.items() for f, t in zip(FACTORS, (a, b), strict=True)}
    expected = set(get_peft_model_state_dict(transformer, adapter_name=ADAPTER))
    if expected != set(weights):
        raise UserError(
            f"the adapter does not cover the LoRA exactly: {sorted(expected ^ set(weights))[:3]}", path=where
        )
    ref = transformer.patch_embedding.weight
    result = set_peft_model_state_dict(
        transformer, {k: v.to(ref.device, torch.float32) for k, v in weights.items()}, adapter_name=ADAPTER
    )
    if getattr(result, "unexpected_keys", None):
        raise UserError(f"LoRA keys that do not fit the model: {result.unexpected_keys[:3]}", path=where)
    for name, param in transformer.named_parameters():
        if ".lora_" in name:
            param.requires_grad_(trainable)


def load_released(transformer, path: str | Path, trainable: bool = False) -> None:
    """Put a released DKT LoRA (DiffSynth names) on ``transformer`` as the adapter ``default``."""
    attach(transformer, read_lora(path), str(lora_file(path)), trainable)


RELEASED_SHIFT = 5.0  # the official sampler's sigma shift


def task_of(path: str | Path, task: str | None):
    """The task of a released LoRA: ``task`` if given, else the depth/normal word in its path
    (DKT-Depth-1-3B-v1.1, DKT-Depth-14B, DKT-Normal-14B)."""
    if task is not None:
        return task
    words = {t for t in ("depth", "normal") if t in str(Path(path).resolve()).lower()}
    if len(words) != 1:
        raise UserError(
            "cannot tell whether this released LoRA predicts depth or normals; pass --task depth or --task normal",
            path=str(path),
            field="--task",
        )
    return words.pop()


def checkpoint_config(path: str | Path, task: str | None = None):
    """The ``DKTConfig`` of a train-dkt checkpoint, or the one a released LoRA implies (Fun-Control
    base, prompt = task, flow objective, shift 5)."""
    from transphy3d.dkt.model import PROMPTS, DKTConfig

    path = Path(path)
    if not path.exists():
        raise UserError("no such checkpoint or LoRA file", path=str(path), field="--lora")
    if not is_released(path):
        config = DKTConfig.load(path)
        if task is not None and task != config.task:
            raise UserError(f"the checkpoint predicts {config.task}, not {task}", path=str(path), field="--task")
        return config
    task = task_of(lora_file(path), task)
    return DKTConfig(task=task, prompt=PROMPTS[task], base_kind="fun-control", shift=RELEASED_SHIFT, base="released")


def checkpoint_pairs(path: Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The LoRA of a train-dkt checkpoint as (A, B) pairs with its alpha / r folded into B."""
    from transphy3d.dkt.model import LORA_WEIGHTS_FILE, DKTConfig
    from transphy3d.dkt.weights_files import load_safetensors

    lora = DKTConfig.load(path).lora
    scale = float(lora["alpha"]) / float(lora["rank"])
    factors: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in load_safetensors(path / LORA_WEIGHTS_FILE).items():
        module, factor, _ = key.removeprefix("transformer.").rsplit(".", 2)
        factors.setdefault(module, {})[factor] = tensor
    return {m: (f["lora_A"], f["lora_B"] * scale) for m, f in factors.items()}


def build_from_lora(base: str | Path, path: str | Path, dtype: torch.dtype, device: str | torch.device):
    """(transformer + the LoRA of ``path``, trainable; frozen vae): ``build_dkt_transformer`` for
    ``train-dkt --init-lora``."""
    from transphy3d.dkt.model import base_kind_of, load_base, widen_patch_embedding

    transformer, vae = load_base(base, dtype, device)
    if base_kind_of(transformer) == "t2v":
        widen_patch_embedding(transformer)
    init_from_lora(transformer, path)
    return transformer, vae


def init_from_lora(transformer, path: str | Path) -> None:
    """Start training from a released LoRA or from a train-dkt checkpoint (its LoRA and, on a T2V
    base, its patch embedding); the adapter trains."""
    from transphy3d.dkt.model import PATCH_EMBEDDING_FILE, base_kind_of, load_patch_embedding

    path = Path(path)
    if not path.exists():
        raise UserError("no such LoRA file or checkpoint", path=str(path), field="--init-lora")
    if is_released(path):
        load_released(transformer, path, trainable=True)
    else:
        attach(transformer, checkpoint_pairs(path), str(path), trainable=True)
        if (path / PATCH_EMBEDDING_FILE).is_file():
            load_patch_embedding(transformer, path)
    transformer.patch_embedding.requires_grad_(base_kind_of(transformer) == "t2v")
