#!/usr/bin/env bash
# Benchmark of the SQL Server dacpac build (issue 4), offline. Run from the repository root:
#
#   bash bench/dacpac.sh
#
# Generates a database project of 1,000 objects, one per file (BENCH_TABLES=400 tables, BENCH_VIEWS=300 views,
# BENCH_PROCEDURES=300 procedures), and times:
#   1. `migrate build-dacpac` on it, run BENCH_RUNS times (default 3): the DacFx work of one build, every process cold;
#   2. `dotnet build` of the project with the repository's targets and a fresh Release build of the CLI and tasks,
#      without the model server (MIGRATIONTASKS_MODEL_SERVER=0): the first build, a build with nothing changed (the
#      dacpac target is skipped), and builds after one schema file changed (DacFx builds the whole model in a cold
#      process), BENCH_RUNS times;
#   2b. the same one-file change with the model server (MigrationModelServer, the default): one cold build that
#      starts the server, then BENCH_RUNS builds after a one-file change each, served warm; after each, the dacpac's
#      model.xml is compared byte for byte with a cold `migrate build-dacpac` of the same files, and the server's
#      log says where its time went;
#   3. `migrate package` (what `dotnet publish` runs after the staging gate), BENCH_RUNS times, cold process: the
#      deploy script and deploy report DacFx generates against a baseline dacpac of the same size (the dacpac of run 1,
#      standing for production), after a realistic change of about 2% of the objects: a column added to 5 tables,
#      5 views and 5 procedures altered, 2 tables added. Prints the operations and batches of the plan.
# Installs nothing and needs no database; prints a Markdown summary and removes what it made.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tables="${BENCH_TABLES:-400}"
views="${BENCH_VIEWS:-300}"
procedures="${BENCH_PROCEDURES:-300}"
runs="${BENCH_RUNS:-3}"
work="$(mktemp -d /tmp/migrationtasks-bench-dacpac.XXXXXX)"
trap 'rm -rf "$work"' EXIT
log="$work/bench.log"
# Every build is cold unless section 2b says otherwise; the servers it starts live in $work and are stopped at the end.
export MIGRATIONTASKS_MODEL_SERVER=0
export MIGRATIONTASKS_MODEL_SERVER_DIR="$work/servers"
trap 'MIGRATIONTASKS_MODEL_SERVER=1 dotnet "$work/cli/migrate.dll" model-server --stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

say() { printf '%s\n' "$*" >&2; }

# Wall time of a command in milliseconds into $elapsed; its output goes to the log, a failure stops the script.
measure() {
  local start end
  start="$(date +%s%N)"
  if ! "$@" >>"$log" 2>&1; then
    say "failed: $*"; tail -n 40 "$log" >&2; exit 1
  fi
  end="$(date +%s%N)"
  elapsed=$(( (end - start) / 1000000 ))
}

seconds() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }

say "Building the migrate CLI and the tasks (Release)"
dotnet publish src/MigrationTasks.Cli -c Release -o "$work/cli" -p:UseAppHost=false -nologo -v:q >>"$log" 2>&1
dotnet build src/MigrationTasks.Tasks -c Release -o "$work/tasks" -nologo -v:q >>"$log" 2>&1

project="$work/Big"
say "Generating $tables tables, $views views and $procedures procedures in $project/Schema"
mkdir -p "$project/Schema/Tables" "$project/Schema/Views" "$project/Schema/Procedures"
for ((i = 1; i <= tables; i++)); do
  parent=""
  if [ "$i" -gt 1 ]; then
    parent="    ParentId int NULL CONSTRAINT FK_T$i FOREIGN KEY REFERENCES dbo.T$((i - 1)) (Id),"
  fi
  cat >"$project/Schema/Tables/T$i.sql" <<EOF
CREATE TABLE dbo.T$i
(
    Id int NOT NULL CONSTRAINT PK_T$i PRIMARY KEY,
    Name nvarchar(100) NOT NULL,
    Amount decimal(12, 2) NOT NULL,
$parent
    CreatedAt datetime2(0) NOT NULL CONSTRAINT DF_T${i}_CreatedAt DEFAULT (sysutcdatetime())
);
EOF
done
for ((i = 1; i <= views; i++)); do
  t=$(( (i - 1) % tables + 1 ))
  cat >"$project/Schema/Views/V$i.sql" <<EOF
CREATE VIEW dbo.V$i
AS
SELECT t.Id, t.Name, t.Amount, t.CreatedAt
FROM dbo.T$t AS t
WHERE t.Amount > $i.50;
EOF
done
for ((i = 1; i <= procedures; i++)); do
  v=$(( (i - 1) % views + 1 ))
  cat >"$project/Schema/Procedures/P$i.sql" <<EOF
CREATE PROCEDURE dbo.P$i
    @Name nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SELECT v.Id, v.Amount
    FROM dbo.V$v AS v
    WHERE v.Name = @Name
    ORDER BY v.Id;
END;
EOF
done
files=$(find "$project/Schema" -name '*.sql' | wc -l)

# 1. The CLI alone, cold process each time.
find "$project/Schema" -name '*.sql' | sort | sed 's/^/--schema\n/' >"$work/args.rsp"
printf -- '--out\n%s\n' "$work/cli-out/Big.dacpac" >>"$work/args.rsp"
cli_times=()
for ((r = 1; r <= runs; r++)); do
  say "migrate build-dacpac, run $r of $runs"
  measure dotnet "$work/cli/migrate.dll" build-dacpac "@$work/args.rsp"
  cli_times+=("$elapsed")
done
grep -h "^Built " "$log" | tail -n 1 >&2

# 2. dotnet build with the repository's targets, as the package would import them.
cat >"$project/Big.csproj" <<EOF
<Project Sdk="Microsoft.Build.NoTargets/3.7.0">
  <Import Project="$root/build/MigrationTasks.props" />
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
    <MigrationEngine>SqlServer</MigrationEngine>
    <MigrationDevDatabase>none</MigrationDevDatabase>
    <MigrationCliPath>$work/cli/migrate.dll</MigrationCliPath>
    <MigrationTasksAssembly>$work/tasks/MigrationTasks.Tasks.dll</MigrationTasksAssembly>
  </PropertyGroup>
  <Import Project="$root/build/MigrationTasks.targets" />
</Project>
EOF
for f in Directory.Build.props Directory.Build.targets Directory.Packages.props; do echo '<Project />' >"$work/$f"; done
dotnet restore "$project/Big.csproj" -nologo -v:q >>"$log" 2>&1
build() { dotnet build "$project/Big.csproj" --no-restore -nologo -tl:off -v:n -p:MSBuildDisableNodeReuse=true "$@"; }

say "dotnet build: first build"
measure build; first="$elapsed"
built() { grep -c "^ *Built .*Big.dacpac" "$log" || true; }
before="$(built)"
say "dotnet build: nothing changed"
measure build; unchanged="$elapsed"
if [ "$(built)" != "$before" ]; then
  say "the build with nothing changed built the dacpac again: the target is not incremental"; exit 1
fi
changed_times=()
for ((r = 1; r <= runs; r++)); do
  sed -i "s/Amount > [0-9]*\.50;/Amount > $((r + 1)).50;/" "$project/Schema/Views/V1.sql"
  say "dotnet build: one schema file changed, cold, run $r of $runs"
  measure build
  changed_times+=("$elapsed")
done
if [ "$(built)" = "$before" ]; then
  say "the build after a change did not build the dacpac"; exit 1
fi

# 2b. The same change through the model server: a cold build starts it; it primes its model in the background.
model_xml() { unzip -p "$1" model.xml | sha256sum | cut -d' ' -f1; }
export MIGRATIONTASKS_MODEL_SERVER=1
sed -i "s/Amount > [0-9]*\.50;/Amount > 100.50;/" "$project/Schema/Views/V1.sql"
say "dotnet build: one schema file changed, cold, starting the model server"
measure build; server_cold="$elapsed"
say "waiting for the model server to prime its model"
for ((w = 0; w < 600; w++)); do
  if grep -qs " built " "$work"/servers/*.log; then break; fi
  sleep 1
done
warm_times=()
identical=0
for ((r = 1; r <= runs; r++)); do
  sed -i "s/Amount > [0-9]*\.50;/Amount > $((r + 200)).50;/" "$project/Schema/Views/V1.sql"
  say "dotnet build: one schema file changed, warm (model server), run $r of $runs"
  served_before="$(grep -c "Model server (process" "$log" || true)"
  measure build
  warm_times+=("$elapsed")
  if [ "$(grep -c "Model server (process" "$log" || true)" = "$served_before" ]; then
    say "the warm build was not served by the model server"; tail -n 40 "$log" >&2; exit 1
  fi
  # The same files, cold, in a process of its own: model.xml must be the same bytes.
  find "$project/Schema" -name '*.sql' | sort | sed 's/^/--schema\n/' >"$work/cold.rsp"
  printf -- '--out\n%s\n--database-name\nBig\n' "$work/cold/Big.dacpac" >>"$work/cold.rsp"
  MIGRATIONTASKS_MODEL_SERVER=0 dotnet "$work/cli/migrate.dll" build-dacpac "@$work/cold.rsp" >>"$log" 2>&1
  warm_dacpac="$(find "$project/bin" -name Big.dacpac | head -n 1)"
  if [ "$(model_xml "$warm_dacpac")" = "$(model_xml "$work/cold/Big.dacpac")" ]; then
    identical=$((identical + 1))
  else
    say "model.xml of the warm build differs from a cold build's"
  fi
done
phases="$(grep -h " built " "$work"/servers/*.log | grep -v priming | tail -n "$runs" | sed 's/.*s (\(.*\))$/\1/')"
# The same with every code analysis rule off (-SR*): no analysis at all, the rest as above; then also without the dev
# deploy step (MigrationDeployOnBuild=false), which a changed dacpac runs too (here a CLI process that finds no dev
# database), so that only the dacpac target is left.
warm_variant() {
  local offset="$1"; shift
  variant_times=()
  for ((r = 1; r <= runs; r++)); do
    sed -i "s/Amount > [0-9]*\.50;/Amount > $((r + offset)).50;/" "$project/Schema/Views/V1.sql"
    say "dotnet build: one schema file changed, warm (model server), $*, run $r of $runs"
    measure build "$@"
    variant_times+=("$elapsed")
  done
}
warm_variant 300 "-p:MigrationCodeAnalysisRules=-SR*"
norules_times=("${variant_times[@]}")
norules_phases="$(grep -h " built " "$work"/servers/*.log | tail -n "$runs" | sed 's/.*s (\(.*\))$/\1/')"
warm_variant 400 "-p:MigrationCodeAnalysisRules=-SR*" "-p:MigrationDeployOnBuild=false"
dacpac_only_times=("${variant_times[@]}")
MIGRATIONTASKS_MODEL_SERVER=1 dotnet "$work/cli/migrate.dll" model-server --stop >>"$log" 2>&1 || true
export MIGRATIONTASKS_MODEL_SERVER=0

# 3. The release plan against a baseline of the same size: the dacpac of run 1 is production.
sed -i "s/Amount > [0-9]*\.50;/Amount > 1.50;/" "$project/Schema/Views/V1.sql"
cp "$work/cli-out/Big.dacpac" "$work/production.dacpac"
# Five of each, spread over the project (the first, last and three between).
spread() { local count="$1" k; for ((k = 0; k < 5; k++)); do echo $(( 1 + k * (count - 1) / 4 )); done; }
for i in $(spread "$tables"); do
  # Added last, so the table is altered in place (a column in the middle would rebuild it, MIG4012).
  sed -i 's/DEFAULT (sysutcdatetime())$/DEFAULT (sysutcdatetime()),\n    Note nvarchar(200) NULL/' "$project/Schema/Tables/T$i.sql"
done
for i in $(spread "$views"); do sed -i 's/WHERE t.Amount > /WHERE t.Amount >= /' "$project/Schema/Views/V$i.sql"; done
for i in $(spread "$procedures"); do sed -i 's/ORDER BY v.Id;/ORDER BY v.Id DESC;/' "$project/Schema/Procedures/P$i.sql"; done
for n in 1 2; do
  cat >"$project/Schema/Tables/TNew$n.sql" <<EOF
CREATE TABLE dbo.TNew$n
(
    Id int NOT NULL CONSTRAINT PK_TNew$n PRIMARY KEY,
    T1Id int NOT NULL CONSTRAINT FK_TNew${n}_T1 FOREIGN KEY REFERENCES dbo.T1 (Id),
    Label nvarchar(50) NOT NULL
);
EOF
done
changed_files=$(( 5 + 5 + 5 + 2 ))
find "$project/Schema" -name '*.sql' | sort | sed 's/^/--schema\n/' >"$work/changed.rsp"
printf -- '--out\n%s\n' "$work/changed/Big.dacpac" >>"$work/changed.rsp"
say "migrate build-dacpac of the changed project ($changed_files files changed or added)"
measure dotnet "$work/cli/migrate.dll" build-dacpac "@$work/changed.rsp"
find "$project/Schema" -name '*.sql' | sort | sed 's/^/--schema\n/' >"$work/package.rsp"
printf -- '%s\n' --engine SqlServer --package-id Big --database-name Big --dacpac "$work/changed/Big.dacpac" \
  --baseline "$work/production.dacpac" --state-dir "$work/package-state" --publish-dir "$work/package" >>"$work/package.rsp"
package_times=()
for ((r = 1; r <= runs; r++)); do
  say "migrate package against the baseline, run $r of $runs"
  rm -rf "$work/package"
  measure dotnet "$work/cli/migrate.dll" package "@$work/package.rsp"
  package_times+=("$elapsed")
done
plan="$work/package/release/plan.md"
if [ ! -f "$plan" ]; then
  say "migrate package wrote no release"; tail -n 40 "$log" >&2; exit 1
fi
operations="$(sed -n 's/^## Operations (\([0-9]*\))$/\1/p' "$plan")"
operation_kinds="$(grep '^- [A-Z][a-zA-Z]* Sql' "$plan" | awk '{ print tolower($2) " " tolower(substr($3, 4)) }' | sort | uniq -c | awk '{ printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $3 }')"
batches="$(grep -h 'migrations/R__deploy.sql (' "$log" | tail -n 1 | sed 's/.*R__deploy.sql (\([0-9]*\) batch(es)).*/\1/')"
findings="$(sed -n 's/^## Findings (\([0-9]*\))$/\1/p' "$plan")"
script_bytes="$(wc -c <"$work/package/release/migrations/R__deploy.sql")"
grep -h "^Deploy plan against" "$log" | tail -n 1 >&2

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
cat <<EOF

## Dacpac build of $files objects ($tables tables, $views views, $procedures procedures; one file each)

| what | wall time |
|---|---|
| \`migrate build-dacpac\`, cold process (median of $runs: $(printf '%s ms ' "${cli_times[@]}")) | $(seconds "$(median "${cli_times[@]}")") |
| \`dotnet build\`, first build | $(seconds "$first") |
| \`dotnet build\`, nothing changed (dacpac target skipped) | $(seconds "$unchanged") |
| \`dotnet build\`, one schema file changed, no model server: whole model in a cold process (median of $runs: $(printf '%s ms ' "${changed_times[@]}")) | $(seconds "$(median "${changed_times[@]}")") |
| \`dotnet build\`, one schema file changed, cold, starting the model server | $(seconds "$server_cold") |
| \`dotnet build\`, one schema file changed, **warm model server** (median of $runs: $(printf '%s ms ' "${warm_times[@]}")) | **$(seconds "$(median "${warm_times[@]}")")** |
| \`dotnet build\`, one schema file changed, warm model server, every rule off (\`-SR*\`) (median of $runs: $(printf '%s ms ' "${norules_times[@]}")) | $(seconds "$(median "${norules_times[@]}")") |
| the same, and MigrationDeployOnBuild=false: the dacpac target alone (median of $runs: $(printf '%s ms ' "${dacpac_only_times[@]}")) | $(seconds "$(median "${dacpac_only_times[@]}")") |

model.xml of the warm builds identical to a cold build's of the same files: $identical of $runs.

Where the model server's time went in the warm builds:

$(printf '%s\n' "$phases" | sed 's/^/- /')

and with every rule off:

$(printf '%s\n' "$norules_phases" | sed 's/^/- /')

## Release plan against a baseline dacpac of the same size

$changed_files of $files files changed or added (a column added last to 5 tables, 5 views and 5 procedures altered, 2 tables
added). \`migrate package\` compares the project's dacpac with the baseline's: DacFx's deploy script and deploy report,
the script split into plain batches, findings placed at their files (when there are any), plan.md and manifest.json.

| what | wall time |
|---|---|
| \`migrate package\`, cold process (median of $runs: $(printf '%s ms ' "${package_times[@]}")) | $(seconds "$(median "${package_times[@]}")") |

The plan: $operations operation(s) ($operation_kinds), $batches batch(es) in R__deploy.sql ($script_bytes bytes), $findings finding(s).

Machine: $(nproc) cores, $(dotnet --version) SDK; $(date -u +%Y-%m-%d).
EOF
