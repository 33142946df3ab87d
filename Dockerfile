# The decision service: `regime serve` with the project's packs, a SQLite decision log on a
# volume (or PostgreSQL with REGIME_DATABASE_URL), tokens verified with a mounted JWKS file.
#   docker build -t regime .
#   docker run -p 8080:8080 -v regime-data:/data -v $PWD/jwks.json:/config/jwks.json:ro regime
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine engine
COPY schemas schemas
COPY adapters adapters
COPY cli cli
COPY service service
COPY policies policies
RUN pip install '.[service]' \
    && useradd --system --uid 10001 --home /app regime \
    && mkdir -p /data /config && chown regime /data
USER regime
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health/readiness', timeout=4).status == 200 else 1)"]

# Inside the container the server listens on all interfaces so the port can be published.
CMD ["regime", "serve", "--packs", "/app/policies", "--database-url", "sqlite:////data/decisions.db", "--host", "0.0.0.0", "--port", "8080", "--workers", "2", "--jwks", "/config/jwks.json"]
