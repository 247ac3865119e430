"""DKT ("Diffusion Knows Transparency"): LoRA fine-tuning of Wan 2.1 for video depth and normals.

Modules: ``data`` (clips from render output), ``published`` (TransPhy3D release tars), ``images``
(RGB + depth folders), ``mixture`` (co-training sampler), ``model`` (Wan loading, widened patch
embedding, LoRA, VAE codec, prompt cache), ``objective`` (flow matching, single step), ``train``
(accelerate loop), ``infer`` (windowed sampling), ``metrics`` / ``evaluate``, ``cli``.
Nothing here imports torch or diffusers at package import time except the modules that need them.
"""
