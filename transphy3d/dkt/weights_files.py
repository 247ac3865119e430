"""Reading weight files a user hands the trainer or inference (``--lora``, ``--resume``, ``--base``)
without running code from them: safetensors (a format without code) and ``torch.load`` with
``weights_only=True`` (tensors and plain values only, never pickle's arbitrary objects). A
truncated, foreign or hostile file is a one-line error naming it."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from transphy3d.errors import UnreadableFileError, UserError, unreadable


def load_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of the ``.safetensors`` file ``path`` (on the CPU)."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise UserError("file not found", path=str(path)) from None
    except Exception as error:  # SafetensorError, OSError, RuntimeError for truncated or foreign files
        raise unreadable(path, "safetensors file", error) from None


def check_safetensors(path: str | Path) -> None:
    """Read the header and every tensor of ``path`` once, so a file a library loads later (diffusers'
    ``load_lora_adapter``) is known to be whole."""
    load_safetensors(path)


def tensor_named(state: dict[str, Any], key: str, path: str | Path) -> torch.Tensor:
    """``state[key]`` when it is a tensor; a one-line error naming ``path`` and ``key`` otherwise."""
    value = state.get(key) if isinstance(state, dict) else None
    if not isinstance(value, torch.Tensor):
        raise UnreadableFileError(
            f"no tensor {key!r} (found: {', '.join(sorted(map(str, state))[:5])})", path=str(path)
        )
    return value


def load_torch_state(path: str | Path) -> dict[str, Any]:
    """The dictionary saved with ``torch.save`` at ``path``, loaded with ``weights_only=True``: a
    file holding anything but tensors and plain containers and numbers is refused, not run."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError("file not found", path=str(path)) from None
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL (\S+)", str(error))
        what = f" ({found.group(1)})" if found else ""
        raise UnreadableFileError(
            f"refused: holds Python objects other than tensors and plain values, and loading it could run code{what}",
            path=str(path),
        ) from None
    except Exception as error:  # RuntimeError (a truncated zip), EOFError, OSError
        raise unreadable(path, "PyTorch state file", error) from None
    if not isinstance(state, dict):
        raise UnreadableFileError(f"not a saved dictionary (a {type(state).__name__})", path=str(path))
    return state
