# One image for the platform's Python services: the API (gunicorn), dagster-webserver,
# dagster-daemon and the code location. docker-compose.yaml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home DJANGO_SETTINGS_MODULE=emg_django.settings

RUN apt-get update && apt-get install -y --no-install-recommends openssh-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY emg_django ./emg_django
COPY emg_assets ./emg_assets
COPY slurm_resource ./slurm_resource
COPY sensors ./sensors
COPY manage.py workspace.yaml ./
COPY deployment/dagster/workspace.compose.yaml ./deployment/dagster/
RUN pip install . && mkdir -p "$DAGSTER_HOME" && cp /dev/null "$DAGSTER_HOME/.keep"
COPY dagster.yaml "$DAGSTER_HOME/dagster.yaml"

RUN useradd --create-home --uid 1000 emg && chown -R emg /opt/dagster
USER emg
EXPOSE 8000 3000 4000
CMD ["gunicorn", "emg_django.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2"]
