# Complaint Coach: slim image, dependencies in their own cached layer, runs as a non-root user,
# knowledge index built at image build time so the first review is answered at once.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH="/opt/venv/bin:$PATH" \
    COACH_DATA_DIR=/data

RUN pip install --no-cache-dir "uv>=0.13,<0.14" \
    && useradd --create-home --uid 10001 coach \
    && mkdir /data && chown coach /data

WORKDIR /app
# Dependencies first: this layer is reused until pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

COPY README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY prompts ./prompts
RUN uv sync --locked --no-dev --no-editable

USER coach
# Builds the card index with the default embeddings (no model, no download).
RUN complaint-coach kb stats

VOLUME /data
# Only used with `run --webhook URL` (the webhook server listens on 0.0.0.0:8080).
EXPOSE 8080
ENTRYPOINT ["complaint-coach"]
CMD ["run"]
