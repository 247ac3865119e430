# Render node image: Blender as a Python module (bpy 4.5 LTS) with Cycles, the transphy3d package
# and Ray. Cycles brings its own CUDA/OptiX kernels and needs only the host's NVIDIA driver,
# mounted by the NVIDIA container toolkit; OptiX needs the "graphics" driver capability.
#
#   docker build -f docker/render.Dockerfile -t transphy3d-render .
#   docker run --rm --gpus all transphy3d-render transphy3d doctor     # smoke test of the node
#   docker run --gpus all -v /data:/data transphy3d-render \
#       transphy3d render --scenes 100 --out /data/tp3d
FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics

# Python 3.11 (bpy 4.5 wheels are cp311) and the X11/GL libraries the bpy wheel links even headless.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends software-properties-common gpg-agent \
    && add-apt-repository -y ppa:deadsnakes/ppa \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv \
        libgl1 libsm6 libx11-6 libxext6 libxfixes3 libxi6 libxkbcommon0 libxrender1 libxxf86vm1 libegl1 \
    && rm -rf /var/lib/apt/lists/*

RUN python3.11 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# A regular install of the package (the shipped configs, materials and starter bank are package
# data: transphy3d/_shipped links to the top-level folders, copied into the installed package).
WORKDIR /opt/transphy3d
COPY pyproject.toml constraints.txt README.md ./
COPY transphy3d ./transphy3d
COPY scene_configs ./scene_configs
COPY materials ./materials
COPY assets_manifest ./assets_manifest
# The render node needs no torch: only bpy (render extra) and Ray (farm extra).
RUN pip install -c constraints.txt ".[render,farm]"

# Ray worker nodes run as an unprivileged user; /data is the shared output volume.
RUN useradd --create-home --uid 1000 render && mkdir -p /data && chown render /data
USER 1000
WORKDIR /home/render
# Outside the source tree: the installed package alone must find everything a render needs.
RUN transphy3d doctor --no-render --out /home/render
CMD ["transphy3d", "--help"]
