#!/usr/bin/env bash
# Issue 12's benchmark: the inner loop of a PostgreSQL database project against the size of its history
# (docs/benchmarks.md, "Inner loop"). Run from anywhere:
#
#   bash bench/inner-loop.sh                                   N = 50, 500, 2000; 5 timed runs
#   BENCH_SIZES="50 500" BENCH_RUNS=3 bash bench/inner-loop.sh   a quicker run
#
# For each history size N it makes a consumer project (Microsoft.Build.NoTargets, MigrationEngine=PostgreSql, the
# package packed from this checkout) with N generated migrations of ~10 statements each (a table, an index, a view, a
# PL/pgSQL function, inserts, ...) and a few Tests/*.sql, and the same project without the package (the floor). A first
# build deploys the N migrations (not timed). Then, interleaved in a rotating order (sizes and scenarios), with warm
# MSBuild nodes and one untimed warm-up round, it times `dotnet build` for:
#   no-op           nothing changed
#   add one         a new migration V<N+i> added
#   edit it again   the newest migration's content changed (valid SQL, different)
#   edit a test     one Tests/*.sql file's content changed
#   floor           the same project without the package, nothing changed
# The dev database is the throwaway one (MIGRATIONTASKS_DEV_CONNECTION unset): the build starts its own PostgreSQL
# from the data in obj/. Per-target times (_MigrationCheck, _MigrationDeployDev, _MigrationTest) come from MSBuild's
# performance summary (a file logger with PerformanceSummary, no binlog). The report gives medians and the ratios
# N=largest/N=smallest and add-one/no-op, on the terminal and in artifacts/bench/inner-loop.md.
#
# Installs nothing. Needs the .NET SDK and PostgreSQL's server programs (found as the product finds them). Packs the
# package into artifacts/packages with a unique version (as eng/demo.sh does); everything else lives in a temporary
# folder that is removed at the end, after any PostgreSQL server whose data lives under it has been stopped. Its
# MSBuild nodes use a handshake salt of their own, so the user's build servers are neither reused nor shut down.
# It fails, rather than reporting numbers, when a build did not do the work its scenario stands for (see check_stamps).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sizes="${BENCH_SIZES:-50 500 2000}"
runs="${BENCH_RUNS:-5}"
for size in $sizes; do
  [[ "$size" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_SIZES must be positive whole numbers, not '$size'" >&2; exit 2; }
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be a positive whole number, not '$runs'" >&2; exit 2; }
read -r -a sizes <<<"$sizes"
[ "${#sizes[@]}" -gt 0 ] || { echo "BENCH_SIZES is empty" >&2; exit 2; }
scenarios=(noop add edit test floor)

work="$(mktemp -d /tmp/migrationtasks-inner-loop.XXXXXX)"
# As root the throwaway servers run as postgres, which must be able to enter the folders above their data.
chmod 755 "$work"
log="$work/bench.log"
summary="$work/summary.md"
started_at=$EPOCHREALTIME

say() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL servers whose data directory lies under $work: the product's throwaway dev servers. Today a build
# stops its server before it ends; should one stay up (a later version may keep it running between builds), the
# bench stops it at the end. Found by the postmaster's command line (postgres -D <dir>), ended by process id.
# ---------------------------------------------------------------------------------------------------------------

our_postmasters() {
  local dir cmdline pid
  for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    cmdline="$(tr '\0' ' ' 2>/dev/null <"$dir/cmdline")" || continue # the process may have ended
    case "$cmdline" in
      */postgres\ -D\ "$work"/*|postgres\ -D\ "$work"/*) echo "$pid" ;;
    esac
  done
}

children_of() { local pid; for pid in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$pid"; done; }

stop_our_postmasters() {
  local pid children waited stopped=0
  for pid in $(our_postmasters); do
    children="$(children_of "$pid")"
    kill -QUIT "$pid" 2>/dev/null || continue # immediate shutdown: the postmaster ends its backends itself
    stopped=$((stopped + 1))
    for ((waited = 0; waited < 50; waited++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" $children 2>/dev/null || true
  done
  echo "$stopped"
}

cleanup() {
  set +e
  local stopped
  stopped="$(stop_our_postmasters)"
  [ "$stopped" = 0 ] || say "Stopped $stopped PostgreSQL server(s) left running under $work."
  # Only this script's MSBuild nodes: they share its handshake salt, nobody else's build servers do.
  if [ -n "${MSBUILDNODEHANDSHAKESALT:-}" ]; then dotnet build-server shutdown --msbuild >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
seconds() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }
grouped() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
verdict() { awk -v v="$1" -v max="$2" 'BEGIN { print (v <= max) ? "meets" : "MISSES" }'; }
load() { cut -d' ' -f1 /proc/loadavg; }

# The folder with initdb and pg_ctl, looked up like the product does (PostgresBinaries); only to fail early and clearly.
find_pg_bin() {
  if [ -n "${MIGRATIONTASKS_POSTGRES_BIN:-}" ]; then echo "$MIGRATIONTASKS_POSTGRES_BIN"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then echo "$newest"; return; fi
  if [ -x /usr/local/pgsql/bin/initdb ]; then echo /usr/local/pgsql/bin; return; fi
  say "PostgreSQL server programs (initdb, pg_ctl) not found: install them (e.g. apt-get install postgresql) or set MIGRATIONTASKS_POSTGRES_BIN."
  exit 2
}

# ---------------------------------------------------------------------------------------------------------------
# The consumer projects
# ---------------------------------------------------------------------------------------------------------------

# Migration $1 with content variant $2 (a different variant is different, valid SQL): 10 statements.
migration_sql() {
  local i="$1" v="$2"
  cat <<SQL
-- Synthetic migration $i of the inner-loop benchmark (variant $v).
CREATE TABLE bench_t$i (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    amount numeric(12,2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bench_t${i}_name ON bench_t$i (name);
COMMENT ON TABLE bench_t$i IS 'synthetic table $i; the semicolon is inside a string';
INSERT INTO bench_t$i (name, amount) VALUES ('a', 1.50), ('b', 2.25);
INSERT INTO bench_t$i (name, amount) VALUES ('c', $v.00), ('d', $i.$((v % 100)));
ALTER TABLE bench_t$i ADD COLUMN note text;
UPDATE bench_t$i SET note = 'row ' || id || ' of variant $v' WHERE note IS NULL;
CREATE VIEW bench_v$i AS SELECT name, amount * 2 AS doubled FROM bench_t$i WHERE amount > 0;
CREATE FUNCTION bench_sum_$i(p_name text) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE
    total numeric;
BEGIN
    SELECT sum(amount) INTO total FROM bench_t$i WHERE name = p_name;
    RETURN coalesce(total, 0);
END;
\$\$;
COMMENT ON FUNCTION bench_sum_$i(text) IS 'sum of one name; variant $v';
SQL
}

write_migration() { migration_sql "$2" "$3" >"$1/Migrations/V$2__table_$2.sql"; }

# The edited test; a new variant changes its content, never its verdict (no row has a negative amount).
edited_test_sql() {
  printf -- '-- Edited by the benchmark (variant %s). Passes when no row comes back.\n' "$1"
  printf 'SELECT id, amount FROM bench_t1 WHERE amount < -%s;\n' "$1"
}

csproj() {
  cat <<XML
<Project Sdk="Microsoft.Build.NoTargets/3.7.0">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
    <MigrationEngine>PostgreSql</MigrationEngine>
  </PropertyGroup>
$1</Project>
XML
}

# $work/n<N>/Db (with the package) and $work/n<N>/Floor (the same files, no package). The samples' build files and
# NuGet sources (artifacts/packages, nuget.org; artifacts/sample-packages as the packages folder) sit in $work.
make_projects() {
  local n="$1" db="$work/n$1/Db" i
  mkdir -p "$db/Migrations" "$db/Tests"
  csproj "  <ItemGroup>
    <PackageReference Include=\"MigrationTasks\" Version=\"$version\" PrivateAssets=\"all\" />
  </ItemGroup>
" >"$db/Db.csproj"
  for ((i = 1; i <= n; i++)); do write_migration "$db" "$i" 0; done
  cat >"$db/Tests/first_table_sums.sql" <<'SQL'
-- The function of the first migration adds up its rows.
SELECT 1 WHERE bench_sum_1('a') <> 1.50 OR bench_sum_1('b') <> 2.25;
SQL
  cat >"$db/Tests/views_double.sql" <<SQL
-- The views of the first and of the last generated migration double every amount.
SELECT v.name FROM bench_v1 v JOIN bench_t1 t USING (name) WHERE v.doubled <> t.amount * 2
UNION ALL
SELECT v.name FROM bench_v$n v JOIN bench_t$n t USING (name) WHERE v.doubled <> t.amount * 2;
SQL
  edited_test_sql 0 >"$db/Tests/edited.sql"
  mkdir -p "$work/n$n/Floor"
  cp -r "$db/Migrations" "$db/Tests" "$work/n$n/Floor/"
  csproj "" >"$work/n$n/Floor/Floor.csproj"
  newest[$n]=$n
  variant[$n]=0
  test_variant[$n]=0
}

# ---------------------------------------------------------------------------------------------------------------
# One build, timed
# ---------------------------------------------------------------------------------------------------------------

perf_log="$work/perf.log"

# Builds project folder $1 as a developer types it (restore included), MSBuild's performance summary into $perf_log.
# The wall time in ms goes to built_ms. (No command substitution around the steps below: a subshell would lose the
# counters of the scenarios.)
build() {
  local start end
  start=$EPOCHREALTIME
  if ! dotnet build "$1" -nologo -tl:off -v:q "-flp:PerformanceSummary;Verbosity=quiet;LogFile=$perf_log" >>"$log" 2>&1; then
    say "FAILED: dotnet build $1 (log: $log)"
    tail -n 30 "$log" >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  built_ms="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f\n", (e - s) * 1000 }')"
}

# A target's time in ms from the last build's Target Performance Summary (0 when it did not run).
target_ms() { awk -v t="$1" '$2 == "ms" && $3 == t { print $1; found = 1; exit } END { if (!found) print 0 }' "$perf_log"; }

# The migration steps' stamps, with their times to the nanosecond.
stamps() { find "$work/n$1/Db/obj" -name '*.stamp' -printf '%f %T@\n' | sort; }

# Which stamps a build of scenario $2 must move (the steps that ran): fails the benchmark otherwise.
check_stamps() {
  local n="$1" scenario="$2" before="$3" after changed expected
  after="$(stamps "$n")"
  changed="$(join <(echo "$before") <(echo "$after") | awk '$2 != $3 { print $1 }' | sort | paste -sd' ' -)"
  case "$scenario" in
    noop|floor) expected="" ;;
    # The dev deploy checks every migration itself, so the separate check step (check.stamp) does not run.
    add|edit) expected="deploy-dev.stamp test.stamp" ;;
    test) expected="test.stamp" ;;
  esac
  if [ "$changed" != "$expected" ]; then
    say "N=$n $scenario: the build ran the wrong steps (stamps changed: '${changed}', expected '${expected}'); log: $log"
    exit 1
  fi
}

# Sets the scene for scenario $2 at size $1 (untimed), builds (timed) and checks what ran. The build's wall time and
# its migration targets' times land in wall, check, deploy and test.
run_scenario() {
  local n="$1" scenario="$2" db="$work/n$1/Db" before running
  case "$scenario" in
    add)
      newest[$n]=$((newest[$n] + 1))
      write_migration "$db" "${newest[$n]}" 0
      ;;
    edit)
      variant[$n]=$((variant[$n] + 1))
      write_migration "$db" "${newest[$n]}" "${variant[$n]}"
      ;;
    test)
      test_variant[$n]=$((test_variant[$n] + 1))
      edited_test_sql "${test_variant[$n]}" >"$db/Tests/edited.sql"
      ;;
  esac
  before="$(stamps "$n")"
  if [ "$scenario" = floor ]; then build "$work/n$n/Floor"; else build "$db"; fi
  wall=$built_ms
  check="$(target_ms _MigrationCheck)"
  deploy="$(target_ms _MigrationDeployDev)"
  test="$(target_ms _MigrationTest)"
  check_stamps "$n" "$scenario" "$before"
  running="$(our_postmasters | wc -l)"
  [ "$running" -le "$max_running" ] || max_running=$running
}

# ---------------------------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------------------------

mkdir -p artifacts/bench
pg_bin="$(find_pg_bin)"
if [ -n "${MIGRATIONTASKS_DEV_CONNECTION:-}" ]; then
  say "MIGRATIONTASKS_DEV_CONNECTION is set: this benchmark measures the throwaway dev database; it is ignored here."
  unset MIGRATIONTASKS_DEV_CONNECTION
fi
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# A unique version each run, as eng/demo.sh does: NuGet caches a version forever.
version="0.1.0-bench.$(date -u +%Y%m%d%H%M%S)"
say "Packing MigrationTasks $version into artifacts/packages"
dotnet pack nuget/MigrationTasks.Package.csproj -c Release -o artifacts/packages -p:Version="$version" -nologo -v:q >>"$log" 2>&1
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
# The last commit that changed the product rather than the benchmarks or the docs: what the figures are of.
product_commit="$(git log -1 --format=%h -- . ':!bench' ':!docs' 2>/dev/null || echo unknown)"
dirty="$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)"

cp samples/Directory.Build.props samples/Directory.Build.targets samples/Directory.Packages.props "$work/"
sed -e "s|\.\./artifacts/|$root/artifacts/|g" samples/nuget.config >"$work/nuget.config"

# Warm build servers, the developer's normal case: `dotnet build` keeps MSBuild's nodes for the next build. Node reuse
# is what `dotnet build` does by default; an environment that turns it off (MSBUILDDISABLENODEREUSE=1, as some CI
# images do) is overridden here. The salt keeps these nodes apart from other builds on the machine.
unset MSBUILDDISABLENODEREUSE
export MSBUILDNODEHANDSHAKESALT="migrationtasks-inner-loop-$$"

# Per size: the newest migration's version, its content variant, the edited test's variant, the first build's time.
newest=() variant=() test_variant=() first_build=()
max_running=0
for n in "${sizes[@]}"; do
  say "N=$n: generating $n migrations, the first build deploys them all (not timed)"
  make_projects "$n"
  build "$work/n$n/Db"
  first_build[$n]=$built_ms
  if [ "$(stamps "$n" | wc -l)" -lt 2 ]; then say "N=$n: the first build left no deploy and test stamps (log: $log)"; exit 1; fi
  say "  first build $(seconds "$built_ms") (check $(target_ms _MigrationCheck), deploy-dev $(target_ms _MigrationDeployDev), test $(target_ms _MigrationTest) ms)"
  build "$work/n$n/Floor"
done
say "Sizes: ${sizes[*]}; $runs timed runs after one warm-up round; load average at start $load_start"

# ---------------------------------------------------------------------------------------------------------------
# The timed rounds: round 0 warms up; in round r the sizes and the scenarios start at position r (mod count), so no
# size or scenario is always first or last, and load from other processes falls on all of them alike.
# ---------------------------------------------------------------------------------------------------------------

loads=()
for ((run = 0; run <= runs; run++)); do
  loads+=("$(load)")
  for ((si = 0; si < ${#sizes[@]}; si++)); do
    n="${sizes[$(((run + si) % ${#sizes[@]}))]}"
    for ((ci = 0; ci < ${#scenarios[@]}; ci++)); do
      scenario="${scenarios[$(((run + ci) % ${#scenarios[@]}))]}"
      run_scenario "$n" "$scenario"
      label="run $run/$runs"; [ "$run" -gt 0 ] || label="warm-up "
      say "  $label N=$n $scenario: $wall ms (check $check, deploy-dev $deploy, test $test ms; load $(load))"
      if [ "$run" -gt 0 ]; then
        eval "wall_${scenario}_$n+=($wall); check_${scenario}_$n+=($check); deploy_${scenario}_$n+=($deploy); test_${scenario}_$n+=($test)"
      fi
    done
  done
done
loads+=("$(load)")


# ---------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------

med() { local -n values="$1_$2_$3"; median "${values[@]}"; }
each() { local -n values="$1_$2_$3"; echo "${values[*]}"; }
small="${sizes[0]}"; large="${sizes[0]}"
for n in "${sizes[@]}"; do
  [ "$n" -ge "$small" ] || small=$n
  [ "$n" -le "$large" ] || large=$n
done
elapsed="$(awk -v s="$started_at" -v e="$EPOCHREALTIME" 'BEGIN { printf "%d min %02d s", (e - s) / 60, (e - s) % 60 }')"
load_range="$(printf '%s\n' "${loads[@]}" | sort -g | sed -n '1p;$p' | paste -sd'-' - | sed 's/-/–/')"

{
  echo "## Inner loop: build time against the size of the history (run of $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit$dirty, product code of $product_commit)"
  echo
  echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
       "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}'), .NET SDK $(dotnet --version);" \
       "load average (1 min) $load_range during the rounds. Medians of $runs interleaved runs after one warm-up round;" \
       "warm MSBuild nodes; throwaway dev database; the whole run took $elapsed."
  echo
  echo "| history size N | no-op build | add one migration → build | of which the dev-deploy step | edit it again → build | edit a test → build | floor: without the package, no-op | add one ÷ no-op | no-op ÷ floor |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for n in "${sizes[@]}"; do
    echo "| $(grouped "$n") | $(seconds "$(med wall noop "$n")") | $(seconds "$(med wall add "$n")") | $(seconds "$(med deploy add "$n")")" \
         "| $(seconds "$(med wall edit "$n")") | $(seconds "$(med wall test "$n")") | $(seconds "$(med wall floor "$n")")" \
         "| $(ratio "$(med wall add "$n")" "$(med wall noop "$n")") | $(ratio "$(med wall noop "$n")" "$(med wall floor "$n")") |"
  done
  if [ "$small" != "$large" ]; then
    echo "| **N=$(grouped "$large") ÷ N=$(grouped "$small")** | $(ratio "$(med wall noop "$large")" "$(med wall noop "$small")")×" \
         "| $(ratio "$(med wall add "$large")" "$(med wall add "$small")")× | $(ratio "$(med deploy add "$large")" "$(med deploy add "$small")")×" \
         "| $(ratio "$(med wall edit "$large")" "$(med wall edit "$small")")× | $(ratio "$(med wall test "$large")" "$(med wall test "$small")")×" \
         "| $(ratio "$(med wall floor "$large")" "$(med wall floor "$small")")× | | |"
  fi
  echo
  echo "Where the time of the migration steps goes (medians of MSBuild's target times, ms; \`_MigrationCheck\`," \
       "\`_MigrationDeployDev\`, \`_MigrationTest\`), and every run's wall time:"
  echo
  echo "| N | scenario | wall ms | check | deploy-dev | test | rest of the build | wall ms of each run |"
  echo "|---:|---|---:|---:|---:|---:|---:|---|"
  for n in "${sizes[@]}"; do
    for scenario in "${scenarios[@]}"; do
      w="$(med wall "$scenario" "$n")"; c="$(med check "$scenario" "$n")"; d="$(med deploy "$scenario" "$n")"; t="$(med test "$scenario" "$n")"
      echo "| $(grouped "$n") | $scenario | $w | $c | $d | $t | $((w - c - d - t)) | $(each wall "$scenario" "$n") |"
    done
  done
  echo
  echo "First builds (deploy all N migrations, not timed): $(for n in "${sizes[@]}"; do printf 'N=%s %s; ' "$(grouped "$n")" "$(seconds "${first_build[$n]}")"; done | sed 's/; $//')."
  echo "PostgreSQL servers of the benchmark found running after a timed build (most at once): $max_running."
  echo
  echo "Goals of issue 12 (add/edit the newest migration → build: the same at every N within 1.2×, ≤ 3 s at N = 500):"
  if [ "$small" != "$large" ]; then
    echo "add one N=$(grouped "$large")/N=$(grouped "$small") $(ratio "$(med wall add "$large")" "$(med wall add "$small")")× —" \
         "$(verdict "$(ratio "$(med wall add "$large")" "$(med wall add "$small")")" 1.2);" \
         "edit it again $(ratio "$(med wall edit "$large")" "$(med wall edit "$small")")× —" \
         "$(verdict "$(ratio "$(med wall edit "$large")" "$(med wall edit "$small")")" 1.2)."
  fi
  for n in "${sizes[@]}"; do
    if [ "$n" = 500 ]; then
      echo "At N = 500: add one $(seconds "$(med wall add 500)") — $(verdict "$(med wall add 500)" 3000);" \
           "edit it again $(seconds "$(med wall edit 500)") — $(verdict "$(med wall edit 500)" 3000)."
    fi
  done
  echo
} >"$summary"

cp "$summary" artifacts/bench/inner-loop.md
echo
cat "$summary"
echo "(also in artifacts/bench/inner-loop.md)"
