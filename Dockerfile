# handoff-sync: slim Python base, pinned dependencies, run as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/handoff-sync
# Dependencies first, exactly as locked (versions and hashes: two builds of one commit
# install the same bytes), in their own layer so a code change does not reinstall them.
# Regenerate the lock after changing setup.cfg: see the comment at the top of it.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY setup.cfg pyproject.toml README.md ./
COPY handoff_sync ./handoff_sync
COPY connectors ./connectors
COPY migrations ./migrations
COPY mappings ./mappings
# --no-deps: everything it needs came from the lock; `pip check` fails the build if the
# lock no longer satisfies setup.cfg. --no-build-isolation: the locked setuptools builds it.
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && useradd --system --create-home --uid 10001 handoff \
    && mkdir -p /data && chown handoff /data

# The config is mounted read-only at /config; state goes to the writable /data volume
# (a relative SQLite path in the config lands there: HANDOFF_SYNC_DATA_DIR).
ENV HANDOFF_SYNC_CONFIG=/config/handoff-sync.yaml \
    HANDOFF_SYNC_DATA_DIR=/data
VOLUME /data
USER handoff
WORKDIR /data
# /healthz, /readyz and /metrics: server.port in the config (9464 unless changed); set
# `server: {host: 0.0.0.0}` there to publish it.
EXPOSE 9464
# `handoff-sync health` reads the port from the same config and asks /readyz: unhealthy
# when the database is gone, the schema is old or a pipeline keeps failing.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["handoff-sync", "health"]
ENTRYPOINT ["handoff-sync"]
CMD ["run"]
