#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer.
# Starts them if they are installed but stopped; fails loudly if missing.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    echo "Starting PostgreSQL..."
    for v in $(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect "$v" main start || true; done
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  if ! pg_up; then
    echo "ERROR: PostgreSQL is not running on 127.0.0.1:5432 and could not be started." >&2
    echo "       Install it (apt-get install postgresql) with trust auth for user postgres on 127.0.0.1." >&2
    exit 1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Starting Redis..."
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/wangnong-test.log
    for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  fi
  if ! redis_up; then
    echo "ERROR: Redis is not running on 127.0.0.1:6379 and could not be started." >&2
    echo "       Install it (apt-get install redis-server)." >&2
    exit 1
  fi
fi
echo "PostgreSQL and Redis are up."
