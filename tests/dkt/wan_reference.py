"""Wan's original DiT forward (``WanModel`` as the official DKT code runs it), computed directly
from a state dict in the original key layout: the reference our converted model must equal."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _linear(state: dict, name: str, x: torch.Tensor) -> torch.Tensor:
    return F.linear(x, state[f"{name}.weight"], state.get(f"{name}.bias"))


def _rms(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


def _sinusoid(dim: int, position: torch.Tensor) -> torch.Tensor:
    angle = torch.outer(position.double(), torch.pow(10000, -torch.arange(dim // 2, dtype=torch.float64).div(dim // 2)))
    return torch.cat([torch.cos(angle), torch.sin(angle)], dim=1).float()


def _freqs(dim: int, end: int) -> torch.Tensor:
    inverse = 1.0 / (10000 ** (torch.arange(0, dim, 2)[: dim // 2].double() / dim))
    return torch.polar(torch.ones(end, dim // 2, dtype=torch.float64), torch.outer(torch.arange(end), inverse))


def _rope(x: torch.Tensor, freqs: torch.Tensor, heads: int) -> torch.Tensor:
    b, s, _ = x.shape
    z = torch.view_as_complex(x.double().reshape(b, s, heads, -1, 2))
    return torch.view_as_real(z * freqs).flatten(2).float()


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int) -> torch.Tensor:
    def split(t: torch.Tensor) -> torch.Tensor:
        return t.view(t.shape[0], t.shape[1], heads, -1).transpose(1, 2)

    out = F.scaled_dot_product_attention(split(q), split(k), split(v))
    return out.transpose(1, 2).flatten(2)


@torch.no_grad()
def wan_dit(
    state: dict[str, torch.Tensor],
    x: torch.Tensor,
    timestep: torch.Tensor,
    context: torch.Tensor,
    clip_feature: torch.Tensor,
    y: torch.Tensor,
    heads: int,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Output (1, C, F, H, W) of Wan's DiT with image input for batch 1 (official ``WanModel.forward``)."""
    dim = state["patch_embedding.weight"].shape[0]
    patch = tuple(state["patch_embedding.weight"].shape[2:])
    freq_dim = state["time_embedding.0.weight"].shape[1]
    t = _linear(state, "time_embedding.2", F.silu(_linear(state, "time_embedding.0", _sinusoid(freq_dim, timestep))))
    t_mod = _linear(state, "time_projection.1", F.silu(t)).unflatten(1, (6, dim))
    context = _linear(
        state, "text_embedding.2", F.gelu(_linear(state, "text_embedding.0", context), approximate="tanh")
    )
    h = F.layer_norm(
        clip_feature, (clip_feature.shape[-1],), state["img_emb.proj.0.weight"], state["img_emb.proj.0.bias"]
    )
    h = _linear(state, "img_emb.proj.3", F.gelu(_linear(state, "img_emb.proj.1", h)))
    clip = F.layer_norm(h, (dim,), state["img_emb.proj.4.weight"], state["img_emb.proj.4.bias"])
    context = torch.cat([clip, context], dim=1)
    image_tokens = clip.shape[1]

    grid = F.conv3d(
        torch.cat([x, y], dim=1), state["patch_embedding.weight"], state["patch_embedding.bias"], stride=patch
    )
    f, hh, ww = grid.shape[2:]
    tokens = grid.flatten(2).transpose(1, 2)
    head_dim = dim // heads
    parts = (head_dim - 2 * (head_dim // 3), head_dim // 3, head_dim // 3)
    tables = [_freqs(d, 1024) for d in parts]
    freqs = torch.cat(
        [
            tables[0][:f].view(f, 1, 1, -1).expand(f, hh, ww, -1),
            tables[1][:hh].view(1, hh, 1, -1).expand(f, hh, ww, -1),
            tables[2][:ww].view(1, 1, ww, -1).expand(f, hh, ww, -1),
        ],
        dim=-1,
    ).reshape(f * hh * ww, 1, -1)

    blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    for i in range(blocks):
        b = f"blocks.{i}"
        shift1, scale1, gate1, shift2, scale2, gate2 = (state[f"{b}.modulation"] + t_mod).chunk(6, dim=1)
        a = F.layer_norm(tokens, (dim,), eps=eps) * (1 + scale1) + shift1
        q = _rope(_rms(_linear(state, f"{b}.self_attn.q", a), state[f"{b}.self_attn.norm_q.weight"], eps), freqs, heads)
        k = _rope(_rms(_linear(state, f"{b}.self_attn.k", a), state[f"{b}.self_attn.norm_k.weight"], eps), freqs, heads)
        v = _linear(state, f"{b}.self_attn.v", a)
        tokens = tokens + gate1 * _linear(state, f"{b}.self_attn.o", _attention(q, k, v, heads))

        a = F.layer_norm(tokens, (dim,), state[f"{b}.norm3.weight"], state[f"{b}.norm3.bias"], eps)
        img, ctx = context[:, :image_tokens], context[:, image_tokens:]
        c = f"{b}.cross_attn"
        q = _rms(_linear(state, f"{c}.q", a), state[f"{c}.norm_q.weight"], eps)
        k = _rms(_linear(state, f"{c}.k", ctx), state[f"{c}.norm_k.weight"], eps)
        text = _attention(q, k, _linear(state, f"{c}.v", ctx), heads)
        k_img = _rms(_linear(state, f"{c}.k_img", img), state[f"{c}.norm_k_img.weight"], eps)
        image = _attention(q, k_img, _linear(state, f"{c}.v_img", img), heads)
        tokens = tokens + _linear(state, f"{c}.o", text + image)

        a = F.layer_norm(tokens, (dim,), eps=eps) * (1 + scale2) + shift2
        ffn = _linear(state, f"{b}.ffn.2", F.gelu(_linear(state, f"{b}.ffn.0", a), approximate="tanh"))
        tokens = tokens + gate2 * ffn

    shift, scale = (state["head.modulation"] + t.unsqueeze(1)).chunk(2, dim=1)
    out = _linear(state, "head.head", F.layer_norm(tokens, (dim,), eps=eps) * (1 + scale) + shift)
    px, py, pz = patch
    channels = out.shape[-1] // math.prod(patch)
    out = out.view(1, f, hh, ww, px, py, pz, channels)
    return out.permute(0, 7, 1, 4, 2, 5, 3, 6).reshape(1, channels, f * px, hh * py, ww * pz)


def _bucket(relative: torch.Tensor, buckets: int, max_distance: int) -> torch.Tensor:
    """Wan's T5RelativeEmbedding._relative_position_bucket (bidirectional)."""
    half = buckets // 2
    out = (relative > 0).long() * half
    relative = relative.abs()
    exact = half // 2
    large = exact + (torch.log(relative.float() / exact) / math.log(max_distance / exact) * (half - exact)).long()
    return out + torch.where(relative < exact, relative, large.clamp(max=half - 1))


@torch.no_grad()
def wan_t5(
    state: dict[str, torch.Tensor], ids: torch.Tensor, mask: torch.Tensor, max_distance: int = 128
) -> torch.Tensor:
    """Wan's T5 encoder (``WanTextEncoder.forward``, UMT5: relative positions per layer)."""
    x = state["token_embedding.weight"][ids]
    length = ids.shape[1]
    relative = torch.arange(length)[None, :] - torch.arange(length)[:, None]
    blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    for i in range(blocks):
        b = f"blocks.{i}"
        table = state[f"{b}.pos_embedding.embedding.weight"]  # (buckets, heads)
        heads = table.shape[1]
        bias = table[_bucket(relative, table.shape[0], max_distance)].permute(2, 0, 1)[None]
        bias = bias.masked_fill(mask.view(mask.shape[0], 1, 1, -1) == 0, torch.finfo(x.dtype).min)
        h = _rms(x, state[f"{b}.norm1.weight"], 1e-6)
        q, k, v = (F.linear(h, state[f"{b}.attn.{n}.weight"]).unflatten(-1, (heads, -1)) for n in "qkv")
        attn = torch.softmax(torch.einsum("binc,bjnc->bnij", q, k) + bias, dim=-1)  # T5: no scaling
        x = x + F.linear(torch.einsum("bnij,bjnc->binc", attn, v).flatten(2), state[f"{b}.attn.o.weight"])
        h = _rms(x, state[f"{b}.norm2.weight"], 1e-6)
        gate = F.gelu(F.linear(h, state[f"{b}.ffn.gate.0.weight"]), approximate="tanh")
        x = x + F.linear(F.linear(h, state[f"{b}.ffn.fc1.weight"]) * gate, state[f"{b}.ffn.fc2.weight"])
    return _rms(x, state["norm.weight"], 1e-6)
