# A stand-in for the public redis image, for a machine that cannot pull (docs/deploy.md,
# "No registry"): Debian's redis-server (7.0) on the locally made base image. The compose
# file runs `redis-server ...` and probes `redis-cli ping`, which both images have.
#   docker build --network host -f deploy/local/redis.Dockerfile -t cexarb-redis:local deploy/local
ARG BASE_IMAGE=cexarb-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
USER redis
WORKDIR /data
# Like the public image's entrypoint: with no config file, a Redis in a container must accept
# connections from the other containers (protected mode would refuse every non-loopback one).
ENTRYPOINT ["/bin/sh", "-c", "exec \"$@\" --protected-mode no", "--"]
CMD ["redis-server"]
