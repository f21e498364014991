# One image for every Escucha process: web (gunicorn), Celery workers and beat.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ESCUCHA_PROFILE=production \
    ESCUCHA_VAR_DIR=/app/var

WORKDIR /app
# Pango, HarfBuzz and a font: WeasyPrint's system libraries, for the report PDF.
RUN groupadd --system escucha && useradd --system --gid escucha --home-dir /app escucha \
    && apt-get update && apt-get install -y --no-install-recommends gettext curl \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files and compiled translations are built into the image; the build needs throwaway
# values for the settings production insists on.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && SECRET_KEY=build-only-build-only-build-only-build-only-build-only ALLOWED_HOSTS=localhost \
    python manage.py compilemessages --ignore=.venv \
    && mkdir -p /app/var && chown -R escucha:escucha /app/var

USER escucha
EXPOSE 8000
# --preload: the master loads the application once and its workers share it (config/wsgi.py).
CMD ["gunicorn", "config.wsgi:application", "--preload", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
