#!/usr/bin/env bash
# Benchmark of issue 3: `dotnet migrate.dll verify` of a signed release with 500 files and 100 MB (requirement: at
# most 1 s, process start included). Run from the repository root: bash bench/verify.sh
# BENCH_RUNS (default 5) timed runs after one untimed warm-up; the median is reported.
# It builds the CLI (Release), writes the release with the CLI's own `package` verb (so the manifest and signature
# are the product's), signs it with a throwaway certificate made by openssl, and removes everything it made.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${BENCH_RUNS:-5}"
files="${BENCH_FILES:-500}"
megabytes="${BENCH_MEGABYTES:-100}"
work="$(mktemp -d /tmp/migrationtasks-bench-verify.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "Building the CLI (Release)" >&2
dotnet build src/MigrationTasks.Cli -c Release -nologo -v:q >/dev/null
cli="src/MigrationTasks.Cli/bin/Release/net8.0/migrate.dll"

# 500 migrations of ~200 KB each: one statement and a long comment, as generated data scripts look to a hash.
echo "Writing $files migrations, $megabytes MB in all" >&2
mkdir -p "$work/migrations"
python3 - "$work/migrations" "$files" "$megabytes" <<'PY'
import os, sys
folder, count, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = mb * 1024 * 1024 // count
line = "-- " + "x" * 96 + "\n"
for i in range(1, count + 1):
    body = f"CREATE TABLE t{i} (id int);\n" + line * (size // len(line))
    with open(os.path.join(folder, f"V{i}__table_{i}.sql"), "w") as f:
        f.write(body)
PY

export MIGRATIONTASKS_SIGNING_PASSWORD="bench-$RANDOM$RANDOM"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/signer.pem" -days 1 -subj "/CN=bench" 2>/dev/null
openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/signer.pem" -out "$work/signer.pfx" -passout env:MIGRATIONTASKS_SIGNING_PASSWORD
args=(package --engine PostgreSql --publish-dir "$work/publish" --package-id Bench --version 1.0.0 --signing-certificate "$work/signer.pfx" --state-dir "$work/state")
for f in "$work"/migrations/*.sql; do args+=(--migration "$f"); done
printf '%s\n' "${args[@]}" >"$work/package.rsp"
echo "Packaging (the expected post-state is computed on a throwaway server; that part is not measured)" >&2
dotnet "$cli" @"$work/package.rsp" | tail -n 2 >&2

release="$work/publish/release"
count="$(find "$release" -type f | wc -l)"
bytes="$(du -sb "$release" | cut -f1)"
verify() { dotnet "$cli" verify --trust "$work/signer.pem" --release-dir "$release" >/dev/null; }
verify
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  verify
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
echo
echo "| release | runs (ms) | median |"
echo "|---|---|---|"
echo "| $count files, $(( bytes / 1024 / 1024 )) MB, signed | ${times[*]} | **$median ms** |"
