# Threadline: one image, configured by a mounted TOML file (see docs/deploy.md).
# Build: docker build -t threadline .    Run: docker run -v $PWD/threadline.toml:/etc/threadline/threadline.toml:ro threadline

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY threadline ./threadline
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/threadline --create-home threadline
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV THREADLINE_CONFIG=/etc/threadline/threadline.toml \
    PYTHONUNBUFFERED=1
WORKDIR /var/lib/threadline
USER threadline
# The web server serves /healthz /readyz /metrics: set [ops] serve = true and [web] host = "0.0.0.0".
EXPOSE 8080
# SIGTERM stops reading mail, finishes in-flight deliveries ([ops] shutdown_grace_seconds), then exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["threadline", "run"]
