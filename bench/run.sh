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
fsync="${BENCH_FSYNC:-off}"
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

ticks="$(getconf CLK_TCK)"

# CPU time in ms that this shell's waited-for children used (cutime + cstime of /proc/<pid>/stat), into cpu_now.
# No command substitution here: a subshell would read its own counters.
children_cpu() {
  local -a stat
  read -r -a stat <"/proc/$BASHPID/stat"
  cpu_now=$(((stat[15] + stat[16]) * 1000 / ticks))
}

# CPU time in ms of the benchmark's PostgreSQL server: the postmaster and every backend it has reaped, into server_now.
# Zero while no cluster runs (the build benchmark).
server_cpu() {
  local -a stat
  server_now=0
  if [ -n "$cluster_data" ] && [ -f "$cluster_data/postmaster.pid" ]; then
    read -r -a stat <"/proc/$(head -n 1 "$cluster_data/postmaster.pid")/stat"
    server_now=$(((stat[13] + stat[14] + stat[15] + stat[16]) * 1000 / ticks))
  fi
}

# Runs a command (output to the log) and prints "wall-ms client-cpu-ms server-cpu-ms". CPU time is the second
# opinion on a shared machine: other processes stretch wall time much more than they change the work done.
measure() {
  local start end client_before server_before
  sleep 0.2 # let the backend of the previous command end, so that its CPU time is not counted here
  children_cpu
  client_before=$cpu_now
  server_cpu
  server_before=$server_now
  start=$EPOCHREALTIME
  if ! "$@" >>"$log" 2>&1; then
    say "FAILED: $* (log: $log)"
    tail -n 30 "$log" >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  children_cpu
  sleep 0.2 # the backends end just after their client; the postmaster then adds their CPU time to its own
  server_cpu
  awk -v s="$start" -v e="$end" -v c=$((cpu_now - client_before)) -v d=$((server_now - server_before)) \
    'BEGIN { printf "%.0f %d %d\n", (e - s) * 1000, c, d }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v max="$2" 'BEGIN { print (r <= max) ? "meets" : "MISSES" }'; }

# Runs "side" functions interleaved: run i starts at side i (mod count), so no side is always first or last.
# Each side function prints what measure prints; the numbers land in the arrays wall_<side>, cpu_<side> (client +
# server) and client_<side>.
run_interleaved() {
  local sides=("$@") count=${#@} run i side wall client server
  for ((run = 0; run <= runs; run++)); do
    for ((i = 0; i < count; i++)); do
      side="${sides[$(((run + i) % count))]}"
      read -r wall client server <<<"$("side_$side" "$run")"
      if [ "$run" -eq 0 ]; then
        say "  warm-up  $side: $wall ms (CPU: client $client ms, server $server ms)"
      else
        say "  run $run/$runs $side: $wall ms (CPU: client $client ms, server $server ms)"
        eval "wall_$side+=($wall); cpu_$side+=($((client + server))); client_$side+=($client)"
      fi
    done
  done
}

median_of() { local -n values="$1_$2"; median "${values[@]}"; }
all_of() { local -n values="wall_$1"; echo "${values[*]}"; }

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
  # The product's throwaway clusters use the same settings (EphemeralPostgresCluster), with fsync off unless
  # BENCH_FSYNC=on asks for a durable server. Autovacuum is off so that it cannot add work to one side's CPU time.
  printf "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = %s\nautovacuum = off\n" "$fsync" \
    | as_server tee -a "$cluster_data/postgresql.conf" >/dev/null
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
  measure "$psql_program" -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$migration"
}

side_psql_1tx() {
  local db; db="$(database_for psql_1tx "$1")"
  fresh_database "$db"
  measure "$psql_program" -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$db" -f "$migration"
}

# The product's apply path alone (MigrationSource.Prepare + MigrationRunner.DeployAsync, as deploy-dev applies to
# the dev database), in a process of its own: .NET start-up is part of the cost.
side_product_apply() {
  local db; db="$(database_for apply "$1")"
  fresh_database "$db"
  connection_for "$db"
  measure dotnet "$work/benchapp/MigrationTasks.Benchmarks.dll" apply "$migration" BENCH_CONNECTION
}

# The whole deploy-dev verb with a connection variable: it first applies every migration to a shadow database
# created beside the dev one (proof that the chain builds from nothing), drops it, then applies to the dev database.
side_deploy_dev() {
  local db; db="$(database_for deploydev "$1")"
  fresh_database "$db"
  connection_for "$db"
  measure dotnet "$work/cli/migrate.dll" deploy-dev --engine PostgreSql --migration "$migration" --connection-variable BENCH_CONNECTION --state-dir "$work/state"
}

bench_apply() {
  say "== Benchmark a: apply a $statements-statement migration (product vs psql)"
  say "Publishing the migrate CLI (as the package does) and the bench helper (Release)"
  dotnet publish src/MigrationTasks.Cli -c Release -o "$work/cli" -p:UseAppHost=false -nologo -v:q >>"$log" 2>&1
  dotnet publish bench/MigrationTasks.Benchmarks -c Release -o "$work/benchapp" -p:UseAppHost=false -nologo -v:q >>"$log" 2>&1
  # The helper must start as the CLI starts: the same runtime settings (roll-forward, globalization, PGO, ...).
  if ! cmp -s "$work/cli/migrate.runtimeconfig.json" "$work/benchapp/MigrationTasks.Benchmarks.runtimeconfig.json"; then
    say "bench/MigrationTasks.Benchmarks has other runtime settings than the migrate CLI: align its project file with the CLI's."
    diff "$work/cli/migrate.runtimeconfig.json" "$work/benchapp/MigrationTasks.Benchmarks.runtimeconfig.json" >&2 || true
    exit 1
  fi
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

  local psql_wall psql_1tx_wall apply_wall psql_cpu psql_1tx_cpu
  psql_wall="$(median_of wall psql)"
  psql_1tx_wall="$(median_of wall psql_1tx)"
  apply_wall="$(median_of wall product_apply)"
  psql_cpu="$(median_of cpu psql)"
  psql_1tx_cpu="$(median_of cpu psql_1tx)"
  apply_row() {
    local wall cpu
    wall="$(median_of wall "$2")"
    cpu="$(median_of cpu "$2")"
    echo "| $1 | $wall | $(ratio "$wall" "$psql_wall") | $(ratio "$wall" "$psql_1tx_wall") | $cpu ($(median_of client "$2")) | $(ratio "$cpu" "$psql_cpu") | $(ratio "$cpu" "$psql_1tx_cpu") | $(all_of "$2") |"
  }
  {
    echo "### a. Apply one $statements-statement migration, fresh database each time (median of $runs; fsync $fsync)"
    echo
    echo "| side | wall ms | × psql | × psql -1 | CPU ms, client + server (client) | CPU × psql | CPU × psql -1 | wall ms of each run |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    apply_row "\`psql -v ON_ERROR_STOP=1 -f\`" psql
    apply_row "\`psql -v ON_ERROR_STOP=1 --single-transaction -f\` (psql -1)" psql_1tx
    apply_row "product, apply: one process (start-up, split, lock, history, one transaction)" product_apply
    apply_row "product, whole \`migrate deploy-dev\`: shadow database, then the dev database" deploy_dev
    echo
    echo "Requirement apply ≤ 1.10× psql (wall): $(verdict "$(ratio "$apply_wall" "$psql_wall")" 1.10) against \`psql -f\`" \
         "($(ratio "$apply_wall" "$psql_wall")×), $(verdict "$(ratio "$apply_wall" "$psql_1tx_wall")" 1.10) against \`psql -1 -f\`" \
         "($(ratio "$apply_wall" "$psql_1tx_wall")×)."
    echo
    echo "The product's own split of its apply runs (prepare = read + split + checks; connect = first connection;"
    echo "deploy = lock, history, one transaction): $(grep -E '^prepare [0-9]+ ms' "$log" | tail -n "$runs" | paste -sd ';' - | sed 's/;/; /g')."
    echo
  } >>"$summary"
}

# ---------------------------------------------------------------------------------------------------------------
# Benchmark b: a no-op `dotnet build` of samples/PgShop, with the package and without it
# ---------------------------------------------------------------------------------------------------------------

side_with_package() { measure dotnet build "$work/build/with/PgShop" -nologo -tl:off -v:q -p:MigrationTasksVersion="$version"; }
side_without_package() { measure dotnet build "$work/build/without/PgShop" -nologo -tl:off -v:q -p:MigrationTasksVersion="$version"; }

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
  first_with="$(side_with_package | cut -d' ' -f1)"
  first_without="$(side_without_package | cut -d' ' -f1)"
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

  local with_wall without_wall with_cpu without_cpu
  with_wall="$(median_of wall with_package)"
  without_wall="$(median_of wall without_package)"
  with_cpu="$(median_of cpu with_package)"
  without_cpu="$(median_of cpu without_package)"
  {
    echo "### b. No-op \`dotnet build\` of samples/PgShop, warm build servers (median of $runs)"
    echo
    echo "| side | wall ms | ratio | CPU ms of the dotnet build process | CPU ratio | wall ms of each run |"
    echo "|---|---:|---:|---:|---:|---|"
    echo "| without the package (same NoTargets project, PackageReference removed) | $without_wall | 1.00 | $without_cpu | 1.00 | $(all_of without_package) |"
    echo "| with the package (samples/PgShop as shipped) | $with_wall | $(ratio "$with_wall" "$without_wall") | $with_cpu | $(ratio "$with_cpu" "$without_cpu") | $(all_of with_package) |"
    echo
    echo "First (full) builds, for scale: with the package $first_with ms (check, throwaway dev database, deploy, tests)," \
         "without $first_without ms."
    echo
    echo "Requirement no-op build ≤ 1.3× without the package (wall): $(verdict "$(ratio "$with_wall" "$without_wall")" 1.3)" \
         "($(ratio "$with_wall" "$without_wall")×)."
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
