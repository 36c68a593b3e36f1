# A stand-in for the public postgres image, for a machine that cannot pull (docs/deploy.md,
# "No registry"): Debian's PostgreSQL 15 on the locally made base image. It honours what the
# compose file and the tests give the public image: POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD, the data in /var/lib/postgresql/data (PGDATA),
# `pg_isready`, and arguments passed on to postgres (`-p 5433 -c fsync=off`).
#   docker build --network host -f deploy/local/postgres.Dockerfile -t cexarb-postgres:local deploy/local
ARG BASE_IMAGE=cexarb-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH="/usr/lib/postgresql/15/bin:$PATH" PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
EXPOSE 5432
# Fast shutdown on stop (the public image does the same): sessions end, commits stay.
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/sh", "/usr/local/bin/postgres-entrypoint.sh"]
CMD []
