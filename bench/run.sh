#!/usr/bin/env bash
# Benchmarks of issue 2 (docs/benchmarks.md explains what and why). Run from the repository root:
#
#   bash bench/run.sh            both benchmarks
#   bash bench/run.sh apply      only "apply a 10,000-statement migration: the product vs psql"
#   bash bench/run.sh build      only "no-op dotnet build of samples/PgShop: with the package vs without"
#
# BENCH_RUNS (default 5) timed runs per side, after one untimed warm-up; the report gives the median.
# Sides run interleaved, in a rotating order, so that load from other processes falls on every side alike: the
# ratios are the figures to trust on a shared machine, not the absolute times.
# Installs nothing. Needs the .NET SDK, PostgreSQL's server programs (initdb, pg_ctl, as .ci/run installs them) and psql.
# It starts its own throwaway PostgreSQL cluster and removes everything it made (except the package it packs into
# artifacts/packages, as eng/demo.sh does). A summary in Markdown is also written to artifacts/bench/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

what="${1:-all}"
runs="${BENCH_RUNS:-5}"
statements="${BENCH_STATEMENTS:-10000}"
case "$what" in all|apply|build) ;; *) echo "usage: bash bench/run.sh [all|apply|build]" >&2; exit 2 ;; esac

work="$(mktemp -d /tmp/migrationtasks-bench.XXXXXX)"
# As root the server runs as postgres, which must be able to enter the folders above its data (mktemp makes 700).
chmod 755 "$work"
summary="$work/summary.md"
log="$work/bench.log"

# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------

say() { printf '%s\n' "$*" >&2; }

# The folder with initdb and pg_ctl, looked up like the product does (PostgresBinaries): the override variable,
# PATH, the newest /usr/lib/postgresql/<version>/bin, /usr/local/pgsql/bin.
find_pg_bin() {
  if [ -n "${MIGRATIONTASKS_POSTGRES_BIN:-}" ]; then echo "$MIGRATIONTASKS_POSTGRES_BIN"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then echo "$newest"; return; fi
  if [ -x /usr/local/pgsql/bin/initdb ]; then echo /usr/local/pgsql/bin; return; fi
  say "PostgreSQL server programs (initdb, pg_ctl) not found: install them (e.g. apt-get install postgresql) or set MIGRATIONTASKS_POSTGRES_BIN."
  exit 2
}

# PostgreSQL refuses to run as root: then its programs run as the postgres user.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Runs a command with stdout/stderr appended to the log and prints its wall time in milliseconds.
elapsed_ms() {
  local start end
  start=$EPOCHREALTIME
  if ! "$@" >>"$log" 2>&1; then
    say "FAILED: $* (log: $log)"
    tail -n 30 "$log" >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f\n", (e - s) * 1000 }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v max="$2" 'BEGIN { print (r <= max) ? "meets" : "MISSES" }'; }

# Runs "side" functions interleaved: run i starts at side i (mod count), so no side is always first or last.
# Each side function prints one time in ms; times land in the array named times_<side>.
run_interleaved() {
  local sides=("$@") count=${#@} run i side ms
  for ((run = 0; run <= runs; run++)); do
    for ((i = 0; i < count; i++)); do
      side="${sides[$(((run + i) % count))]}"
      ms="$("side_$side" "$run")"
      if [ "$run" -eq 0 ]; then
        say "  warm-up  $side: $ms ms"
      else
        say "  run $run/$runs $side: $ms ms"
        eval "times_$side+=(\"$ms\")"
      fi
    done
  done
}

median_of() { local -n values="times_$1"; median "${values[@]}"; }
all_of() { local -n values="times_$1"; echo "${values[*]}"; }

cluster_data=""
cleanup() {
  set +e
  if [ -n "$cluster_data" ] && [ -f "$cluster_data/postmaster.pid" ]; then
    as_server "$pg_bin/pg_ctl" stop -D "$cluster_data" -m immediate -w >/dev/null 2>&1
  fi
  if [ -n "${MSBUILDNODEHANDSHAKESALT:-}" ]; then
    dotnet build-server shutdown --msbuild >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p artifacts/bench
pg_bin="$(find_pg_bin)"
psql_program="$pg_bin/psql"
[ -x "$psql_program" ] || psql_program="$(command -v psql)"

# ---------------------------------------------------------------------------------------------------------------
# Benchmark a: apply one migration of $statements statements, the product against psql, each on a fresh database
# ---------------------------------------------------------------------------------------------------------------

start_cluster() {
  cluster_data="$work/pg/data"
  mkdir -p "$cluster_data"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$work/pg"; fi
  chmod 700 "$cluster_data"
  (cd "$cluster_data" && as_server "$pg_bin/initdb" -D "$cluster_data" -U postgres -A trust -E UTF8 --locale=C --no-sync) >>"$log" 2>&1
  # The product's throwaway clusters use the same settings (EphemeralPostgresCluster).
  printf "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\n" | as_server tee -a "$cluster_data/postgresql.conf" >/dev/null
  local attempt
  for attempt in 1 2 3; do
    pg_port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; then continue; fi
    if (cd "$cluster_data" && as_server "$pg_bin/pg_ctl" start -w -D "$cluster_data" -l "$cluster_data/server.log" -o "-p $pg_port") >>"$log" 2>&1; then
      export PGHOST=127.0.0.1 PGPORT="$pg_port" PGUSER=postgres
      return
    fi
  done
  say "PostgreSQL did not start; see $cluster_data/server.log"
  exit 1
}

sql() { PGOPTIONS="-c client_min_messages=warning" "$psql_program" -X -q -A -t -v ON_ERROR_STOP=1 -d postgres -c "$1"; }

fresh_database() {
  sql "DROP DATABASE IF EXISTS \"$1\"" >/dev/null
  sql "CREATE DATABASE \"$1\"" >/dev/null
}

# What each side built, compared after the warm-up: every side must have done the same work.
objects_in() { "$psql_program" -X -q -A -t -d "$1" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'bench'::regnamespace"; }

# The warm-up's databases are kept for the comparison of what each side built; timed runs reuse one name per side.
database_for() { echo "bench_$1_$(($2 == 0 ? 0 : 1))"; }

connection_for() { export BENCH_CONNECTION="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$1"; }

side_psql() {
  local db; db="$(database_for psql "$1")"
  fresh_database "$db"
  elapsed_ms "$psql_program" -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$migration"
}

side_psql_1tx() {
  local db; db="$(database_for psql_1tx "$1")"
  fresh_database "$db"
  elapsed_ms "$psql_program" -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$db" -f "$migration"
}

# The product's apply path alone (MigrationSource.Prepare + MigrationRunner.DeployAsync, as deploy-dev applies to
# the dev database), in a process of its own: .NET start-up is part of the cost.
side_product_apply() {
  local db; db="$(database_for apply "$1")"
  fresh_database "$db"
  connection_for "$db"
  elapsed_ms dotnet "$work/benchapp/MigrationTasks.Benchmarks.dll" apply "$migration" BENCH_CONNECTION
}

# The whole deploy-dev verb with a connection variable: it first applies every migration to a shadow database
# created beside the dev one (proof that the chain builds from nothing), drops it, then applies to the dev database.
side_deploy_dev() {
  local db; db="$(database_for deploydev "$1")"
  fresh_database "$db"
  connection_for "$db"
  elapsed_ms dotnet "$work/cli/migrate.dll" deploy-dev --migration "$migration" --connection-variable BENCH_CONNECTION --state-dir "$work/state"
}

bench_apply() {
  say "== Benchmark a: apply a $statements-statement migration (product vs psql)"
  say "Publishing the migrate CLI (as the package does) and the bench helper (Release)"
  dotnet publish src/MigrationTasks.Cli -c Release -o "$work/cli" -p:UseAppHost=false -nologo -v:q >>"$log" 2>&1
  dotnet publish bench/MigrationTasks.Benchmarks -c Release -o "$work/benchapp" -p:UseAppHost=false -nologo -v:q >>"$log" 2>&1
  mkdir -p "$work/migrations"
  migration="$work/migrations/V1__bench_${statements}_statements.sql"
  dotnet "$work/benchapp/MigrationTasks.Benchmarks.dll" generate "$migration" "$statements"
  say "Migration: $migration ($(wc -l <"$migration") lines, $(du -h "$migration" | cut -f1))"
  start_cluster
  say "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on port $pg_port"

  run_interleaved psql psql_1tx product_apply deploy_dev

  local expected side count
  expected="$(objects_in bench_psql_0)"
  for side in psql_1tx apply deploydev; do
    count="$(objects_in "bench_${side}_0")"
    if [ "$count" != "$expected" ]; then
      say "Sides differ: bench_psql_0 has $expected relations in schema bench, bench_${side}_0 has $count."
      exit 1
    fi
  done
  say "Every side built the same $expected relations in schema bench."
  say "Product's own breakdown (last runs): $(grep -E '^prepare [0-9]+ ms' "$log" | tail -n 3 | paste -sd '|' -)"

  local psql_ms psql_1tx_ms apply_ms deploy_ms
  psql_ms="$(median_of psql)"
  psql_1tx_ms="$(median_of psql_1tx)"
  apply_ms="$(median_of product_apply)"
  deploy_ms="$(median_of deploy_dev)"
  {
    echo "### a. Apply one $statements-statement migration (median of $runs, ms)"
    echo
    echo "| side | median ms | all runs | ratio to psql | ratio to psql --single-transaction |"
    echo "|---|---:|---|---:|---:|"
    echo "| \`psql -v ON_ERROR_STOP=1 -f\` | $psql_ms | $(all_of psql) | 1.00 | |"
    echo "| \`psql -v ON_ERROR_STOP=1 --single-transaction -f\` | $psql_1tx_ms | $(all_of psql_1tx) | $(ratio "$psql_1tx_ms" "$psql_ms") | 1.00 |"
    echo "| product: apply (one process: start-up, split, lock, history, one transaction) | $apply_ms | $(all_of product_apply) | $(ratio "$apply_ms" "$psql_ms") | $(ratio "$apply_ms" "$psql_1tx_ms") |"
    echo "| product: whole \`migrate deploy-dev\` (shadow database + dev database) | $deploy_ms | $(all_of deploy_dev) | $(ratio "$deploy_ms" "$psql_ms") | $(ratio "$deploy_ms" "$psql_1tx_ms") |"
    echo
    echo "Requirement apply ≤ 1.10× psql: $(verdict "$(ratio "$apply_ms" "$psql_ms")" 1.10) against \`psql -f\`" \
         "($(ratio "$apply_ms" "$psql_ms")×), $(verdict "$(ratio "$apply_ms" "$psql_1tx_ms")" 1.10) against \`psql --single-transaction -f\`" \
         "($(ratio "$apply_ms" "$psql_1tx_ms")×)."
    echo
  } >>"$summary"
}

# ---------------------------------------------------------------------------------------------------------------
# Benchmark b: a no-op `dotnet build` of samples/PgShop, with the package and without it
# ---------------------------------------------------------------------------------------------------------------

side_with_package() { elapsed_ms dotnet build "$work/build/with/PgShop" -nologo -tl:off -v:q -p:MigrationTasksVersion="$version"; }
side_without_package() { elapsed_ms dotnet build "$work/build/without/PgShop" -nologo -tl:off -v:q -p:MigrationTasksVersion="$version"; }

# The migration steps' stamps (obj/<configuration>/<tfm>/migrationtasks/*.stamp), with their times to the nanosecond.
stamps() {
  local found
  found="$(find "$work/build/with/PgShop/obj" -name '*.stamp' -printf '%p %T@\n' | sort)"
  if [ "$(wc -l <<<"$found")" -lt 3 ]; then say "the first build left no migration stamps"; exit 1; fi
  echo "$found"
}

bench_build() {
  say "== Benchmark b: no-op dotnet build of samples/PgShop, with the package vs without"
  # A unique version each run, as eng/demo.sh does: NuGet caches a version forever.
  version="0.1.0-bench.$(date -u +%Y%m%d%H%M%S)"
  say "Packing MigrationTasks $version into artifacts/packages"
  dotnet pack nuget/MigrationTasks.Package.csproj -c Release -o artifacts/packages -p:Version="$version" -nologo -v:q >>"$log" 2>&1

  # Two copies of the sample with the samples' own build files: the real one, and the same project without the
  # PackageReference. Same NuGet sources and packages folder as samples/nuget.config, as absolute paths.
  local side
  mkdir -p "$work/build"
  cp samples/Directory.Build.props samples/Directory.Build.targets samples/Directory.Packages.props "$work/build/"
  sed -e "s|\.\./artifacts/|$root/artifacts/|g" samples/nuget.config >"$work/build/nuget.config"
  for side in with without; do
    mkdir -p "$work/build/$side"
    cp -r samples/PgShop "$work/build/$side/"
    rm -rf "$work/build/$side/PgShop/bin" "$work/build/$side/PgShop/obj"
  done
  sed -i '/<PackageReference Include="MigrationTasks"/d' "$work/build/without/PgShop/PgShop.csproj"
  if grep -q "<PackageReference" "$work/build/without/PgShop/PgShop.csproj"; then say "the package reference was not removed"; exit 1; fi

  # Warm build servers, the developer's normal case: the first builds leave MSBuild's nodes running and the no-op
  # builds reuse them. A salt of our own keeps these nodes apart from other builds on the machine, so the shutdowns
  # before and after touch only ours.
  export MSBUILDNODEHANDSHAKESALT="migrationtasks-bench-$$"
  dotnet build-server shutdown --msbuild >>"$log" 2>&1
  local first_with first_without
  first_with="$(side_with_package)"
  first_without="$(side_without_package)"
  say "  first builds: with the package $first_with ms (check, throwaway dev database, deploy, tests), without $first_without ms"

  # Proof that a no-op build does no migration work: every migration target is skipped and no stamp moves.
  local before
  before="$(stamps)"
  dotnet build "$work/build/with/PgShop" -nologo -tl:off -v:d -p:MigrationTasksVersion="$version" >"$work/noop-detailed.log" 2>&1
  for target in _MigrationCheck _MigrationDeployDev _MigrationTest; do
    if ! grep -q "Skipping target \"$target\" because all output files are up-to-date" "$work/noop-detailed.log"; then
      say "a no-op build ran $target (see $work/noop-detailed.log)"
      exit 1
    fi
  done

  run_interleaved with_package without_package

  if [ "$(stamps)" != "$before" ]; then say "a no-op build touched a migration stamp"; exit 1; fi
  say "Every no-op build skipped _MigrationCheck, _MigrationDeployDev and _MigrationTest (stamps unchanged)."
  dotnet build-server shutdown --msbuild >>"$log" 2>&1

  local with_ms without_ms
  with_ms="$(median_of with_package)"
  without_ms="$(median_of without_package)"
  {
    echo "### b. No-op \`dotnet build\` of samples/PgShop, warm build servers (median of $runs, ms)"
    echo
    echo "| side | median ms | all runs | ratio |"
    echo "|---|---:|---|---:|"
    echo "| without the package (same NoTargets project, PackageReference removed) | $without_ms | $(all_of without_package) | 1.00 |"
    echo "| with the package (samples/PgShop as shipped) | $with_ms | $(all_of with_package) | $(ratio "$with_ms" "$without_ms") |"
    echo
    echo "First (full) builds, for scale: with the package $first_with ms (check, throwaway dev database, deploy, tests)," \
         "without $first_without ms."
    echo
    echo "Requirement no-op build ≤ 1.3× without the package: $(verdict "$(ratio "$with_ms" "$without_ms")" 1.3) ($(ratio "$with_ms" "$without_ms")×)."
    echo
  } >>"$summary"
}

# ---------------------------------------------------------------------------------------------------------------

{
  echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
       "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}'), psql $("$psql_program" --version | awk '{print $3}')," \
       ".NET SDK $(dotnet --version), load average at start $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
} >"$summary"

if [ "$what" = all ] || [ "$what" = apply ]; then bench_apply; fi
if [ "$what" = all ] || [ "$what" = build ]; then bench_build; fi
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$summary"

result="artifacts/bench/results-$(date -u +%Y%m%d%H%M%S).md"
cp "$summary" "$result"
echo
cat "$summary"
echo "(also in $result)"
