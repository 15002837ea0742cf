#!/bin/sh
# Makes a fresh checkout runnable: Node 20+, dependencies installed, PostgreSQL and Redis reachable
# on their default local ports (started if installed but down). Used by `npm test`, `npm run demo`
# and `npm run bench`, so each of them works from a fresh clone.
set -eu
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "vigil: Node.js >= 20 is required (found $(node --version)); install Node 20 LTS" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "vigil: installing dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund >&2
fi

# tcp_up HOST PORT: is something listening? (no nc/psql/redis-cli needed)
tcp_up() {
  node -e 'const s=require("net").connect({host:process.argv[1],port:+process.argv[2]});s.setTimeout(1000);s.on("connect",()=>process.exit(0));s.on("error",()=>process.exit(1));s.on("timeout",()=>process.exit(1))' "$1" "$2"
}

wait_up() {
  i=0
  while [ $i -lt 30 ]; do
    tcp_up "$1" "$2" && return 0
    i=$((i + 1))
    sleep 0.5
  done
  return 1
}

if [ -z "${DATABASE_URL:-}" ] && ! tcp_up 127.0.0.1 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "vigil: starting local PostgreSQL…" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start >&2 || true
  fi
  if ! wait_up 127.0.0.1 5432; then
    echo "vigil: PostgreSQL is not reachable on 127.0.0.1:5432 — run \`docker compose up -d postgres redis\`, or set DATABASE_URL" >&2
    exit 1
  fi
fi

if [ -z "${REDIS_URL:-}" ] && ! tcp_up 127.0.0.1 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "vigil: starting local Redis…" >&2
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --maxmemory-policy noeviction --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 || true
  fi
  if ! wait_up 127.0.0.1 6379; then
    echo "vigil: Redis is not reachable on 127.0.0.1:6379 — run \`docker compose up -d postgres redis\`, or set REDIS_URL" >&2
    exit 1
  fi
fi
