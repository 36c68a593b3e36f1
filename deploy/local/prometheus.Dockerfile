# A stand-in for the public prom/prometheus image, for a machine that cannot pull
# (docs/deploy.md, "No registry"): Debian's prometheus (2.42) on the locally made base image.
# Like the public image: the binary is the entrypoint, the compose file's flags are its
# arguments, the data in /prometheus, `promtool` beside it.
#   docker build --network host -f deploy/local/prometheus.Dockerfile -t cexarb-prometheus:local deploy/local
ARG BASE_IMAGE=cexarb-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /prometheus && chown prometheus:prometheus /prometheus
USER prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
