# Vermilion API image: uvicorn serving api.app:app.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps -e .
# jieba's dictionary cache, built once into the image so every worker loads it in ~50 ms.
ENV VERMILION_CACHE_DIR=/app/data/cache
RUN python -c "from pathlib import Path; from search.text import segmenter; \
    segmenter.configure(Path('/app/data/cache')); segmenter.tokenizer"

EXPOSE 8000
# Migrations run before the server starts; with several replicas, run `vermilion migrate` as a job instead.
CMD ["sh", "-c", "vermilion migrate && vermilion serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
