#!/usr/bin/env bash
# What a migration's ALTER does to the application when a long reader holds its table, and what the runner's short
# statement lock timeout (MigrationStatementLockTimeout / --lock-wait, default 2 s, 5 tries with growing pauses)
# changes. An application (pgbench, 4 clients, point reads of the table) runs throughout; a report job holds the
# table for READER seconds (default 20) in an open transaction; then
#   1. a plain ALTER TABLE … ADD COLUMN, as psql or a tool without a lock timeout runs it: it queues behind the
#      reader, and every application query queues behind it;
#   2. the same migration deployed by the runner (`migrate deploy`, defaults): it gives up after 2 s, rolls back,
#      and tries again, so that the application waits at most one try's worth.
# Prints each case's slowest application query, how many took over 1 s, the client-seconds spent in stalled queries,
# and how long the migration took.
# Usage: bench/lockwait.sh   (READER=20 ROWS=200000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reader="${READER:-20}"
rows="${ROWS:-200000}"
source "$root/bench/cluster.sh"

dotnet build "$root/src/MigrationTasks.Cli" -c Release -nologo -v:q -o "$work/cli" >/dev/null
migrate() { dotnet "$work/cli/migrate.dll" "$@"; }
export BENCH_DB="Host=127.0.0.1;Port=$port;Username=postgres;Database=shop"
mkdir -p "$work/project/Migrations"
cat > "$work/project/Migrations/V1__customer.sql" <<SQL
CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text);
INSERT INTO customer SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, $rows) g;
SQL
echo "ALTER TABLE customer ADD COLUMN tier text;" > "$work/project/Migrations/V2__tier.sql"
echo "SELECT name FROM customer WHERE id = 1 + (random() * ($rows - 1))::int;" > "$work/app.sql"

# Run a scenario: the application for the whole time, the reader from t=2 s, the migration from t=3 s.
scenario() {
  local name="$1"; shift
  "$bin/dropdb" --if-exists shop; "$bin/createdb" shop
  migrate deploy-dev --engine PostgreSql --connection-variable BENCH_DB --state-dir "$work/state" --migration "$work/project/Migrations/V1__customer.sql" >/dev/null
  local log="$work/$name"; rm -rf "$log"; mkdir -p "$log"
  (cd "$log" && "$bin/pgbench" -n -c 4 -T $((reader + 12)) -f "$work/app.sql" -l --log-prefix=app shop >/dev/null 2>&1) &
  local app=$!
  sleep 2
  "$bin/psql" -X -q -d shop -c "BEGIN; SELECT count(*) FROM customer; SELECT pg_sleep($reader); COMMIT;" >/dev/null &
  sleep 1
  local start; start=$(date +%s%N)
  "$@" > "$log/migration.out" 2>&1 || true
  local took; took=$(ms "$start")
  wait "$app"
  # pgbench log: client, transaction, latency in µs, …
  local slowest over stalled
  slowest=$(cat "$log"/app* | awk '{ if ($3 > m) m = $3 } END { printf "%.0f", m / 1000 }')
  over=$(cat "$log"/app* | awk '$3 > 1000000 { n++ } END { print n + 0 }')
  # Client-seconds the application spent in queries that took over 100 ms: time its users waited.
  stalled=$(cat "$log"/app* | awk '$3 > 100000 { s += $3 } END { printf "%.1f", s / 1000000 }')
  printf '%-34s slowest application query %6s ms; %3s queries over 1 s, %5s client-s stalled; migration took %6s ms\n' "$name:" "$slowest" "$over" "$stalled" "$took"
}

echo "customer: $rows rows; a reader holds it for $reader s; 4 application clients read it throughout (PostgreSQL $("$bin/psql" -X -At -d postgres -c 'SHOW server_version'))"
scenario "plain ALTER (no lock timeout)" "$bin/psql" -X -q -d shop -v ON_ERROR_STOP=1 -f "$work/project/Migrations/V2__tier.sql"

"$bin/dropdb" --if-exists shop; "$bin/createdb" shop
migrate deploy-dev --engine PostgreSql --connection-variable BENCH_DB --state-dir "$work/state" --migration "$work/project/Migrations/V1__customer.sql" >/dev/null
migrate baseline --engine PostgreSql --connection-variable BENCH_DB --out "$work/baseline.json" >/dev/null
migrate package --engine PostgreSql --publish-dir "$work/publish" --package-id bench --version 1.0.0 --state-dir "$work/package-state" \
  --baseline "$work/baseline.json" --migration "$work/project/Migrations/V1__customer.sql" --migration "$work/project/Migrations/V2__tier.sql" >/dev/null
scenario "runner (defaults: 2 s, 5 tries)" dotnet "$work/publish/migrate.dll" deploy --connection-variable BENCH_DB --allow-unsigned \
  --backup-dir "$work/backups" --report-dir "$work/report"
grep -E "gave up waiting|deployed and verified|error" "$work/runner (defaults: 2 s, 5 tries)/migration.out" | sed 's/^/  runner: /'
