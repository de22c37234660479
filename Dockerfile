FROM python:3.11-slim
# Production settings unless told otherwise: no DEBUG, and no start without DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
# REDIS_URL and CLIENT_IP_PROXY_COUNT (ImproperlyConfigured). docker-compose.yml sets them; README lists them.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=helpdesk.settings.production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The static files and their manifest are part of the image (the base settings need no secret to collect them).
RUN python manage.py collectstatic --noinput --settings=helpdesk.settings.base
RUN useradd --create-home app && mkdir -p var/media && chown -R app /app
USER app
# 8000: gunicorn; 2525: the mail gateway (manage.py mail_gateway), when the container runs it.
EXPOSE 8000 2525
CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
