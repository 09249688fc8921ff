# gatescope: docker build -t gatescope . && docker run -p 8000:8000 gatescope
#
# Two stages. The first builds gatescope's wheel from the whole source tree (.dockerignore keeps out what no wheel
# holds: tests, benchmarks, git), so what the package contains is decided in one place, pyproject.toml. The second
# installs that wheel alone: the server, its pages, the lessons, the presets and the Python front door.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 gatescope
COPY --from=build /dist /dist
RUN pip install --no-cache-dir /dist/*.whl && rm -rf /dist

USER 10001
WORKDIR /home/gatescope
ENV GATESCOPE_UPLOAD_DIR=/home/gatescope/models
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

CMD ["gatescope", "serve", "--host", "0.0.0.0", "--port", "8000"]
