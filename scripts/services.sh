#!/usr/bin/env bash
# Local PostgreSQL and Redis for development and tests.
# Usage: scripts/services.sh up|down|status|env
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
PG_PORT=55432
REDIS_PORT=56379
DEFAULT_DB_URL="postgres://greenchannel@127.0.0.1:${PG_PORT}/greenchannel?sslmode=disable"
DEFAULT_REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
REDIS_DIR="$ROOT/.data/redis"
PGBIN=""
APT_UPDATED=""

say() { echo "services: $*"; }
die() { echo "services: $*" >&2; exit 1; }

db_url() { echo "${GC_DATABASE_URL:-$DEFAULT_DB_URL}"; }
redis_url() { echo "${GC_REDIS_URL:-$DEFAULT_REDIS_URL}"; }

# A variable that merely repeats the default (e.g. exported from `env`)
# still means "the project-local instance", so `up` should manage it.
external_db() { [[ -n ${GC_DATABASE_URL:-} && $GC_DATABASE_URL != "$DEFAULT_DB_URL" ]]; }
external_redis() { [[ -n ${GC_REDIS_URL:-} && $GC_REDIS_URL != "$DEFAULT_REDIS_URL" ]]; }

# ---- reachability (works without the client tools) ----

# TCP probe for when the client tools are missing. $1: URL such as
# scheme://user:pw@host:port/path?query, $2: port to use when the URL has none.
tcp_probe() {
  local rest=${1#*://} host port=$2
  rest=${rest%%[/?]*}; rest=${rest##*@}; host=$rest
  [[ $rest =~ ^(.*):([0-9]+)$ ]] && host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
  host=${host#[}; host=${host%]}
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${host:-127.0.0.1}" "$port" 2>/dev/null
}

pg_tool() {
  if [[ -n $PGBIN && -x $PGBIN/$1 ]]; then echo "$PGBIN/$1"; else command -v "$1" || true; fi
}

pg_reachable() {
  local isready; isready=$(pg_tool pg_isready)
  if [[ -n $isready ]]; then "$isready" -q -t 3 -d "$1"; else tcp_probe "$1" 5432; fi
}

redis_reachable() {
  if command -v redis-cli >/dev/null; then
    [[ $(timeout 5 redis-cli -u "$1" ping 2>/dev/null) == PONG ]]
  else
    tcp_probe "$1" 6379
  fi
}

# ---- packages ----

find_pgbin() {
  local d
  PGBIN=""
  # sort -V so that 15 beats 9.6; a plain glob sorts lexically.
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && PGBIN=$d
  done
  return 0
}

apt_install() {
  local -a sudo=()
  if [[ $EUID -ne 0 ]]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      say "missing: $*"
      say "install them with: sudo apt-get install -y postgresql redis-server"
      exit 1
    fi
  fi
  say "installing $*"
  [[ -n $APT_UPDATED ]] || { "${sudo[@]}" apt-get update -q >/dev/null; APT_UPDATED=1; }
  # The postgresql package may start a system cluster on 5432; harmless, we never use it.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

ensure_packages() { # $1: need postgres (0/1), $2: need redis (0/1)
  local -a missing=()
  find_pgbin
  [[ $1 == 1 && -z $PGBIN ]] && missing+=(postgresql)
  [[ $2 == 1 ]] && ! command -v redis-server >/dev/null && missing+=(redis-server)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  apt_install "${missing[@]}"
  find_pgbin
  [[ $1 == 0 || -n $PGBIN ]] || die "no initdb/pg_ctl/postgres under /usr/lib/postgresql/*/bin"
}

# ---- PostgreSQL ----

# PostgreSQL refuses to run as root, and as root the clone may sit in a folder
# the postgres user cannot traverse (e.g. /root). So root keeps the cluster in
# a postgres-owned folder keyed by the clone path, and .data/pg links to it.
pg_base() {
  if [[ -d $ROOT/.data/pg && ! -L $ROOT/.data/pg ]]; then echo "$ROOT/.data/pg"
  elif [[ $EUID -eq 0 ]]; then
    echo "/var/tmp/greenchannel-pg/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  else echo "$ROOT/.data/pg"; fi
}

pg_user() {
  local base=$1 owner=postgres
  [[ -d $base ]] && owner=$(stat -c %U "$base")
  [[ $owner != root ]] || die "$base is owned by root; PostgreSQL will not run as root"
  echo "$owner"
}

as_pg() { # runs a command as the cluster owner; cd / so it never needs our cwd
  if [[ $EUID -eq 0 ]]; then (cd / && runuser -u "$PG_USER" -- "$@"); else "$@"; fi
}

pg_prepare_dirs() {
  local base=$1
  if [[ $EUID -eq 0 && $base != "$ROOT/.data/pg" ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home postgres
    install -d -m 755 /var/tmp/greenchannel-pg
    install -d -m 700 -o postgres -g "$(id -gn postgres)" "$base" "$base/run"
    mkdir -p "$ROOT/.data"
    ln -sfn "$base" "$ROOT/.data/pg"
  else
    mkdir -p "$base/run" && chmod 700 "$base"
  fi
}

pg_initdb() {
  local data=$1 locale=C out
  locale -a 2>/dev/null | grep -qixE 'c\.utf-?8' && locale=C.UTF-8
  out=$(as_pg "$PGBIN/initdb" -D "$data" --auth=trust --username=postgres \
    --encoding=UTF8 --locale="$locale" 2>&1) || { echo "$out" >&2; die "initdb failed"; }
}

pg_start() {
  local base=$1
  # fsync and friends are off: this is a throwaway dev/test cluster, speed wins.
  local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$base/run'"
  opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  # Shared buffers an eighth of the machine's memory, between 128 MB and
  # 4 GB (production guides say a quarter; this cluster shares the machine).
  # Pages outside them are read from the OS cache one system call each,
  # which at the bench's millions of rows cost more than the queries.
  local mem_mb memory
  mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo 2>/dev/null || echo 2048)
  memory="-c max_connections=300 -c shared_buffers=$(( mem_mb / 8 < 128 ? 128 : mem_mb / 8 > 4096 ? 4096 : mem_mb / 8 ))MB"
  pg_huge_pages "$base/data" "$memory"
  opts+=" $memory -c huge_pages=try"
  if ! as_pg "$PGBIN/pg_ctl" -D "$base/data" -l "$base/postgres.log" -w -o "$opts" start >/dev/null; then
    tail -n 20 "$base/postgres.log" >&2 || true
    die "postgres failed to start (log: $base/postgres.log)"
  fi
}

# Sets 2 MB pages aside for the shared memory when this machine lets us
# (root, a writable vm.nr_hugepages; only ever raised). Each backend maps
# the shared memory page by page as it first touches it, and on virtual
# machines such a page fault is slow: a new connection reading 80 cached
# buffers took 6 ms with 4 kB pages, 2 ms with 2 MB pages and 0.2 ms once
# mapped. Without the reservation PostgreSQL uses 4 kB pages (huge_pages=try).
pg_huge_pages() { # $1: data directory, $2: the memory settings
  local file=/proc/sys/vm/nr_hugepages need total free
  [[ $EUID -eq 0 && -w $file ]] || return 0
  # shellcheck disable=SC2086 # $2 is several options
  need=$(as_pg "$PGBIN/postgres" -D "$1" -C shared_memory_size_in_huge_pages $2 2>/dev/null) || return 0
  [[ $need =~ ^[0-9]+$ && $need -gt 0 ]] || return 0
  total=$(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)
  free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
  ((free >= need)) && return 0
  echo $((total - free + need)) >"$file" 2>/dev/null || return 0
  say "postgres: $((need * 2)) MB of huge pages set aside for its shared memory"
}

pg_admin() {
  "$(pg_tool psql)" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -X -q -t -A "$@"
}

pg_ensure_db() {
  [[ -n $(pg_admin -c "select 1 from pg_roles where rolname = 'greenchannel'") ]] ||
    pg_admin -c "create role greenchannel login superuser" # tests create databases and extensions
  [[ -n $(pg_admin -c "select 1 from pg_database where datname = 'greenchannel'") ]] ||
    pg_admin -c "create database greenchannel owner greenchannel"
}

pg_up() {
  local base how=reused
  if ! "$(pg_tool pg_isready)" -q -t 3 -h 127.0.0.1 -p "$PG_PORT"; then
    base=$(pg_base)
    pg_prepare_dirs "$base"
    PG_USER=$(pg_user "$base")
    [[ -f $base/data/PG_VERSION ]] || pg_initdb "$base/data"
    pg_start "$base"
    how="started (data: $base)"
  fi
  pg_ensure_db
  say "postgres $how: $DEFAULT_DB_URL"
}

pg_mine() { # is the cluster of this clone running?
  local base; base=$(pg_base)
  [[ -n $PGBIN && -f $base/data/postmaster.pid ]] || return 1
  PG_USER=$(pg_user "$base")
  as_pg "$PGBIN/pg_ctl" -D "$base/data" status >/dev/null 2>&1
}

pg_down() {
  if ! pg_mine; then say "postgres: not running from this clone"; return; fi
  as_pg "$PGBIN/pg_ctl" -D "$(pg_base)/data" -m fast -w stop >/dev/null
  say "postgres stopped"
}

# ---- Redis ----

redis_pid() { # pid of this clone's redis, if alive
  local pid
  pid=$(cat "$REDIS_DIR/redis.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && grep -q redis "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

redis_up() {
  if redis_reachable "$DEFAULT_REDIS_URL"; then say "redis reused: $DEFAULT_REDIS_URL"; return; fi
  mkdir -p "$REDIS_DIR"
  # asynq loses tasks without persistence or under eviction; each test
  # package takes its own database number, hence 64 of them.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --databases 64 --save "" || die "redis-server failed to start"
  for _ in $(seq 50); do
    redis_reachable "$DEFAULT_REDIS_URL" && { say "redis started (data: $REDIS_DIR): $DEFAULT_REDIS_URL"; return; }
    sleep 0.1
  done
  tail -n 20 "$REDIS_DIR/redis.log" >&2 || true
  die "redis did not answer PING on port $REDIS_PORT"
}

redis_down() {
  local pid
  if ! pid=$(redis_pid); then say "redis: not running from this clone"; return; fi
  # SIGTERM flushes the AOF and exits; no RDB snapshot since save is "".
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { say "redis stopped"; return; }; sleep 0.1; done
  die "redis (pid $pid) did not stop"
}

# ---- commands ----

cmd_up() {
  local need_pg=1 need_redis=1
  if external_db; then
    pg_reachable "$GC_DATABASE_URL" || die "GC_DATABASE_URL is set but not reachable: $GC_DATABASE_URL"
    say "postgres from GC_DATABASE_URL: $GC_DATABASE_URL"; need_pg=0
  fi
  if external_redis; then
    redis_reachable "$GC_REDIS_URL" || die "GC_REDIS_URL is set but not reachable: $GC_REDIS_URL"
    say "redis from GC_REDIS_URL: $GC_REDIS_URL"; need_redis=0
  fi
  [[ $need_pg == 1 || $need_redis == 1 ]] || return 0
  ensure_packages "$need_pg" "$need_redis"
  [[ $need_pg == 0 ]] || pg_up
  [[ $need_redis == 0 ]] || redis_up
}

cmd_status() {
  local db redis mine
  find_pgbin
  db=$(db_url) redis=$(redis_url)
  # "(this clone)" only when the URL is the project-local one we manage.
  mine=""; [[ $db == "$DEFAULT_DB_URL" ]] && pg_mine && mine=" (this clone)"
  if pg_reachable "$db"; then say "postgres running$mine: $db"; else say "postgres not running: $db"; fi
  mine=""; [[ $redis == "$DEFAULT_REDIS_URL" ]] && redis_pid >/dev/null && mine=" (this clone)"
  if redis_reachable "$redis"; then say "redis running$mine: $redis"; else say "redis not running: $redis"; fi
}

case ${1:-} in
  up) cmd_up ;;
  down) find_pgbin; pg_down; redis_down ;;
  status) cmd_status ;;
  env) echo "GC_DATABASE_URL=$(db_url)"; echo "GC_REDIS_URL=$(redis_url)" ;;
  *) die "usage: scripts/services.sh up|down|status|env" ;;
esac
