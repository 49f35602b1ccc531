# samhandling-adapter. Until the service lands, the image runs the main job: every example validated and summarised.
# The standards directory (FHIR core, no-basis, KITH) is mounted, never copied: docker run -v /path/to/standards:/standards
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SAMHANDLING_HOME=/app SAMHANDLING_STANDARDS=/standards SAMHANDLING_CACHE=/tmp/samhandling-cache
WORKDIR /app
COPY pyproject.toml README.md ./
COPY adapter ./adapter
RUN pip install --no-cache-dir -e . && useradd --system --uid 10001 samhandling
COPY profiles/sushi-config.yaml ./profiles/sushi-config.yaml
COPY profiles/resources ./profiles/resources
COPY mappings ./mappings
COPY examples ./examples
USER samhandling
ENTRYPOINT ["samhandling"]
CMD ["examples", "check"]
