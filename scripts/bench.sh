#!/usr/bin/env bash
# Benchmarks. Each figure is printed beside a baseline measured in the same
# run on the same machine, because this machine is shared and noisy; every
# main figure is the median of several runs (--runs, default 3).
#
#   A  filing requests (issue 4): HTTP create vs pgbench running the same SQL,
#      serve's RSS, list/search at 1,000,000 requests vs pgbench of the list SQL
#   B  routing burst (issue 5): assignments/s vs asynq's own no-op throughput,
#      steady 200 requests/s commit-to-assigned vs asynq's enqueue-to-run
#
# The pgbench create script is the product's SQL copied from the server's
# statement log; before the runs a drift check files 5 requests each way and
# warns when the product writes rows the script does not (update the script).
# See scripts/bench/README.md for what each figure measures and how.
#
# It never touches the dev data: its own database greenchannel_bench (dropped
# and re-created at start; left behind at the end for inspection), Redis
# database 15 (flushed), HTTP port 18080. It starts and stops its own serve and
# worker processes. The output is also saved to .data/bench/<timestamp>.txt.
# The load generator and helpers are scripts/bench/load (Go), the pgbench
# scripts scripts/bench/pgbench/.
#
#   C  SLA engine (issue 6): 1,000,000 open requests running clocks (loaded
#      beside A4's): sweep tick with 1,000 clocks due, recompute of every
#      open clock after a calendar edit, the yearly SLA report; Go-level
#      timings of the product's functions vs pgbench of the SQL they send
#   D  inspections (issue 7): 5,000,000 inspections, 200,000 enterprises;
#      issuing a code (pre-checks included) at 50 inspectors vs pgbench of the
#      same SQL; public verify req/s vs the same server's /healthz
#   E  oversight (issue 8): alert evaluation of one new inspection, the
#      yearly inspection report, the enterprise burden view
#
# Usage: scripts/bench.sh [--create-seconds N] [--list-seconds N] [--steady-seconds N]
#                         [--runs N] [--rows N] [--burst N] [--burst-window N]
#                         [--inspections N] [--enterprises N] [--only A,B,C,D,E] [--reuse]
# Takes about 11–12 minutes on 2 cores for A and B; C–E take about 10 more
# on loaded data, and loading their data (1,000,000 open requests, clocks,
# 5,000,000 inspections) about 10–15 more.
# (or the same as BENCH_CREATE_SECONDS=… etc. in the environment, e.g.
#  `make bench BENCH_CREATE_SECONDS=30`; a quick try of C–E alone:
#  `scripts/bench.sh --only C,D,E --rows 100000 --inspections 500000 --enterprises 20000`)
# --only runs the named sections (A and B by default with the rest);
# --reuse keeps a bench database that is already loaded instead of
# re-creating it. BENCH_DB_NAME, BENCH_HTTP_PORT and BENCH_REDIS_DB move the
# bench to another database, port and Redis database.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)

CREATE_SECONDS=${BENCH_CREATE_SECONDS:-20} # A1/A2 per run; 30 s is the brief, 20 s keeps `make bench` near 12 min
LIST_SECONDS=${BENCH_LIST_SECONDS:-4}      # A4 per query per run: 3 × 4 s = 12 s per query (the brief's 15 s with 5)
STEADY_SECONDS=${BENCH_STEADY_SECONDS:-30} # B3
STEADY_RATE=${BENCH_STEADY_RATE:-200}
STEADY_LOW_RATE=${BENCH_STEADY_LOW_RATE:-20}      # B3 context run below capacity (0 s: skip)
STEADY_LOW_SECONDS=${BENCH_STEADY_LOW_SECONDS:-15}
RUNS=${BENCH_RUNS:-3}
ROWS=${BENCH_ROWS:-1000000}
BURST=${BENCH_BURST:-10000}
BURST_WINDOW=${BENCH_BURST_WINDOW:-12} # seconds a routing run may take; a slower one is cut off and its rate extrapolated
INSPECTIONS=${BENCH_INSPECTIONS:-5000000}  # D/E: inspection records over 3 years
ENTERPRISES=${BENCH_ENTERPRISES:-200000}   # D/E: enterprises they are spread over
ISSUE_SECONDS=${BENCH_ISSUE_SECONDS:-10}   # D1 per run
VERIFY_SECONDS=${BENCH_VERIFY_SECONDS:-6}  # D2 per run (and as long for /healthz)
ONLY=${BENCH_ONLY:-A,B,C,D,E}
REUSE=${BENCH_REUSE:-}

while [[ $# -gt 0 ]]; do
  case $1 in
    --create-seconds) CREATE_SECONDS=$2; shift 2 ;;
    --list-seconds) LIST_SECONDS=$2; shift 2 ;;
    --steady-seconds) STEADY_SECONDS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --burst) BURST=$2; shift 2 ;;
    --burst-window) BURST_WINDOW=$2; shift 2 ;;
    --inspections) INSPECTIONS=$2; shift 2 ;;
    --enterprises) ENTERPRISES=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    *) echo "usage: scripts/bench.sh [--create-seconds N] [--list-seconds N] [--steady-seconds N] [--runs N] [--rows N] [--burst N] [--burst-window N] [--inspections N] [--enterprises N] [--only A,B,C,D,E] [--reuse]" >&2; exit 2 ;;
  esac
done

want() { [[ ,${ONLY^^}, == *,$1,* ]]; } # is section $1 selected?
for s in ${ONLY//,/ }; do [[ ${s^^} =~ ^[A-E]$ ]] || { echo "bench: --only takes sections A–E, got $s" >&2; exit 2; }; done

HTTP_ADDR=127.0.0.1:${BENCH_HTTP_PORT:-18080}
BASE_URL=http://$HTTP_ADDR
export BENCH_BASE_URL=$BASE_URL # the load tool's server
BENCH_DBNAME=${BENCH_DB_NAME:-greenchannel_bench}
[[ $BENCH_DBNAME =~ ^[a-z0-9_]*bench[a-z0-9_]*$ ]] || { echo "bench: BENCH_DB_NAME must name a bench database (…bench…)" >&2; exit 2; }
REDIS_DB=${BENCH_REDIS_DB:-15}
[[ $REDIS_DB =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_REDIS_DB must be a database other than 0" >&2; exit 2; }
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUTDIR=$ROOT/.data/bench
WORK=$OUTDIR/$STAMP.work # binaries, logs of the processes, pgbench logs
OUT=$OUTDIR/$STAMP.txt
export BENCH_RESULTS=$WORK/results.jsonl

say() { echo "bench: $*"; }
failed() { echo "  $1: measurement failed (see above); the report shows n/a"; }
die() { echo "bench: $*" >&2; exit 1; }
section() { echo; echo "== $* [$(date -u +%H:%M:%S), +$((SECONDS))s]"; }

mkdir -p "$WORK"
exec > >(tee -a "$OUT") 2>&1
say "started $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(nproc) cores; output also in ${OUT#"$ROOT"/}"
say "sections $ONLY; runs $RUNS; create ${CREATE_SECONDS}s per run; list ${LIST_SECONDS}s per query per run; steady ${STEADY_SECONDS}s; $ROWS rows; burst $BURST; $INSPECTIONS inspections, $ENTERPRISES enterprises"

# ---- tools ----

APT_UPDATED=""
apt_install() {
  local -a sudo=()
  if [[ $EUID -ne 0 ]]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      die "missing: $*; install them with: sudo apt-get install -y $*"
    fi
  fi
  say "installing $*"
  [[ -n $APT_UPDATED ]] || { "${sudo[@]}" apt-get update -q >/dev/null; APT_UPDATED=1; }
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

PGBENCH=""
find_pgbench() { # the real binary: /usr/bin/pgbench may be a wrapper without one
  local d
  PGBENCH=""
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [[ -x $d/pgbench ]] && PGBENCH=$d/pgbench
  done
  return 0
}

ensure_tools() {
  local -a missing=()
  command -v go >/dev/null || die "go is not installed"
  command -v psql >/dev/null || missing+=(postgresql-client)
  find_pgbench
  [[ -n $PGBENCH ]] || missing+=(postgresql-contrib) # Debian: pgbench ships with the server package
  { command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null; } || missing+=(redis-tools)
  command -v curl >/dev/null || missing+=(curl)
  if [[ ${#missing[@]} -gt 0 ]]; then
    apt_install "${missing[@]}"
    find_pgbench
  fi
  [[ -n $PGBENCH ]] || die "no pgbench under /usr/lib/postgresql/*/bin"
}

# ---- where things are ----

BASE_DB_URL=${GC_DATABASE_URL:-postgres://greenchannel@127.0.0.1:55432/greenchannel?sslmode=disable}
BASE_REDIS_URL=${GC_REDIS_URL:-redis://127.0.0.1:56379/0}

db_url() { # $1: database name; same server, user and options as GC_DATABASE_URL
  local url=$BASE_DB_URL query="" prefix
  if [[ $url == *\?* ]]; then query="?${url#*\?}"; url=${url%%\?*}; fi
  if [[ ${url#*://} == */* ]]; then prefix=${url%/*}; else prefix=$url; fi
  echo "$prefix/$1$query"
}
BENCH_DB=$(db_url "$BENCH_DBNAME")
ADMIN_DB=$(db_url postgres)

redis_base=${BASE_REDIS_URL%/}
[[ ${redis_base#*://} == */* ]] && redis_base=${redis_base%/*}
BENCH_REDIS=$redis_base/$REDIS_DB
redis_hostport=${redis_base#*://}; redis_hostport=${redis_hostport##*@}
REDIS_HOST=${redis_hostport%:*}; REDIS_PORT=${redis_hostport##*:}
[[ $REDIS_PORT =~ ^[0-9]+$ ]] || REDIS_PORT=6379
REDIS_AUTH=()
if [[ ${redis_base#*://} == *@* ]]; then
  userinfo=${redis_base#*://}; userinfo=${userinfo%%@*}
  [[ $userinfo == *:* ]] && REDIS_AUTH=(-a "${userinfo#*:}" --no-auth-warning)
fi

# Everything below (the bench tool included) works on the bench database and
# Redis database only.
export GC_DATABASE_URL=$BENCH_DB GC_REDIS_URL=$BENCH_REDIS

psql_admin() { psql "$ADMIN_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_bench() { psql "$BENCH_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }

# Loads tables and indexes into PostgreSQL's shared buffers, as a server
# that has been up through the day holds what it reads every minute; the
# figures then measure the queries, not the first read of each page from
# the OS (one system call per 8 kB page).
prewarm() { # relations
  local rels
  rels=$(printf "'%s'," "$@")
  psql_bench -At -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
    -c "SELECT '  prewarmed ' || pg_size_pretty(sum(pg_prewarm(r)) * 8192) || ' (' || array_to_string(array_agg(r), ', ') || ')'
        FROM unnest(ARRAY[${rels%,}]::regclass[]) AS r"
}
flush_redis() { redis-cli -u "$BENCH_REDIS" flushdb >/dev/null; }

BIN=$WORK/bin/greenchannel
LOAD=$WORK/bin/load
load() { "$LOAD" "$@"; }

# The product's processes, as in production but on the bench database.
PRODUCT_ENV=(GC_ENV=dev GC_LOG_LEVEL=warn GC_LOG_FORMAT=text GC_DATABASE_URL="$BENCH_DB" GC_REDIS_URL="$BENCH_REDIS"
  GC_HTTP_ADDR="$HTTP_ADDR" GC_PUBLIC_URL="$BASE_URL" GC_DATA_DIR="$WORK/files" GC_SHUTDOWN_TIMEOUT=15s)

# ---- processes we start (and only those are stopped) ----

PIDS=()
start_proc() { # $1: log name, rest: greenchannel arguments. Sets LAST_PID.
  local name=$1; shift
  env "${PRODUCT_ENV[@]}" "$BIN" "$@" >>"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

stop_proc() { # $1: pid; SIGTERM (graceful), SIGKILL after 30 s
  local pid=$1 i keep=()
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "pid $pid did not stop in 30 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  for i in "${PIDS[@]}"; do [[ $i == "$pid" ]] || keep+=("$i"); done
  PIDS=("${keep[@]}")
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_proc "$pid"; done
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

wait_ready() { # $1: pid of serve
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$1" 2>/dev/null || { tail -n 20 "$WORK/serve.log" >&2; die "serve exited during start-up"; }
    curl -sf -o /dev/null "$BASE_URL/readyz" && return 0
    sleep 0.1
  done
  die "serve did not become ready on $BASE_URL in 30 s"
}

start_serve() { start_proc serve serve; SERVE_PID=$LAST_PID; wait_ready "$SERVE_PID"; }
stop_serve() { stop_proc "$SERVE_PID"; SERVE_PID=""; }

kb_of() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status"; }

# pgbench: prints its summary lines; records tps, latency average and, from
# the per-transaction logs, p50/p99 under $1.
run_pgbench() { # $1: figure key, $2: clients, $3: seconds, rest: pgbench arguments
  local key=$1 clients=$2 secs=$3 out prefix
  shift 3
  prefix=$WORK/pgbench/${key}.$(date +%s%N)
  mkdir -p "$WORK/pgbench"
  out=$(PGOPTIONS="${PGBENCH_OPTIONS:-}" "$PGBENCH" -n -c "$clients" -j 2 -T "$secs" -l --log-prefix="$prefix" "$@" "$BENCH_DB" 2>&1) ||
    { echo "$out"; die "pgbench failed"; }
  if grep -q "failed transactions: [1-9]\|aborted" <<<"$out"; then echo "$out"; die "pgbench had failures"; fi
  local tps lat
  tps=$(awk '/^tps = / { print $3 }' <<<"$out")
  lat=$(awk '/^latency average = / { print $4 }' <<<"$out")
  echo "  $key: pgbench $clients clients, ${secs}s: $tps tps, latency average $lat ms"
  load record -key "$key.tps" -value "$tps" -unit tps
  load record -key "$key.lat_avg" -value "$lat" -unit ms
  load pgbench-log -prefix "$prefix" -name "$key"
}

# ---- setup ----

setup() {
  section "setup"
  ensure_tools
  say "building greenchannel and the bench tool"
  go build -ldflags "-X greenchannel/internal/app.Version=$(git describe --always --dirty 2>/dev/null || echo dev)" \
    -o "$BIN" ./cmd/greenchannel
  go build -o "$LOAD" ./scripts/bench/load
  psql "$BASE_DB_URL" -X -q -c 'select 1' >/dev/null 2>&1 ||
    die "PostgreSQL not reachable at $BASE_DB_URL (run scripts/services.sh up)"
  redis-cli -u "$BASE_REDIS_URL" ping >/dev/null 2>&1 || die "Redis not reachable at $BASE_REDIS_URL"
  if curl -s -o /dev/null "$BASE_URL/healthz"; then die "something already listens on $HTTP_ADDR; stop it first"; fi
  if [[ -n $REUSE ]] && psql_bench -At -c "SELECT 1 FROM users WHERE username LIKE 'bench.ent%' LIMIT 1" 2>/dev/null | grep -q 1; then
    say "database $BENCH_DBNAME kept as loaded (--reuse), Redis $BENCH_REDIS (flushed), HTTP $HTTP_ADDR"
    flush_redis
    env "${PRODUCT_ENV[@]}" "$BIN" migrate up | sed 's/^/  /'
  else
    say "database $BENCH_DBNAME (dropped and re-created), Redis $BENCH_REDIS (flushed), HTTP $HTTP_ADDR"
    psql_admin -c "DROP DATABASE IF EXISTS $BENCH_DBNAME WITH (FORCE)" -c "CREATE DATABASE $BENCH_DBNAME"
    flush_redis
    env "${PRODUCT_ENV[@]}" "$BIN" migrate up | sed 's/^/  /'
    env "${PRODUCT_ENV[@]}" "$BIN" seed --demo | sed 's/^/  /'
    load setup -users
  fi
  mapfile -t PGVARS < <(load pgbench-vars -users 16) # the pgbench create script's users and text
  psql_bench -At -c "SELECT '  postgres: ' || version()" \
    -c "SELECT '  settings: ' || string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings
        WHERE name IN ('shared_buffers', 'max_connections', 'fsync', 'synchronous_commit', 'jit', 'work_mem', 'lc_collate')"
}

# ---- A: filing requests ----

bench_create() {
  section "A1–A3: filing requests — HTTP (32 clients, ${CREATE_SECONDS}s, only serve running: no worker, so routing does not compete; serve's own outbox relay does run) vs pgbench of the same SQL (32 clients, -M prepared, serve stopped)"
  local users run since
  users=$(seq -f 'bench.ent%02g' 1 16 | paste -sd, -)
  since=$(psql_bench -At -c "SELECT coalesce(max(id), 0) FROM requests")
  say "16 enterprise users (bench.ent01–16), 2 clients each; category security_protection"
  for ((run = 1; run <= RUNS; run++)); do
    echo " run $run/$RUNS"
    start_serve
    if [[ $run == 1 ]]; then
      sleep 1
      local idle; idle=$(kb_of VmRSS "$SERVE_PID")
      echo "  serve idle RSS after start: $((idle / 1024)) MB"
      load record -key A.serve.rss_idle -value "$(awk -v k="$idle" 'BEGIN { print k / 1024 }')" -unit MB
      load drift -n 5 -users "$users" -- "$PGBENCH" -M prepared "${PGVARS[@]}" -f scripts/bench/pgbench/create.sql
    fi
    load http -mode create -c 32 -d "${CREATE_SECONDS}s" -users "$users" -rss-pid "$SERVE_PID" -name A.create || failed A.create
    load record -key A.serve.hwm_end -value "$(awk -v k="$(kb_of VmHWM "$SERVE_PID")" 'BEGIN { print k / 1024 }')" -unit MB
    stop_serve
    run_pgbench A.pgb_create 32 "$CREATE_SECONDS" -M prepared "${PGVARS[@]}" -f scripts/bench/pgbench/create.sql
    # Context: the server cannot prepare (bun writes values into the SQL
    # text), so PostgreSQL parses and plans each of its statements; pgbench
    # -M extended does the same with the same statements.
    run_pgbench A.pgb_create_ext 32 "$CREATE_SECONDS" -M extended "${PGVARS[@]}" -f scripts/bench/pgbench/create.sql
    # serve was stopped: mark pgbench's outbox rows sent, so the next serve
    # does not start with a backlog to relay.
    psql_bench -c "UPDATE outbox SET dispatched_at = now() WHERE dispatched_at IS NULL"
  done
  # The filings are the create figures' own (pgbench's repeat one text tens
  # of thousands of times): delete them, so that A4 lists and searches the
  # loaded corpus and routing in B does not first work through them.
  load drop-filings -since-id "$since"
}

# name|path|label
LIST_CATEGORY=litigation_service
LIST_QUERIES=(
  "filter|/api/v1/requests?status=in_progress&category=$LIST_CATEGORY&limit=50|status=in_progress&category=$LIST_CATEGORY"
  "q_hetong|/api/v1/requests?q=%E5%90%88%E5%90%8C&limit=50|q=合同 (2 chars, common)"
  "q_shangbiao|/api/v1/requests?q=%E5%95%86%E6%A0%87&limit=50|q=商标 (2 chars, rarer)"
  "q_laodongzhongcai|/api/v1/requests?q=%E5%8A%B3%E5%8A%A8%E4%BB%B2%E8%A3%81&limit=50|q=劳动仲裁 (4 chars)"
  "page2|/api/v1/requests?status=in_progress&category=$LIST_CATEGORY&limit=50|page 2 (next_cursor) of the filter"
)
declare -A LIST_Q=([q_hetong]=合同 [q_shangbiao]=商标 [q_laodongzhongcai]=劳动仲裁)

list_sql() { # $1: user, $2: query name, rest: extra pgbench-list flags
  local user=$1 q=$2
  shift 2
  case $q in
    filter | page2) load pgbench-list -user "$user" -status in_progress -category "$LIST_CATEGORY" "$@" ;;
    *) load pgbench-list -user "$user" -q "${LIST_Q[$q]}" "$@" ;;
  esac
}

bench_list() {
  section "A4: list and search at $ROWS requests (8 clients, ${LIST_SECONDS}s per query per run, $RUNS runs; as oversight1 = all, court1 = own agency)"
  ensure_requests # with --reuse, a database already loaded is not loaded again
  prewarm requests requests_pkey requests_search_idx requests_agency_idx requests_status_idx agencies users
  psql_bench -At -c "SELECT '  statuses: ' || string_agg(status || ' ' || n, ', ' ORDER BY n DESC) FROM (SELECT status, count(*) n FROM requests GROUP BY 1) s" \
    -c "SELECT '  status=in_progress&category=$LIST_CATEGORY: ' || count(*) || ' requests (court: ' || count(*) FILTER (WHERE agency_id = (SELECT agency_id FROM users WHERE username = 'court1')) || ')'
        FROM requests WHERE status = 'in_progress' AND category = '$LIST_CATEGORY'"
  local dir=$WORK/pgbench-scripts run user entry name path label
  mkdir -p "$dir"
  for user in oversight1 court1; do
    list_sql "$user" filter >"$dir/list-$user-filter.sql"
  done
  start_serve
  for ((run = 1; run <= RUNS; run++)); do
    echo " run $run/$RUNS"
    for user in oversight1 court1; do
      for entry in "${LIST_QUERIES[@]}"; do
        IFS='|' read -r name path label <<<"$entry"
        local extra=()
        [[ $name == page2 ]] && extra=(-page2)
        load http -mode get -c 8 -d "${LIST_SECONDS}s" -warmup 500ms -users "$user" -path "$path" "${extra[@]}" \
          -name "A.list.$user.$name" -label "$user: $label" || failed "A.list.$user.$name"
      done
      run_pgbench "A.pgb_list.$user.filter" 8 "$LIST_SECONDS" -M prepared -f "$dir/list-$user-filter.sql"
    done
  done
  stop_serve
  # Why a query misses its target: the plan, from the SQL the server sends.
  local key p99
  for user in oversight1 court1; do
    for entry in "${LIST_QUERIES[@]}"; do
      IFS='|' read -r name path label <<<"$entry"
      [[ $name == page2 ]] && continue
      p99=$(load median -key "A.list.$user.$name.p99" 2>/dev/null) || continue
      if awk -v p="$p99" 'BEGIN { exit !(p > 50) }'; then
        echo
        echo "  A.list.$user.$name: p99 ${p99} ms > 50 ms; EXPLAIN ANALYZE of the statement casework.List sends:"
        list_sql "$user" "$name" -explain | psql_bench -At | sed 's/^/    /'
      fi
    done
  done
}

# ---- B: routing ----

redis_benchmark() {
  local line t v
  while IFS= read -r line; do
    line=${line##*$'\r'}
    [[ $line =~ ^([A-Z]+)[^:]*:\ ([0-9.]+)\ requests\ per\ second ]] || continue
    t=${BASH_REMATCH[1],,}; v=${BASH_REMATCH[2]}
    echo "  redis-benchmark ${BASH_REMATCH[1]}: $v requests/s"
    load record -key "B.redis.$t" -value "$v" -unit "req/s"
  done < <(redis-benchmark -h "$REDIS_HOST" -p "$REDIS_PORT" "${REDIS_AUTH[@]}" --dbnum "$REDIS_DB" -q -n 100000 -t set,get,lpush,rpop 2>&1)
}

bench_baselines_b() {
  section "B1: asynq baselines on the bench Redis (database $REDIS_DB)"
  local run
  for ((run = 1; run <= RUNS; run++)); do
    load asynq-noop -redis "$BENCH_REDIS" -n "$BURST" -name B.noop || failed B.noop
  done
  load asynq-latency -redis "$BENCH_REDIS" -rate 200 -d 10s -name B.noop_latency || failed B.noop_latency
  redis_benchmark
  flush_redis
}

# relay_outbox: serve relays the filed burst's tasks into Redis, as it does
# while requests are filed, and stops; the workers then start on a full
# queue, like the asynq no-op baseline they are compared with.
relay_outbox() {
  local left i
  start_serve
  for ((i = 0; i < 600; i++)); do
    left=$(psql_bench -At -c "SELECT count(*) FROM outbox WHERE dispatched_at IS NULL")
    [[ $left == 0 ]] && break
    sleep 0.2
  done
  stop_serve
  [[ $left == 0 ]] || die "the outbox still holds $left rows after 120 s"
}

bench_burst() {
  section "B2: routing burst — $BURST requests filed by pgbench running the create SQL (20 clients; serve stopped, no worker), their tasks relayed into Redis by serve, then the worker(s) started; assignments/s from worker launch to the last 'assigned' event (window ${BURST_WINDOW}s); the same burst is replayed for every run"
  load setup -officers 200 -capacity 100
  flush_redis
  BURST_SINCE=$(psql_bench -At -c "SELECT coalesce(max(id), 0) FROM requests")
  load snapshot -out "$WORK/burst-before.json"
  local per=$(((BURST + 19) / 20)) out tps
  out=$("$PGBENCH" -n -M prepared -c 20 -j 2 -t "$per" "${PGVARS[@]}" -f scripts/bench/pgbench/create.sql "$BENCH_DB" 2>&1) ||
    { echo "$out"; die "pgbench failed"; }
  tps=$(awk '/^tps = / { print $3 }' <<<"$out")
  echo "  B.burst: $((per * 20)) requests filed in one burst: $tps requests/s"
  load record -key B.burst.insert_rate -value "$tps" -unit req/s
  load record -key B.burst.requests -value "$((per * 20))"
  load snapshot -from "$WORK/burst-before.json" -out "$WORK/burst-after.json"
  local workers run start pids pid i
  for workers in 1 2; do
    for ((run = 1; run <= RUNS; run++)); do
      echo " $workers worker process(es), run $run/$RUNS"
      if [[ $workers != 1 || $run != 1 ]]; then
        load replay -snapshot "$WORK/burst-after.json" # the same requests, unrouted again
      fi
      flush_redis
      relay_outbox
      start=$(date +%s.%N)
      pids=()
      for ((i = 0; i < workers; i++)); do start_proc "worker$i" worker; pids+=("$LAST_PID"); done
      load wait-routed -since-id "$BURST_SINCE" -start "$start" -window "${BURST_WINDOW}s" -name "B.route$workers" || failed "B.route$workers"
      for pid in "${pids[@]}"; do stop_proc "$pid"; done
    done
  done
}

steady_run() { # $1: requests/s, $2: seconds, $3: figure key
  local since worker
  since=$(psql_bench -At -c "SELECT coalesce(max(id), 0) FROM requests")
  start_serve
  start_proc worker0 worker
  worker=$LAST_PID
  sleep 1
  load steady -rate "$1" -d "${2}s" -timeout 15s -drain 15s -users "$(seq -f 'bench.ent%02g' 1 16 | paste -sd, -)" -name "$3" ||
    failed "$3"
  stop_proc "$worker"
  stop_serve
  load reset-load -since-id "$since" # retire what is left, so the next run starts clean
  flush_redis
}

# steady_pg_run: the same steady load filed by pgbench running the create
# SQL at a fixed rate, with only the worker running: the routing side alone,
# without the HTTP server and its load generator sharing the two cores.
steady_pg_run() { # $1: requests/s, $2: seconds, $3: figure key
  local since worker out
  since=$(psql_bench -At -c "SELECT coalesce(max(id), 0) FROM requests")
  start_proc worker0 worker
  worker=$LAST_PID
  sleep 1
  out=$("$PGBENCH" -n -M prepared -c 8 -j 2 -R "$1" -T "$2" "${PGVARS[@]}" -f scripts/bench/pgbench/create.sql "$BENCH_DB" 2>&1) ||
    { echo "$out"; die "pgbench failed"; }
  echo "  $3: pgbench filed at $(awk '/^tps = / { print $3 }' <<<"$out") requests/s (target $1/s)"
  load assigned -since-id "$since" -rate "$1" -timeout 15s -name "$3" || failed "$3"
  stop_proc "$worker"
  load reset-load -since-id "$since"
  flush_redis
}

bench_steady() {
  section "B3: steady load — $STEADY_RATE requests/s over HTTP for ${STEADY_SECONDS}s (open loop), serve + 1 worker; the same rate filed by pgbench with only the worker running; commit-to-assigned = requests.created_at → 'assigned' event at; then $STEADY_LOW_RATE/s over HTTP for ${STEADY_LOW_SECONDS}s as context (below capacity)"
  load reset-load -since-id "$BURST_SINCE" # retire the burst: officers get their capacity back, nothing left to relay
  flush_redis
  steady_run "$STEADY_RATE" "$STEADY_SECONDS" B.steady
  steady_pg_run "$STEADY_RATE" "$STEADY_SECONDS" B.steady_pg
  if [[ $STEADY_LOW_SECONDS -gt 0 ]]; then
    steady_run "$STEADY_LOW_RATE" "$STEADY_LOW_SECONDS" B.steady_low
  fi
  # The burst's and the steady runs' filings (pgbench's repeat one text) go,
  # so that a later A4 on a --reuse database lists the loaded corpus.
  load drop-filings -since-id "$BURST_SINCE"
}

# ---- C: SLA engine ----

# The 1,000,000 requests A4 lists (and C and E read), loaded once: with
# --reuse, a database that has them is not loaded again.
ensure_requests() {
  loaded requests "SELECT count(*) FROM requests" && return
  load setup -agency-officers 50 -capacity 100
  load bulkload -n "$ROWS"
}

# loaded: true (and says so) when the count $2 is within a tenth of $ROWS;
# sets HAVE to the count either way. $1 names what is counted.
loaded() {
  HAVE=$(psql_bench -At -c "$2")
  ((HAVE >= ROWS * 9 / 10)) || return 1
  say "$1: $HAVE loaded"
}

# C's $ROWS open requests (the issue's scale: that many running clocks at
# once), filed over the last 30 days, beside A4's requests, held by
# off-duty officers of their own (routing in B never sees them). Loaded
# after A has run; with --reuse, A4 then lists them too.
ensure_open_requests() {
  loaded "open requests" "SELECT count(*) FROM requests WHERE status IN ('assigned', 'in_progress', 'waiting_enterprise')" && return
  load bulkload -open -n "$((ROWS - HAVE))" -count ""
}

bench_sla() {
  local PGBENCH_OPTIONS="-c jit=off" # as the product's connections (internal/platform/pg)
  section "C: SLA engine (issue 6) — clocks of the $ROWS requests and of $ROWS open ones; Go-level timings of the product's own sla.Service (sweep tick, recompute, report) on the bench database vs pgbench of the SQL they send"
  ensure_requests
  ensure_open_requests
  load clocks
  psql_bench -At -c "SELECT '  clocks: ' || string_agg(kind || '/' || state || ' ' || n, ', ' ORDER BY kind, state) FROM (SELECT kind, state, count(*) n FROM sla_clocks GROUP BY 1, 2) x"
  local dir=$WORK/pgbench-scripts group
  mkdir -p "$dir"
  load sla -what report -reports "$((RUNS + 2))" -dir "$dir"
  for group in agency category officer; do
    run_pgbench "C.pgb_report.$group" 1 "$((RUNS + 2))" -f "$dir/sla-report-$group.sql"
  done
  load sla -what sweep -ticks "$RUNS" -due 1000 -dir "$dir"
  run_pgbench C.pgb_sweep_tick 1 3 -f "$dir/sla-sweep-tick.sql"
  load sla -what recompute -dir "$dir"
  run_pgbench C.pgb_recompute_batch 1 3 -f "$dir/sla-recompute-batch.sql"
  psql_bench -c "UPDATE outbox SET dispatched_at = now() WHERE dispatched_at IS NULL" # the tasks the sweep and recompute queued: no relay runs here
}

# ---- D: inspections ----

ensure_inspections() { load inspload -n "$INSPECTIONS" -enterprises "$ENTERPRISES"; }

bench_inspections() {
  local PGBENCH_OPTIONS="-c jit=off" # as the product's connections (internal/platform/pg)
  section "D: inspections (issue 7) — $INSPECTIONS inspections over 3 years, $ENTERPRISES enterprises; issuing codes over HTTP as 50 inspectors vs pgbench of the same SQL (serve stopped); public verify vs the same server's /healthz"
  ensure_inspections
  prewarm inspections inspections_pkey inspections_enterprise_idx inspections_code_key inspection_inspectors_pkey \
    enterprises inspection_items agency_items users inspector_certificates inspection_caps
  psql_bench -At -c "SELECT '  inspections: ' || count(*) || ', ' || count(DISTINCT enterprise_id) || ' enterprises inspected, ' || min(window_from)::date || ' … ' || max(window_from)::date FROM inspections" \
    -c "SELECT '  alerts: ' || string_agg(rule || ' ' || n, ', ' ORDER BY n DESC) FROM (SELECT rule, count(*) n FROM alerts GROUP BY 1) x"
  local dir=$WORK/pgbench-scripts run rate sat_seconds=$((ISSUE_SECONDS * 6 / 10))
  mkdir -p "$dir"
  load issue-script -out "$dir/issue" -n 100
  load verify-script -out "$dir/verify" -n 100
  local scripts=() verify_scripts=()
  for f in "$dir"/issue-*.sql; do scripts+=(-f "$f"); done
  for f in "$dir"/verify-*.sql; do verify_scripts+=(-f "$f"); done
  for ((run = 1; run <= RUNS; run++)); do
    echo " run $run/$RUNS"
    start_serve
    load issue -base "$BASE_URL" -c 50 -think 1s -d "${ISSUE_SECONDS}s" -name D.issue || failed D.issue
    load issue -base "$BASE_URL" -c 50 -think 0 -d "${sat_seconds}s" -name D.issue_sat || failed D.issue_sat
    load verify -base "$BASE_URL" -c 32 -d "${VERIFY_SECONDS}s" -today -name D.verify_today || failed D.verify_today
    load verify -base "$BASE_URL" -c 32 -d "${VERIFY_SECONDS}s" -name D.verify || failed D.verify
    load verify -base "$BASE_URL" -c 32 -d "${VERIFY_SECONDS}s" -healthz -name D.healthz || failed D.healthz
    stop_serve
    rate=$(load median -key D.issue.rps 2>/dev/null || echo 50)
    run_pgbench D.pgb_issue 50 "$ISSUE_SECONDS" -R "$rate" "${scripts[@]}"
    run_pgbench D.pgb_issue_sat 50 "$sat_seconds" "${scripts[@]}"
    # As many clients as the server's pool has connections on 2 cores.
    run_pgbench D.pgb_verify 8 "$VERIFY_SECONDS" -M prepared "${verify_scripts[@]}"
  done
  psql_bench -c "UPDATE outbox SET dispatched_at = now() WHERE dispatched_at IS NULL" # analysis tasks: no worker runs here
}

# ---- E: oversight ----

bench_oversight() {
  local PGBENCH_OPTIONS="-c jit=off" # as the product's connections (internal/platform/pg)
  section "E: oversight (issue 8) — over the inspections of D and the requests of A/C; Go-level timings of the product's oversight.Service vs pgbench of the SQL it sends"
  ensure_requests
  ensure_inspections
  local dir=$WORK/pgbench-scripts group
  mkdir -p "$dir"
  load oversight -reports "$RUNS" -dir "$dir"
  run_pgbench E.pgb_analyze 1 3 -f "$dir/analyze.sql"
  for group in agency item town; do
    pgbench_once "E.pgb_report.$group" "$dir/inspection-report-$group.sql" # it runs for seconds: once is enough
  done
  run_pgbench E.pgb_burden 1 3 -f "$dir/burden.sql"
  run_pgbench E.pgb_burden.most_inspected 1 3 -f "$dir/burden-most_inspected.sql"
  run_pgbench E.pgb_burden.most_requests 1 3 -f "$dir/burden-most_requests.sql"
}

# pgbench_once: one transaction of a script, its latency recorded as p50/p99.
pgbench_once() { # $1: figure key, $2: script
  local key=$1 prefix out
  prefix=$WORK/pgbench/${key}.$(date +%s%N)
  mkdir -p "$WORK/pgbench"
  out=$(PGOPTIONS="${PGBENCH_OPTIONS:-}" "$PGBENCH" -n -c 1 -t 1 -l --log-prefix="$prefix" -f "$2" "$BENCH_DB" 2>&1) ||
    { echo "$out"; die "pgbench failed"; }
  load pgbench-log -prefix "$prefix" -name "$key"
}

# ---- main ----

setup
if want A; then
  bench_create
  bench_list
fi
if want B; then
  bench_baselines_b
  bench_burst
  bench_steady
fi
want C && bench_sla
want D && bench_inspections
want E && bench_oversight

section "results (median of $RUNS runs where a figure has runs; 'runs' lists each)"
if want A || want B; then load report; fi
if want C || want D || want E; then load report-cde; fi
cleanup
rm -rf "${WORK:?}/bin" "${WORK:?}/files" # 60 MB of binaries per run; the logs and raw figures stay
echo
if curl -s -o /dev/null "$BASE_URL/healthz"; then say "WARNING: something still answers on $HTTP_ADDR"; fi
say "done in $((SECONDS / 60))m$((SECONDS % 60))s; full output: ${OUT#"$ROOT"/} (process logs and raw figures: ${WORK#"$ROOT"/}/)"
