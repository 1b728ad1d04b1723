# Sourced by scripts/test: PostgreSQL must answer before the suite runs on it.
# In CI (CI=true) a missing service fails the run; on a developer machine we try to start it first.

postgres_up() {
  .venv/bin/python - "$1" <<'PY'
import asyncio, sys
import asyncpg

async def main(url: str) -> None:
    conn = await asyncio.wait_for(asyncpg.connect(url.replace("postgres://", "postgresql://", 1)), 5)
    await conn.close()

try:
    asyncio.run(main(sys.argv[1]))
except Exception as exc:  # report any failure to connect
    print(f"PostgreSQL at {sys.argv[1]} did not answer: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

ensure_postgres() {
  local url=$1
  postgres_up "$url" && return 0
  if [ "${CI:-}" != "true" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "==> starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    sleep 2
    postgres_up "$url" && return 0
  fi
  echo "PostgreSQL is required for the test suite (set VERMILION_TEST_POSTGRES_URL to point elsewhere)." >&2
  return 1
}

redis_up() {
  .venv/bin/python - "$1" <<'PY'
import sys
import redis

try:
    redis.Redis.from_url(sys.argv[1], socket_timeout=5).ping()
except Exception as exc:  # report any failure to connect
    print(f"Redis at {sys.argv[1]} did not answer: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

ensure_redis() {
  local url=$1
  redis_up "$url" && return 0
  if [ "${CI:-}" != "true" ] && command -v redis-server >/dev/null 2>&1; then
    echo "==> starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    sleep 1
    redis_up "$url" && return 0
  fi
  echo "Redis is required for the test suite (set VERMILION_TEST_REDIS_URL to point elsewhere)." >&2
  return 1
}
