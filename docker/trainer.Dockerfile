# DKT trainer image: CUDA runtime, Python 3.11, CUDA build of torch, transphy3d[train].
#   docker build -f docker/trainer.Dockerfile -t transphy3d-trainer .
#   docker run --gpus all --shm-size 16g -v /data:/data transphy3d-trainer \
#     accelerate launch --multi_gpu --num_processes 8 -m transphy3d train-dkt \
#       --base /data/Wan2.1-T2V-1.3B-Diffusers --data /data/tp3d --out /data/runs/dkt
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
FROM ${CUDA_IMAGE}

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HOME=/data/hf-cache

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && python3.11 -m venv /opt/venv

# A regular install of the package, as in render.Dockerfile (with its package data).
WORKDIR /opt/transphy3d
COPY pyproject.toml constraints.txt README.md ./
COPY transphy3d ./transphy3d
COPY scene_configs ./scene_configs
COPY materials ./materials
COPY assets_manifest ./assets_manifest

# torch first from the CUDA index, then the package; the constraints keep numpy 1.26.4 and this torch.
RUN pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}" \
    && pip install -c constraints.txt ".[train]" \
    && python -c "import diffusers, peft, accelerate"

RUN useradd --create-home --uid 1000 trainer
USER 1000:1000
WORKDIR /work
RUN transphy3d train-dkt --help > /dev/null
CMD ["transphy3d", "train-dkt", "--help"]
