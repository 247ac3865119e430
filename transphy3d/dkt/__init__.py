"""DKT ("Diffusion Knows Transparency"): LoRA fine-tuning of Wan 2.1 for video depth and normals.

Modules: ``bases`` (Fun-Control as published or T2V diffusers, detected from the files),
``wan_original`` (the original Wan file layout: DiT, VAE, T5), ``released`` (the released DKT
LoRAs), ``data`` (clips from render output), ``published`` / ``published_index`` (TransPhy3D
release tars), ``images`` (RGB + depth folders), ``mixture`` (co-training sampler), ``frames``
(official pre- and post-processing), ``model`` (conditioning, LoRA, VAE codec, prompt cache),
``objective`` (flow matching with the official sigmas and weights, single step), ``train``
(accelerate loop), ``infer`` (windowed sampling), ``metrics`` / ``evaluate``, ``cli``.
Nothing here imports torch or diffusers at package import time except the modules that need them.
"""
