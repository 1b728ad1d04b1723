# Vermilion API image: uvicorn serving api.app:app, as a non-root user, without development tools.
#
# Two stages. `build` installs Vermilion and its runtime dependencies, pyproject's [project].dependencies
# held to the exact versions of requirements.lock, into /opt/venv; the final image copies that venv and
# nothing else (no compilers, no sources, no pytest, mypy, ruff, playwright or localstripe).
# The base image is pinned to a patch release; bump it deliberately.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The build backend, pinned too: jieba is published only as a source archive, and Vermilion is built here.
RUN pip install setuptools==80.9.0
WORKDIR /src
COPY pyproject.toml requirements.lock ./
# The runtime set only: [project].dependencies (never the `dev` extra), each package, direct or not, at
# the version the lock pins (`-c`). Same set as `pip install -c requirements.lock .`, in a layer of its
# own so that a code change does not reinstall the dependencies.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > runtime-requirements.txt \
    && pip install --no-build-isolation -c requirements.lock -r runtime-requirements.txt
COPY . .
RUN pip install --no-build-isolation --no-deps . \
    && pip uninstall --yes setuptools \
    && pip check

FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    VERMILION_ENV=production VERMILION_CACHE_DIR=/app/data/cache
# A fixed numeric id, so that orchestrators can check `runAsNonRoot` without reading /etc/passwd.
RUN groupadd --system --gid 10001 vermilion \
    && useradd --system --uid 10001 --gid vermilion --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin vermilion
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# jieba's dictionary as one file (search/dictionary.py), built once into the image: each worker maps it
# read-only in ~10 ms and all of them share its ≈ 3 MB of pages, instead of each holding a ≈ 60 MB dict.
# /app/data is the only place the app writes (the file again if it is ever missing or damaged, SQLite
# when no database URL is given, and media under /app/data/media with VERMILION_MEDIA_STORAGE=local: set
# VERMILION_PUBLIC_BASE_URL to the address clients reach the container at).
# The same for search's bilingual lexicon (search/lexicon.py: CC-CEDICT and emoji names, ≈ 5 MB): building it
# takes a process ≈ 250 MB for a few seconds, which is the image build's, not a worker's.
RUN python -c "from pathlib import Path; from search.dictionary import load_frequencies; \
        from search.lexicon import load_lexicon; \
        load_frequencies(Path('/app/data/cache')); load_lexicon(Path('/app/data/cache'))" \
    && chown -R vermilion:vermilion /app/data
USER 10001:10001

EXPOSE 8000
# uvicorn stops on SIGTERM: it stops accepting, lets requests in flight finish for up to
# VERMILION_SHUTDOWN_TIMEOUT_SECONDS (15), cancels the rest, then closes its connections (each step
# bounded). Docker's default 10 s before SIGKILL is too short: `docker run --stop-timeout 45`, as
# docker-compose.yml's stop_grace_period.
STOPSIGNAL SIGTERM
# /healthz answers 200 only while the database does. The slim image has no curl: Python asks instead, and
# an error status or a refused connection makes it exit non-zero.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
# With VERMILION_METRICS=true, `vermilion serve` gives its workers a shared PROMETHEUS_MULTIPROC_DIR (a
# fresh directory under /tmp, or the one named, emptied) so /metrics sums every worker's counts.
# Migrations run before the server starts; with several replicas, run `vermilion migrate` as a job instead.
# `exec` makes the server PID 1, so SIGTERM reaches uvicorn rather than the shell.
CMD ["sh", "-c", "vermilion migrate && exec vermilion serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
