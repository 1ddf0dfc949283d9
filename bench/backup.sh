#!/usr/bin/env bash
# Side by side on one ~50 MB database: MigrationTasks' backup (pg_dump -Fc in an exported snapshot, pg_restore --list
# proof, schema hash, row count and content hash of every table, metadata file) against pg_dump -Fc + pg_restore
# --list by hand; then MigrationTasks' atomic, verified restore against pg_restore --clean --single-transaction by hand.
# Starts a throwaway cluster of its own (as the postgres user when run as root) and deletes it at the end.
# Usage: bench/backup.sh [runs]   (ORDERS=300000 sets the size: ~50 MB with the default)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
orders="${ORDERS:-300000}"

source "$root/bench/cluster.sh"
export PGDATABASE=bench
"$bin/createdb" bench
"$bin/psql" -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'refunded');
CREATE TABLE customer (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created timestamptz NOT NULL);
CREATE TABLE shop_order (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customer (id), status order_status NOT NULL,
                         total numeric(10, 2) NOT NULL, placed timestamptz NOT NULL, note text);
CREATE INDEX shop_order_customer ON shop_order (customer_id);
INSERT INTO customer SELECT g, md5(g::text) || '@example.com', 'Customer ' || g, '2020-01-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, $orders / 6) g;
INSERT INTO shop_order SELECT g, 1 + g % ($orders / 6), (enum_range(NULL::order_status))[1 + g % 4], round((random() * 1000)::numeric, 2),
                              '2024-01-01'::timestamptz + g * interval '7 seconds', md5(random()::text)
FROM generate_series(1, $orders) g;
VACUUM ANALYZE;
SQL
size="$("$bin/psql" -X -At -c "SELECT pg_size_pretty(pg_database_size('bench'))")"
echo "database: $size ($orders orders), PostgreSQL $("$bin/psql" -X -At -c 'SHOW server_version'), $runs runs each"


echo "== by hand: pg_dump -Fc, then pg_restore --list"
hand=()
for run in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin/pg_dump" -Fc -f "$work/hand.dump"
  "$bin/pg_restore" --list "$work/hand.dump" >/dev/null
  hand+=("$(ms "$start")")
  echo "run $run: ${hand[-1]} ms, $(stat -c %s "$work/hand.dump") bytes"
done

echo "== by hand: pg_restore --clean --if-exists --single-transaction"
hand_restore=()
for run in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin/pg_restore" --clean --if-exists --single-transaction --exit-on-error -d bench "$work/hand.dump"
  hand_restore+=("$(ms "$start")")
  echo "run $run: ${hand_restore[-1]} ms"
done

echo "== MigrationTasks: BackupAsync (dump + proof + schema hash + table fingerprints + metadata), then RestoreAsync (atomic + verified)"
dotnet build "$root/bench/BackupBench" -c Release -nologo -v:q >/dev/null
export MIGRATIONTASKS_BENCH_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Database=bench"
ours="$(MIGRATIONTASKS_POSTGRES_BIN="$bin" dotnet "$root/bench/BackupBench/bin/Release/net8.0/BackupBench.dll" MIGRATIONTASKS_BENCH_CONNECTION "$work/backups" "$runs")"
echo "$ours"
echo "== the same with --hash-rows (every table's contents hashed too)"
hashed="$(MIGRATIONTASKS_POSTGRES_BIN="$bin" dotnet "$root/bench/BackupBench/bin/Release/net8.0/BackupBench.dll" MIGRATIONTASKS_BENCH_CONNECTION "$work/backups" "$runs" hash-rows)"
echo "$hashed"

echo
echo "== medians ($size database, $runs runs)"
echo "backup+proof by hand (pg_dump -Fc + pg_restore --list): $(printf '%s\n' "${hand[@]}" | median) ms"
echo "MigrationTasks BackupAsync:                             $(echo "$ours" | sed -n 's/^backup .* ms=\([0-9]*\) .*/\1/p' | median) ms"
echo "restore by hand (pg_restore --clean -1):                $(printf '%s\n' "${hand_restore[@]}" | median) ms"
echo "MigrationTasks RestoreAsync:                            $(echo "$ours" | sed -n 's/^restore .* ms=\([0-9]*\)$/\1/p' | median) ms"
echo "MigrationTasks BackupAsync, --hash-rows:                $(echo "$hashed" | sed -n 's/^backup .* ms=\([0-9]*\) .*/\1/p' | median) ms"
echo "MigrationTasks RestoreAsync, --hash-rows backup:        $(echo "$hashed" | sed -n 's/^restore .* ms=\([0-9]*\)$/\1/p' | median) ms"
