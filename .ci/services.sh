# shellcheck shell=bash
# Local servers for the external-db handler tests and benchmark (test/external-db, bench/dump.ts).
#
#   source .ci/services.sh        # what .ci/run does before `npm test`: starts everything, exports BDR_*
#   bash .ci/services.sh          # same, and prints the exports (for a shell: eval "$(bash .ci/services.sh)")
#   bash .ci/services.sh stop     # stops the three servers (data is kept)
#
# Starts, on 127.0.0.1 only:
#   - PostgreSQL (Debian's) on $BDR_PG_PORT, TLS on (self-signed certificate), superuser with password;
#   - MariaDB (Debian's) on $BDR_MYSQL_PORT, WITHOUT TLS (the "TLS required but unavailable" fault test);
#   - s3rver + ListMultipartUploads/AbortMultipartUpload (test/external-db/support/s3-server.ts) on $BDR_S3_PORT.
# Idempotent: installs packages only when a binary is missing, initialises data directories once, and
# starts only what is not already answering. Works as root on a fresh Debian bookworm machine.
# Safe to source (also under `set -euo pipefail`): the work runs in a separate bash process with
# `set -euo pipefail`; only the BDR_* exports reach the caller, whose shell options are untouched.
# Exports: BDR_SERVICES_DIR, BDR_PG_{HOST,PORT,USER,PASSWORD,URL,MAJOR,BIN_DIR}, BDR_MYSQL_{HOST,PORT,USER,PASSWORD,
# FLAVOR,MAJOR}, BDR_S3_{ENDPOINT,PORT,BUCKET,REGION,ACCESS_KEY_ID,SECRET_ACCESS_KEY}.
# Passwords below are for throw-away local test servers that listen on loopback only.

BDR_SERVICES_DIR="${BDR_SERVICES_DIR:-/var/tmp/bdr-services}"
BDR_PG_HOST=127.0.0.1
BDR_PG_PORT="${BDR_PG_PORT:-55432}"
BDR_PG_USER=bdr_admin
BDR_PG_PASSWORD='bdr-pg-Secret-1'
BDR_MYSQL_HOST=127.0.0.1
BDR_MYSQL_PORT="${BDR_MYSQL_PORT:-53306}"
BDR_MYSQL_USER=bdr_admin
BDR_MYSQL_PASSWORD='bdr-my-Secret-1'
BDR_S3_PORT="${BDR_S3_PORT:-54569}"
BDR_S3_BUCKET=bdr-test

_bdr_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_bdr_wait_port() { # host port seconds
  local i
  for ((i = 0; i <= $3 * 10; i++)); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    [ "$3" = 0 ] || sleep 0.1
  done
  return 1
}

_bdr_pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

# Runs in its own bash process (see the bottom of the file), so `set -e` holds even when the caller
# sources this file inside an `if` or with `||`.
_bdr_services_start() {
  set -euo pipefail
  export PATH="$PATH:/usr/sbin:/sbin"
  log() { echo "[services] $*" >&2; }

  # ---- packages -------------------------------------------------------------------------------
  local missing=()
  [ -n "$(_bdr_pg_bindir)" ] && [ -x "$(_bdr_pg_bindir)/initdb" ] || missing+=(postgresql)
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v mariadb-dump >/dev/null 2>&1 || missing+=(mariadb-client)
  command -v zstd >/dev/null 2>&1 || missing+=(zstd)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Do not let the packages start their default instances (ours run on custom ports).
    local own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql mariadb-server mariadb-client zstd openssl ssl-cert >/dev/null
    [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  fi

  mkdir -p "$BDR_SERVICES_DIR"
  chmod 755 "$BDR_SERVICES_DIR"

  # ---- PostgreSQL (TLS on) ------------------------------------------------------------------------
  local pgbin pgdata pgsock
  pgbin="$(_bdr_pg_bindir)"
  pgdata="$BDR_SERVICES_DIR/pg"
  pgsock="$BDR_SERVICES_DIR/pg-run" # socket and log, owned by postgres
  if ! PGPASSWORD="$BDR_PG_PASSWORD" "$pgbin/psql" -X -q -h "$BDR_PG_HOST" -p "$BDR_PG_PORT" -U "$BDR_PG_USER" \
      -d postgres -c 'select 1' >/dev/null 2>&1; then
    mkdir -p "$pgsock" && chown postgres:postgres "$pgsock"
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      log "initialising PostgreSQL in $pgdata"
      rm -rf "$pgdata" && mkdir -p "$pgdata" && chown postgres:postgres "$pgdata" && chmod 700 "$pgdata"
      local pwfile
      pwfile="$(mktemp)"
      printf '%s\n' "$BDR_PG_PASSWORD" >"$pwfile"
      chown postgres "$pwfile"
      runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -U "$BDR_PG_USER" --pwfile="$pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$pwfile"
      # Self-signed server certificate: TLS is available, clients with sslmode=require use it.
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
        -keyout "$pgdata/server.key" -out "$pgdata/server.crt" >/dev/null 2>&1
      chown postgres:postgres "$pgdata/server.key" "$pgdata/server.crt"
      chmod 600 "$pgdata/server.key"
      cat >>"$pgdata/postgresql.conf" <<EOF

# --- .ci/services.sh (throw-away test server) ---
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 256MB
max_wal_size = 2GB
EOF
      cat >"$pgdata/pg_hba.conf" <<EOF
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
EOF
    fi
    log "starting PostgreSQL on $BDR_PG_HOST:$BDR_PG_PORT"
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -l "$pgsock/pg.log" -w -t 60 \
      -o "-c listen_addresses=$BDR_PG_HOST -p $BDR_PG_PORT -k $pgsock" start >/dev/null
  fi

  # ---- MariaDB (no TLS) ---------------------------------------------------------------------------
  local mydata myrun mysock
  mydata="$BDR_SERVICES_DIR/mariadb"
  myrun="$BDR_SERVICES_DIR/mariadb-run" # socket, pid and log, owned by mysql
  mysock="$myrun/mariadb.sock"
  if ! MYSQL_PWD="$BDR_MYSQL_PASSWORD" mariadb --no-defaults --skip-ssl -h "$BDR_MYSQL_HOST" -P "$BDR_MYSQL_PORT" \
      -u "$BDR_MYSQL_USER" -e 'select 1' >/dev/null 2>&1; then
    if [ ! -d "$mydata/mysql" ]; then
      log "initialising MariaDB in $mydata"
      rm -rf "$mydata" && mkdir -p "$mydata" && chown mysql:mysql "$mydata"
      mariadb-install-db --no-defaults --user=mysql --datadir="$mydata" --skip-test-db \
        --auth-root-authentication-method=socket >/dev/null
    fi
    mkdir -p "$myrun" && chown mysql:mysql "$myrun"
    log "starting MariaDB on $BDR_MYSQL_HOST:$BDR_MYSQL_PORT (TLS disabled)"
    # setsid + nohup: keeps running after this script (and a CI step) returns.
    setsid nohup /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$mydata" \
      --bind-address="$BDR_MYSQL_HOST" --port="$BDR_MYSQL_PORT" --socket="$mysock" \
      --pid-file="$myrun/mariadb.pid" --log-error="$myrun/mariadb.log" \
      --skip-ssl --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
      --max-allowed-packet=64M </dev/null >/dev/null 2>&1 &
    local i
    for ((i = 0; i < 600; i++)); do
      [ -S "$mysock" ] && mariadb --no-defaults -S "$mysock" -u root -e 'select 1' >/dev/null 2>&1 && break
      sleep 0.1
    done
    [ "$i" -lt 600 ] || { log "MariaDB did not start:"; tail -n 30 "$myrun/mariadb.log" >&2 || true; exit 1; }
    # (Re)create the test superuser: cheap, and repairs a data directory from an interrupted first run.
    mariadb --no-defaults -S "$mysock" -u root <<EOF
CREATE USER IF NOT EXISTS '$BDR_MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$BDR_MYSQL_PASSWORD';
ALTER USER '$BDR_MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$BDR_MYSQL_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$BDR_MYSQL_USER'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
EOF
  fi

  # ---- S3 (s3rver + multipart extensions) ---------------------------------------------------------
  if ! _bdr_wait_port 127.0.0.1 "$BDR_S3_PORT" 0; then
    log "starting S3 server on 127.0.0.1:$BDR_S3_PORT"
    [ -d "$_bdr_repo_root/node_modules/s3rver" ] || (cd "$_bdr_repo_root" && npm ci --no-audit --no-fund >/dev/null)
    mkdir -p "$BDR_SERVICES_DIR/s3"
    (
      cd "$_bdr_repo_root"
      TS_NODE_PROJECT="$_bdr_repo_root/test/tsconfig.json" TS_NODE_TRANSPILE_ONLY=1 \
        setsid nohup node -r ts-node/register test/external-db/support/s3-server.ts \
        --port "$BDR_S3_PORT" --directory "$BDR_SERVICES_DIR/s3" --bucket "$BDR_S3_BUCKET" \
        </dev/null >"$BDR_SERVICES_DIR/s3.log" 2>&1 &
      echo $! >"$BDR_SERVICES_DIR/s3.pid"
    )
    _bdr_wait_port 127.0.0.1 "$BDR_S3_PORT" 30 || { cat "$BDR_SERVICES_DIR/s3.log" >&2; exit 1; }
  fi
  _bdr_wait_port "$BDR_PG_HOST" "$BDR_PG_PORT" 30
  _bdr_wait_port "$BDR_MYSQL_HOST" "$BDR_MYSQL_PORT" 30
  log "ready: postgres $BDR_PG_HOST:$BDR_PG_PORT (TLS), mariadb $BDR_MYSQL_HOST:$BDR_MYSQL_PORT (no TLS), s3 http://127.0.0.1:$BDR_S3_PORT"
}

_bdr_services_stop() {
  local pgbin
  pgbin="$(_bdr_pg_bindir)"
  [ -f "$BDR_SERVICES_DIR/pg/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$BDR_SERVICES_DIR/pg" -m fast stop || true
  [ -f "$BDR_SERVICES_DIR/mariadb-run/mariadb.pid" ] && kill "$(cat "$BDR_SERVICES_DIR/mariadb-run/mariadb.pid")" 2>/dev/null || true
  local pid
  pid="$(cat "$BDR_SERVICES_DIR/s3.pid" 2>/dev/null || true)"
  # Only the process this script started (the pid file may be stale).
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 's3-server.ts'; then kill "$pid"; fi
  rm -f "$BDR_SERVICES_DIR/s3.pid"
}

_bdr_services_export() {
  export BDR_SERVICES_DIR
  export BDR_PG_HOST BDR_PG_PORT BDR_PG_USER BDR_PG_PASSWORD
  export BDR_PG_BIN_DIR
  BDR_PG_BIN_DIR="$(_bdr_pg_bindir)"
  export BDR_PG_MAJOR
  BDR_PG_MAJOR="$(basename "$(dirname "$BDR_PG_BIN_DIR")")"
  export BDR_PG_URL="postgresql://$BDR_PG_USER:$BDR_PG_PASSWORD@$BDR_PG_HOST:$BDR_PG_PORT/postgres"
  export BDR_MYSQL_HOST BDR_MYSQL_PORT BDR_MYSQL_USER BDR_MYSQL_PASSWORD
  export BDR_MYSQL_FLAVOR=mariadb
  export BDR_MYSQL_MAJOR
  BDR_MYSQL_MAJOR="$( (/usr/sbin/mariadbd --version 2>/dev/null || true) | sed -n 's/.*Ver \([0-9]*\)\..*/\1/p')"
  export BDR_S3_ENDPOINT="http://127.0.0.1:$BDR_S3_PORT"
  export BDR_S3_BUCKET BDR_S3_PORT
  export BDR_S3_REGION=us-east-1
  # s3rver's fixed credentials.
  export BDR_S3_ACCESS_KEY_ID=S3RVER
  export BDR_S3_SECRET_ACCESS_KEY=S3RVER
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = "__start" ]; then
  _bdr_services_start
  exit 0
elif [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = "stop" ]; then
  _bdr_services_stop
elif BDR_SERVICES_DIR="$BDR_SERVICES_DIR" BDR_PG_PORT="$BDR_PG_PORT" BDR_MYSQL_PORT="$BDR_MYSQL_PORT" \
    BDR_S3_PORT="$BDR_S3_PORT" bash "${BASH_SOURCE[0]}" __start; then
  _bdr_services_export
  if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Executed, not sourced: print the exports so a caller can eval them.
    for _v in $(compgen -e | grep '^BDR_'); do printf 'export %s=%q\n' "$_v" "${!_v}"; done
  fi
else
  echo "[services] FAILED to start the external-db test services (logs: $BDR_SERVICES_DIR/{pg-run/pg.log,mariadb-run/mariadb.log,s3.log})" >&2
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi
