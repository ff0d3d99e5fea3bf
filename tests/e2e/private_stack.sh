# shellcheck shell=bash disable=SC2016 # jq programs and the reaper's script are single-quoted on purpose
# What the end-to-end tests share, sourced by each: check reporting, a whole
# private stack (deploy/local/stack on free loopback ports in a temporary
# state dir, never the developer's .stack or ports, gone however the script
# ends), and HTTP helpers. Sourcing it starts the stack; `$gw` is the gateway,
# `$key` the API key, `$logs` the logs.
#
# Environment: STACK_BUILD_DIR (default: build/) holds the binaries;
# E2E_KEEP=1 keeps the state dir (logs) afterwards.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack=$repo/deploy/local/stack
export STACK_BUILD_DIR=${STACK_BUILD_DIR:-$repo/build}
e2e_name=$(basename "$0" .sh)

passed=0
failures=()
started_at=$SECONDS

pass() {
  passed=$((passed + 1))
  printf 'ok    %s\n' "$1"
}
fail() {
  failures+=("$1${2:+: $2}")
  printf 'FAIL  %s%s\n' "$1" "${2:+: $2}"
}
# check <name> <command...>: passes when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
matches() { [[ $1 =~ $2 ]]; }
quietly() { "$@" >/dev/null 2>&1; }
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

summary() {
  local total=$((passed + ${#failures[@]}))
  echo
  echo "e2e: $total checks, $passed passed, ${#failures[@]} failed ($((SECONDS - started_at)) s)"
  local f
  for f in "${failures[@]}"; do echo "  failed: $f"; done
  ((${#failures[@]} == 0))
}

# Stops the run: a summary of what was checked so far, and the logs' ends.
abort() {
  fail "$1" "${2:-}"
  local log
  for log in "$STACK_DIR"/logs/*.log; do
    echo "--- tail of $log"
    tail -n 25 "$log"
  done
  summary
  exit 1
}

for tool in curl jq ss; do
  command -v "$tool" >/dev/null || {
    echo "$e2e_name: needs $tool"
    exit 1
  }
done

# ---- a private stack ------------------------------------------------------------

STACK_DIR=$(mktemp -d /tmp/e2e-stack.XXXXXX)
chmod 755 "$STACK_DIR" # the servers' accounts reach their dirs inside
export STACK_DIR STACK_BUILD=0 STACK_INSTALL=0
# Low enough that a burst of requests meets the limit quickly (a test may set its own).
export STACK_RATE=${STACK_RATE:-50r/s} STACK_BURST=${STACK_BURST:-25}

# Ports from just below the kernel's ephemeral range: no client socket gets
# one of them as its own port while a server is down.
taken=" "
free_port() {
  local low port
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  while :; do
    port=$((low / 2 + RANDOM % (low / 2 - 1)))
    [[ $taken == *" $port "* ]] && continue
    [ -z "$(ss -ltnH "sport = :$port")" ] || continue
    echo "$port"
    return
  done
}
for name in STACK_GATEWAY_PORT STACK_GATEWAY_HTTPS_PORT STACK_PLATFORM_HTTP_PORT \
  STACK_PLATFORM_GRPC_PORT STACK_COMMAND_HTTP_PORT STACK_BROKER_PORT STACK_BROKER_DIST_PORT \
  STACK_EPMD_PORT STACK_DB_PORT; do
  port=$(free_port)
  taken+="$port "
  export "$name=$port"
done

# The stack goes down however this script ends, even by SIGKILL: a reaper
# in its own session waits for our end of a pipe to close. Children of ours
# never get that end (`{reaper}>&-`), or the pipe would outlive us.
exec {reaper}> >(
  exec setsid bash -c '
    trap "" INT TERM HUP
    cat >/dev/null
    "$1" down >/dev/null 2>&1
    [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$STACK_DIR"' reaper "$stack"
)
stack() { "$stack" "$@" {reaper}>&-; }

# Run before the stack goes down (a script's own helpers: a bus tap...).
before_down=()
cleanup() {
  local hook
  for hook in "${before_down[@]}"; do "$hook"; done
  stack down >/dev/null 2>&1
  if [ "${E2E_KEEP:-0}" = 1 ]; then echo "state kept in $STACK_DIR"; fi
}
trap cleanup EXIT

logs=$STACK_DIR/logs
gw=http://localhost:$STACK_GATEWAY_PORT
echo "$e2e_name: stack in $STACK_DIR, gateway $gw"

up_started=$(date +%s%3N)
stack up >"$STACK_DIR/up.out" 2>&1 || {
  cat "$STACK_DIR/up.out"
  abort "stack up"
}
up_ms=$(($(date +%s%3N) - up_started))
pass "stack up ($((up_ms / 1000)).$((up_ms % 1000 / 100)) s)"
key=$(cat "$STACK_DIR/api-key")

# ---- HTTP helpers ---------------------------------------------------------------

# call <method> <url> [curl args...]: sets $status, $body and $headers (a
# file). Each response is also recorded in $responses (one JSON line, as
# tests/support/contract_recording.hpp writes them) for check_contract.
headers=$STACK_DIR/last.headers
responses=$STACK_DIR/responses.jsonl
call() {
  local method=$1 url=$2
  shift 2
  body=$(curl -s -X "$method" -D "$headers" --max-time 10 -w '\n%{http_code}' "$@" "$url" {reaper}>&-)
  status=${body##*$'\n'}
  body=${body%$'\n'*}
  record_response "$method" "$url"
}
# A versioned route (/api/v1/...) is recorded as the service's (/api/...),
# its Location too: the gateway adds the version, the service does not.
record_response() {
  local path=${2#*://*/}
  path=/${path%%\?*}
  tr -d '\r' <"$headers" | jq -R -s -c --arg method "$1" --arg path "${path/#\/api\/v1\//\/api\/}" \
    --argjson status "${status:-0}" --arg body "$body" '
      [split("\n")[] | select(test("^[^ :]+: ")) | capture("^(?<k>[^:]+): (?<v>.*)$")
       | if (.k | ascii_downcase) == "location" then .v |= sub("^/api/v1/"; "/api/") else . end]
      | {method: $method, path: $path, status: $status,
         headers: (map({(.k): .v}) | add // {}), body: $body}' >>"$responses" 2>/dev/null
}

# The responses the services answered (not the gateway itself: its own
# 401, 405, 429, ... are not in the services' contract), checked against
# services/*/openapi.yaml.
check_contract() {
  local served=$STACK_DIR/served.jsonl id line
  : >"$served"
  while IFS= read -r line; do
    id=$(jq -r '.headers["X-Request-Id"] // .headers["x-request-id"] // empty' <<<"$line")
    [ -n "$id" ] && [ -n "$(jq -r 'select(.upstream != "") | .upstream' <<<"$(gateway_line "$id")")" ] &&
      printf '%s\n' "$line" >>"$served"
  done <"$responses"
  local out
  if out=$("$repo/tests/contract/check" responses-partial "$served" 2>&1); then
    pass "every response a service gave through the gateway follows its OpenAPI document ($(tail -n 1 <<<"$out"))"
  else
    fail "responses through the gateway follow the OpenAPI documents" "$out"
  fi
}
header() { tr -d '\r' <"$headers" | sed -n "s/^$1: *//Ip" | tail -n 1; }
json() { jq -r "$@" <<<"$body" 2>/dev/null; }
post_json() { call POST "$1" -H "X-Api-Key: $key" -H 'Content-Type: application/json' --data-binary "$2" "${@:3}"; }

# until_true <seconds> <command...>: polls every 0.2 s (UNTIL_EVERY seconds).
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep "${UNTIL_EVERY:-0.2}"
  done
}

# The gateway's log line for a request id, as JSON (empty when none).
gateway_line() { jq -c --arg id "$1" 'select(.request_id == $id)' "$logs/gateway-access.log" | tail -n 1; }
# The gateway answered itself: its log line for the request names no upstream.
answered_by_gateway() {
  local line
  line=$(gateway_line "$(header X-Request-Id)")
  [ -n "$line" ] && [ "$(jq -r .upstream <<<"$line")" = "" ]
}
is_problem() {
  [[ $(header Content-Type) == application/problem+json* ]] && [ "$(json .status)" = "$1" ] &&
    [ "$(json .traceId)" = "$(header X-Request-Id)" ]
}

