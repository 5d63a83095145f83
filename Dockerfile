# handoff-sync: slim Python base, the package installed, run as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/handoff-sync
COPY setup.cfg pyproject.toml README.md ./
COPY handoff_sync ./handoff_sync
COPY connectors ./connectors
COPY migrations ./migrations
COPY mappings ./mappings
RUN pip install . \
    && useradd --system --create-home --uid 10001 handoff \
    && mkdir -p /data && chown handoff /data

USER handoff
WORKDIR /data
# The daemon reads /config/handoff-sync.yaml (mount it with the mappings folder it names);
# set `server: {host: 0.0.0.0}` there to reach /metrics from outside the container.
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"
ENTRYPOINT ["handoff-sync"]
CMD ["run", "--config", "/config/handoff-sync.yaml"]
