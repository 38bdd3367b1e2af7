# Production image of the service. Configure with REGISTRY_* variables; in production
# REGISTRY_DATABASE_URL and the keys are required (see docs/configuration.md).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY registry ./registry
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 REGISTRY_ENV=production
RUN useradd --system --uid 10001 registry
COPY --from=build /install /usr/local
WORKDIR /app
COPY alembic.ini ./
COPY migrations ./migrations
USER registry
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["registry", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
