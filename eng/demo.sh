#!/usr/bin/env bash
# The README's first command: the whole safe-migration flow of the PgShop sample on databases made up on the spot.
#   1. pack MigrationTasks;
#   2. dotnet build   -> checks the migrations, deploys them to a throwaway dev database, runs the database tests;
#   3. a throwaway PostgreSQL server plays staging and production, both seeded with what "production runs today"
#      (V1-V4, deployed by the same runner an earlier release used);
#   4. dotnet publish -> the staging gate (drift, Checks/, rehearsal) and a signed release package;
#   5. the package's runner verifies its signature, then deploys to production: pre-state check, Checks/, backup
#      (proven), migrations, Verify/, and a report with the path taken; a second deploy is a no-op.
# Nothing needs setting up: the PostgreSQL server binaries of this machine are enough. Connection strings travel in
# environment variables only. Any NuGet warning (NU…) is shown: a first run should print none.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$(mktemp -d /tmp/migrationtasks-demo.XXXXXX)"
chmod 755 "$work"

# A unique version each run: NuGet caches a version forever, so a rebuilt package needs a new one.
version="0.1.0-dev.$(date -u +%Y%m%d%H%M%S)"
echo "== 1. Packing MigrationTasks $version into artifacts/packages"
dotnet pack nuget/MigrationTasks.Package.csproj -c Release -o artifacts/packages -p:Version="$version" -nologo -v:q

echo
echo "== 2. dotnet build samples/PgShop: check, throwaway dev database, deploy, database tests"
dotnet build samples/PgShop -p:MigrationTasksVersion="$version" -nologo -tl:off -v:n -clp:NoSummary \
  | grep -E 'MIG[0-9]{4}|NU[0-9]{4}|applying|applied|up to date|test\(s\) passed|Dev database|error' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "The sample build failed; the lines above say where."; exit 1; }

echo
echo "== 3. A throwaway PostgreSQL server for staging and production, seeded with V1-V4"
# The server programs' own folder (initdb on PATH may be a link), where psql of the same version lives too.
bin="$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")")"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$work/pg"
[ "$(id -u)" -ne 0 ] || chown postgres "$work/pg"
chmod 700 "$work/pg"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_postgres "$bin/initdb" -D "$work/pg" -A trust -U postgres --no-sync >/dev/null
as_postgres "$bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
# On exit the server stops and its data goes; the reports and the backup stay for reading.
trap 'as_postgres "$bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work/pg" "$work/state"' EXIT
for db in staging production; do
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $db" postgres
done
export MIGRATIONTASKS_STAGING_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Database=staging"
export MIGRATIONTASKS_PRODUCTION_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Database=production"
runner="artifacts/sample-packages/migrationtasks/$version/tools/net8.0/migrate.dll"
today=(samples/PgShop/Migrations/V1__*.sql samples/PgShop/Migrations/V2__*.sql samples/PgShop/Migrations/V3__*.sql samples/PgShop/Migrations/V4__*.sql)
for variable in MIGRATIONTASKS_STAGING_CONNECTION MIGRATIONTASKS_PRODUCTION_CONNECTION; do
  dotnet "$runner" deploy-dev --engine PostgreSql --connection-variable "$variable" --state-dir "$work/state" \
    $(printf -- '--migration %s ' "${today[@]}") | grep -E 'applied|error' || true
done

echo
echo "== 4. dotnet publish samples/PgShop: staging gate and the signed release package"
export MIGRATIONTASKS_SIGNING_PASSWORD="demo-$(date +%s%N)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/signer.pem" -days 2 \
  -subj "/CN=PgShop releases (demo)" 2>/dev/null
openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/signer.pem" -out "$work/signer.pfx" -passout env:MIGRATIONTASKS_SIGNING_PASSWORD
dotnet publish samples/PgShop -p:MigrationTasksVersion="$version" -p:MigrationSigningCertificate="$work/signer.pfx" \
  -nologo -tl:off -v:n -clp:NoSummary \
  | grep -E 'MIG[0-9]{4}|NU[0-9]{4}|drift|rehearsed|check\(s\) passed|Staging report|Release package|signed|error' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "The publish failed; the lines above say where."; exit 1; }
package="samples/PgShop/bin/Release/net8.0/publish"
echo "Release package: $package (migrate.dll + release/)"
ls "$package/release"

echo
echo "== 5. The release package on production: dotnet migrate.dll verify, then deploy"
dotnet "$package/migrate.dll" verify --trust "$work/signer.pem"
set +e
dotnet "$package/migrate.dll" deploy --connection-variable MIGRATIONTASKS_PRODUCTION_CONNECTION --trust "$work/signer.pem" \
  --backup-dir "$work/backups" --report-dir "$work/report"
status=$?
set -e
echo
echo "== Deploy again: the package is already deployed, so nothing runs"
dotnet "$package/migrate.dll" deploy --connection-variable MIGRATIONTASKS_PRODUCTION_CONNECTION --trust "$work/signer.pem" \
  --backup-dir "$work/backups" --report-dir "$work/report-again" | tail -n 2

echo
if [ "$status" -eq 0 ]; then
  echo "== Done: deployed and verified. The report, with the path taken as a Mermaid flowchart:"
else
  echo "== The deploy ended with exit code $status (1 rolled back, 2 refused, 3 needs a person). The report:"
fi
echo "   $work/report/report.md"
sed -n '1,4p' "$work/report/report.md"
exit "$status"
