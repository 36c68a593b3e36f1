# A stand-in for the public oliver006/redis_exporter image, for a machine that cannot pull
# (docs/deploy.md, "No registry"): Debian's prometheus-redis-exporter (1.45) on the locally
# made base image, on the public image's port (9121) and reading the same variables
# (REDIS_ADDR, REDIS_EXPORTER_CHECK_STREAMS).
#   docker build --network host -f deploy/local/redis-exporter.Dockerfile -t cexarb-redis-exporter:local deploy/local
ARG BASE_IMAGE=cexarb-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends prometheus-redis-exporter \
    && rm -rf /var/lib/apt/lists/*
USER nobody
EXPOSE 9121
ENTRYPOINT ["/usr/bin/prometheus-redis-exporter"]
CMD ["--web.listen-address=:9121"]
