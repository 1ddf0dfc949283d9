# Sourced by the bench scripts: starts a throwaway PostgreSQL cluster (as the postgres user when run as root) in a
# temporary folder, exports PGHOST/PGPORT/PGUSER for it, and stops and deletes it when the script exits.
# Sets: bin (the server programs' folder), work (a temporary folder), port.
bin="${MIGRATIONTASKS_POSTGRES_BIN:-}"
if [ -z "$bin" ]; then
  if command -v initdb >/dev/null; then bin="$(dirname "$(readlink -f "$(command -v initdb)")")"; else bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"; fi
fi
work="$(mktemp -d /tmp/migrationtasks-bench-XXXXXX)"
chmod 755 "$work"
data="$work/data"
mkdir "$data"
server() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

server "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nport = %s\n" "$port" >> "$data/postgresql.conf"
server "$bin/pg_ctl" start -w -D "$data" -l "$data/server.log" >/dev/null
trap 'server "$bin/pg_ctl" stop -w -D "$data" -m fast >/dev/null; rm -rf "$work"' EXIT
export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
