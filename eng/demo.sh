#!/usr/bin/env bash
# The README's first command: pack MigrationTasks, then build the PostgreSQL sample with it. The build checks the
# migrations, starts a throwaway PostgreSQL server (no setup: it uses the server binaries on this machine),
# deploys every migration to it, runs the database tests and writes a JUnit report. Then it shows what happened.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# A unique version each run: NuGet caches a version forever, so a rebuilt package needs a new one.
version="0.1.0-dev.$(date -u +%Y%m%d%H%M%S)"
echo "== Packing MigrationTasks $version into artifacts/packages"
dotnet pack nuget/MigrationTasks.Package.csproj -c Release -o artifacts/packages -p:Version="$version" -nologo -v:q

echo
echo "== dotnet build samples/PgShop (check, throwaway dev database, deploy, tests)"
dotnet build samples/PgShop -p:MigrationTasksVersion="$version" -nologo -tl:off -v:n -clp:NoSummary \
  | grep -E 'MIG[0-9]{4}|applying|applied|up to date|test passed|test\(s\) passed|Dev database|Checked|validates|error|warning' || true
status=${PIPESTATUS[0]}

report="samples/PgShop/bin/Debug/net8.0/migration-tests.xml"
echo
if [ "$status" -eq 0 ] && [ -f "$report" ]; then
  echo "== Done. Database tests report (JUnit): $report"
  grep -o '<testsuite [^>]*>' "$report"
  echo "Build again and nothing runs: inputs unchanged, no migration work, no connection."
else
  echo "== The sample build failed (exit $status); the lines above say where."
fi
exit "$status"
