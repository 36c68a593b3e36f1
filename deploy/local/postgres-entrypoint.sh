#!/bin/sh
# First start: a cluster owned by POSTGRES_USER (default postgres) with POSTGRES_PASSWORD,
# and POSTGRES_DB created. Local socket connections are trusted; TCP ones need the password
# (scram-sha-256) unless POSTGRES_HOST_AUTH_METHOD says otherwise (trust, for tests).
# Later starts (a restarted container, a kept volume) find PGDATA and only run postgres.
set -eu
user="${POSTGRES_USER:-postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ "$method" != trust ] && [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "postgres-entrypoint: set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust" >&2
        exit 2
    fi
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-unused}" > "$pwfile"
    initdb -D "$PGDATA" -U "$user" -E UTF8 --auth-local=trust --auth-host="$method" \
        --pwfile="$pwfile" --no-sync --no-instructions >/dev/null
    rm -f "$pwfile"
    printf 'host all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"
    db="${POSTGRES_DB:-$user}"
    if [ "$db" != postgres ]; then
        postgres --single -D "$PGDATA" -j postgres <<SQL >/dev/null
CREATE DATABASE "$db" OWNER "$user";
SQL
    fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
