#!/usr/bin/env bash
# A longer fuzzing run of the statement splitters (PostgreSQL, T-SQL) and the release manifest reader and verifier:
# the NUnit tests in category Fuzz, each spending its share of SECONDS (default 300) on inputs of a fresh seed after
# its fixed-seed inputs. Run from anywhere: bash bench/fuzz.sh [SECONDS]
# MIGRATIONTASKS_FUZZ_SEED replays a seed a run printed. The whole log goes to artifacts/fuzz/fuzz-<time>.log; the
# terminal gets each test's seeds, counts, rates and slowest input, and every failing input (saved by the tests under
# their bin folders in fuzz-failures/), shown with its control characters visible. Exit 1 when anything failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-300}"
projects=(tests/MigrationTasks.PostgreSql.Tests tests/MigrationTasks.SqlServer.Tests tests/MigrationTasks.Core.Tests)

# Every Fuzzing.Run call is one test with a time budget (Fuzzing.RunAll runs a fixed list and takes none).
budgeted=$(grep -rho --include='*.cs' 'Fuzzing\.Run(' tests | wc -l)
per_test=$(awk -v s="$seconds" -v n="$budgeted" 'BEGIN { printf "%.1f", s / n }')
export MIGRATIONTASKS_FUZZ_SECONDS="$per_test"

mkdir -p artifacts/fuzz
log="artifacts/fuzz/fuzz-$(date +%Y%m%d-%H%M%S).log"
find tests -path '*/bin/*/fuzz-failures' -type d -prune -exec rm -rf {} +

echo "Building the test projects" >&2
for project in "${projects[@]}"; do
    dotnet build "$project" -nologo -v:q >/dev/null
done

echo "Fuzzing for about $seconds s: $budgeted tests, $per_test s each on a fresh seed (log: $log)" >&2
status=0
for project in "${projects[@]}"; do
    if ! dotnet test "$project" --no-build -nologo --filter "Category=Fuzz" --logger "console;verbosity=detailed" >>"$log" 2>&1; then
        status=1
    fi
done

# Each summary line is printed twice by the detailed logger (live, then under the test): keep one of each.
grep -E '^[a-z-]+: (fresh seed|seed [0-9]+:|[0-9]+ read)' "$log" | awk '!seen[$0]++' || true
grep -E '^\s+(Failed|Passed) ' "$log" | sed 's/^ *//' | sort -u

failures=$(find tests -path '*/bin/*/fuzz-failures/*' -type f | sort)
if [ -n "$failures" ]; then
    status=1
    echo
    echo "Failing inputs:"
    for input in $failures; do
        echo "== $input ($(wc -c <"$input") bytes), first 600 shown:"
        head -c 600 "$input" | cat -v
        echo
    done
fi

if [ "$status" -ne 0 ]; then
    echo
    echo "FAILED: see $log for the failures' messages" >&2
fi
exit "$status"
