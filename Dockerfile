# samhandling-adapter: the FHIR and KITH service under gunicorn, as a non-root user.
# The standards directory (FHIR core, no-basis, KITH XSDs) is mounted, never copied, and the store lives in /data:
#   docker run -p 8080:8080 -v /path/to/standards:/standards -v samhandling-data:/data \
#     -v /path/to/config:/config -e SAMHANDLING_DATABASE_URL=postgresql://... \
#     -e SAMHANDLING_TOKEN_KEYS_FILE=/config/jwks.json -e SAMHANDLING_ROUTES_FILE=/config/routes.yaml samhandling-adapter
# A production serve refuses to start without token keys and a routing table (SAMHANDLING_ROUTES_FILE, see
# examples/service/routes.yaml; or `serve --allow-empty-routes`). compose.yaml runs this image as the whole
# production topology: the schema upgrade (`db upgrade`), two `serve --no-delivery` replicas, the `worker`, behind
# a TLS proxy. The build context leaves out .env, deploy/ (keys, certificates), .data/ (patient data), caches and
# tests (.dockerignore), so none of them can reach a layer.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SAMHANDLING_HOME=/app SAMHANDLING_STANDARDS=/standards SAMHANDLING_CACHE=/tmp/samhandling-cache \
    SAMHANDLING_DATA_DIR=/data
WORKDIR /app
# pango (with HarfBuzz subsetting) and a font for WeasyPrint, which prints the crisis plan page as PDF
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
        libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY adapter ./adapter
RUN pip install --no-cache-dir -e . && useradd --system --uid 10001 samhandling \
    && mkdir -p /data && chown samhandling /data
COPY profiles/sushi-config.yaml ./profiles/sushi-config.yaml
COPY profiles/resources ./profiles/resources
COPY profiles/model.yaml ./profiles/model.yaml
COPY mappings ./mappings
COPY examples ./examples
USER samhandling
VOLUME ["/data"]
EXPOSE 8080
# ready: the store answers (compose's proxy waits for it); the first minute is the start (profiles, XSDs, mappings)
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health/ready', timeout=5)"
# `samhandling serve` is gunicorn (gthread workers), each worker process also delivering the outbox
ENTRYPOINT ["samhandling"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
