#!/usr/bin/env bash
# Services for the server's tests: a throwaway PostgreSQL cluster on loopback and Debian's chromium.
#   scripts/services.sh start   install what is missing (apt-get, as root), start PostgreSQL in a temp folder,
#                               print `export ANTIDOTE_TEST_PG_URL=...` and `export ANTIDOTE_PG_DIR=...`
#   scripts/services.sh stop    stop the cluster named by $ANTIDOTE_PG_DIR and remove its folder
# Use: eval "$(scripts/services.sh start)"; ...; scripts/services.sh stop
set -euo pipefail

log() { echo "services: $*" >&2; }

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

install_missing() {
  local want=()
  pg_bin >/dev/null || want+=(postgresql)
  [ -x /usr/bin/chromium ] || want+=(chromium)
  [ ${#want[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing ${want[*]}; install them with: sudo apt-get install -y ${want[*]}"
    exit 1
  fi
  log "installing ${want[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >&2; }
}

start() {
  install_missing
  local bin dir port user
  bin=$(pg_bin)
  dir=$(mktemp -d /tmp/antidote-pg.XXXXXX)
  # initdb refuses to run as root: the cluster belongs to the postgres user (or the caller when not root).
  user=$(id -un)
  local as=()
  if [ "$(id -u)" = 0 ]; then
    user=postgres
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    as=(runuser -u postgres --)
  fi
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U antidote --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off" start >&2 ||
    { cat "$dir/server.log" >&2; exit 1; }
  "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U antidote antidote_test >&2
  /usr/bin/chromium --version >/dev/null 2>&1 || { log "chromium does not start"; exit 1; }
  echo "export ANTIDOTE_PG_DIR=$dir"
  echo "export ANTIDOTE_TEST_PG_URL=postgres://antidote@127.0.0.1:$port/antidote_test"
  log "PostgreSQL on 127.0.0.1:$port (data in $dir); chromium at /usr/bin/chromium"
}

stop() {
  local dir=${ANTIDOTE_PG_DIR:-}
  [ -n "$dir" ] && [ -d "$dir/data" ] || { log "no cluster to stop (ANTIDOTE_PG_DIR unset)"; return 0; }
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/services.sh start|stop" >&2; exit 2 ;;
esac
