#!/usr/bin/env bash
# The chaos run: a whole private stack (tests/e2e/private_stack.sh) with the
# command service on its own PostgreSQL database, platforms created through
# the gateway at CHAOS_RATE/s (200) and commands at 20/s all along, while
#   - the broker is SIGKILLed three times (down 3, 2 and 4 s),
#   - the command service is SIGKILLed once (down 1 s),
#   - PostgreSQL is restarted once,
#   - the platform service is SIGKILLed once (down 3 s);
# one fault after the other, a second apart, and 3 s after the broker's
# return: the next fault stays out of the 2 s in which the broker's recovery
# is measured (a PostgreSQL restart there measures PostgreSQL's). The
# load goes on until the faults are over and at least CHAOS_PLATFORMS
# (2000) platforms were sent; then each platform not answered 201 is sent
# again with its Idempotency-Key until it is. Then chaos_load checks and
# prints: every platform sent exists once, created,
# delivered, lost = 0, duplicates = 0, commands kept = all, answers other
# than 201 and 502/503 = 0 (those only while a part they need is down), and
# the longest time from the broker's return to the first event delivered.
#
# The logs and the answers are kept in CHAOS_ARTIFACTS
# (default: $STACK_BUILD_DIR/chaos-run).
set -uo pipefail

load=${CHAOS_LOAD:-${STACK_BUILD_DIR:-$(dirname "$0")/../../build}/tests/chaos/chaos_load}
[ -x "$load" ] || {
  echo "chaos_run: no load tool at $load (build target chaos_load, or set CHAOS_LOAD)"
  exit 1
}
rate=${CHAOS_RATE:-200}
platforms=${CHAOS_PLATFORMS:-2000}
# One client sends all of it: the gateway's per-client limit must not refuse it.
export STACK_RATE=5000r/s STACK_BURST=5000 STACK_LOG_LEVEL=debug
load_pid=
stop_load() { [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null; }
# shellcheck source=tests/e2e/private_stack.sh
source "$(dirname "$0")/../e2e/private_stack.sh"
before_down+=(stop_load)
artifacts=${CHAOS_ARTIFACTS:-$STACK_BUILD_DIR/chaos-run}
run=$STACK_DIR/chaos
mkdir -p "$run"
keep_artifacts() {
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  cp -r "$logs" "$run" "$artifacts/" 2>/dev/null
  echo "chaos_run: logs and answers kept in $artifacts"
}
before_down+=(keep_artifacts)

# The command service's durable store: its own database in the stack's PostgreSQL.
psql -q -h 127.0.0.1 -p "$STACK_DB_PORT" -U postgres -d postgres -c 'CREATE DATABASE chaos_commands' \
  >/dev/null || abort "create the command service's database"
export ConnectionStrings__CommandsConn="host=127.0.0.1 port=$STACK_DB_PORT dbname=chaos_commands user=postgres connect_timeout=3"
quietly stack command restart || abort "command service on PostgreSQL"
pass "command service stores in PostgreSQL (database chaos_commands)"
# Commands go to the seeded platforms: the command service learns them by its sync.
knows_seeds() { [ "$(curl -s --max-time 5 "$gw/api/c/platforms" | jq '[.[].id] | contains([1,2,3])')" = true ]; }
check "the command service knows the seeded platforms" until_true 30 knows_seeds

now_ms() { date +%s%3N; }
# fault <component> <seconds down>: SIGKILL, wait, start again (blocks until
# it answers); "restart" as the seconds restarts it cleanly instead. Each
# window (start, answering again) is a line of faults.tsv.
fault() {
  local component=$1 down=$2 began
  began=$(now_ms)
  if [ "$down" = restart ]; then
    quietly stack "$component" restart || echo "chaos_run: $component restart failed"
  else
    quietly stack "$component" kill
    sleep "$down"
    quietly stack "$component" start || echo "chaos_run: $component start failed"
  fi
  printf '%s\t%s\t%s\n' "$component" "$began" "$(now_ms)" >>"$run/faults.tsv"
  echo "chaos_run: $component back after $((($(now_ms) - began) / 100))00 ms"
}

"$load" load "$STACK_GATEWAY_PORT" "$key" "$run" "$platforms" "$rate" 20 {reaper}>&- &
load_pid=$!
started=$(now_ms)
gap=1
for step in "broker 3" "command 1" "broker 2" "db restart" "broker 4" "platform 3"; do
  sleep "$gap"
  # shellcheck disable=SC2086 # two words on purpose
  fault $step
  gap=1
  [ "${step%% *}" = broker ] && gap=3
done
sleep 1
touch "$run/stop"
wait "$load_pid"
load_pid=
echo "chaos_run: load and faults over after $((($(now_ms) - started) / 1000)) s"

# chaos_load waits for the backlog to reach the command service over the bus.
if "$load" check "$STACK_GATEWAY_PORT" "$run" "$logs/command.log" | tee "$run/figures.txt"; then
  pass "chaos figures"
else
  fail "chaos figures"
fi
summary
