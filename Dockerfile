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
COPY mappings ./mappings
RUN pip install . \
    && useradd --system --create-home --uid 10001 handoff \
    && mkdir -p /data && chown handoff /data

USER handoff
WORKDIR /data
EXPOSE 8765
ENTRYPOINT ["handoff-sync"]
# Until the daemon lands (`handoff-sync run`), the image serves the loopback sandbox;
# inside a container "loopback" must be the container's own interface to be reachable.
CMD ["sandbox", "--host", "0.0.0.0", "--port", "8765"]
