#!/usr/bin/env bash
# The hostile-input catalogue: on a private stack (private_stack.sh), every
# case below is sent to the platform service, the command service or the
# gateway, and its answer is checked: status, problem+json of the right type,
# no internal text (SQL, library or actor errors) in the body. Then events
# that can never be processed are published to the bus, and each must reach
# the dead-letter queue exactly once. After the table, both services still
# serve, no actor restarted because of the HTTP cases, and neither process
# grew by 64 MB or more. Prints one line per case and a summary.
set -uo pipefail
# shellcheck source=tests/e2e/private_stack.sh
source "$(dirname "$0")/private_stack.sh"

platform=http://127.0.0.1:$STACK_PLATFORM_HTTP_PORT
command=http://127.0.0.1:$STACK_COMMAND_HTTP_PORT
work=$STACK_DIR/hostile
mkdir -p "$work"

# The problem type each status carries (RFC 7231/6585 sections, as ASP.NET).
declare -A type_of=(
  [400]=https://tools.ietf.org/html/rfc7231#section-6.5.1
  [401]=https://tools.ietf.org/html/rfc7235#section-3.1
  [404]=https://tools.ietf.org/html/rfc7231#section-6.5.4
  [405]=https://tools.ietf.org/html/rfc7231#section-6.5.5
  [408]=https://tools.ietf.org/html/rfc7231#section-6.5.7
  [413]=https://tools.ietf.org/html/rfc7231#section-6.5.11
  [414]=https://tools.ietf.org/html/rfc7231#section-6.5.12
  [415]=https://tools.ietf.org/html/rfc7231#section-6.5.13
  [431]=https://tools.ietf.org/html/rfc6585#section-5
)
internal_text='SQL|soci|libpq|postgres|caf::|unhandled_exception|deadline_exceeded|ERROR:|violates|constraint'

resident_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$(cat "$STACK_DIR/run/$1.pid")/status"; }
restarts() { curl -s --max-time 5 "$1/metrics" | awk '/^actor_restarts_total/ {n += $2} END {print n + 0}'; }

# http_case <name> <status> <url> [curl args...]
http_case() {
  local name=$1 want=$2 url=$3
  shift 3
  call "${method:-GET}" "$url" "$@"
  if [ "$status" != "$want" ]; then
    fail "$name" "expected $want, got $status: ${body:0:200}"
  elif ((want >= 400)) && ! [[ $(header Content-Type) == application/problem+json* ]]; then
    fail "$name" "$status without problem+json: $(header Content-Type)"
  elif ((want >= 400)) && [ "$(json .type)" != "${type_of[$want]}" ]; then
    fail "$name" "problem type $(json .type), expected ${type_of[$want]}"
  elif [[ $body =~ $internal_text ]]; then
    fail "$name" "internal text in the body: ${body:0:200}"
  else
    pass "$name -> $status"
  fi
}
post() { method=POST http_case "$@"; }
json_post() {
  local name=$1 want=$2 url=$3 data=$4
  shift 4
  post "$name" "$want" "$url" -H "X-Api-Key: $key" -H 'Content-Type: application/json' \
    --data-binary "$data" "$@"
}

# Bodies too odd for a command line.
printf '{"name":"\xff\xfe","publisher":"p","cost":"c"}' >"$work/invalid-utf8.json"
printf '{"name":"%s","publisher":"p","cost":"c"}' "$(head -c 10000 /dev/zero | tr '\0' n)" >"$work/long-name.json"
printf '{"name":"%s","publisher":"p","cost":"c"}' "$(printf 'é%.0s' {1..200})" >"$work/200-code-points.json"
printf '{"name":"%s","publisher":"p","cost":"c"}' "$(printf 'é%.0s' {1..201})" >"$work/201-code-points.json"
printf '{"howTo":"h","commandLine":"%s"}' "$(head -c 10000 /dev/zero | tr '\0' c)" >"$work/long-command.json"
head -c 70000 /dev/zero | tr '\0' ' ' >"$work/big.json"
printf '{"name":"%s","publisher":"p","cost":"c"}' "$(head -c 20000000 /dev/zero | tr '\0' a)" | gzip >"$work/bomb.json.gz"
many_headers=()
for i in $(seq 1 101); do many_headers+=(-H "X-Filler-$i: $i"); done
big_header=(-H "X-Big: $(head -c 20000 /dev/zero | tr '\0' h)")
long_url="?q=$(head -c 9000 /dev/zero | tr '\0' q)"
nbsp=$'\u00a0\u00a0'

rss_platform=$(resident_kb platform)
rss_command=$(resident_kb command)
restarts_platform=$(restarts "$platform")
restarts_command=$(restarts "$command")

echo "--- platform service"
p=$platform/api/platforms
json_post "platform: a NUL name" 400 "$p" '{"name":"\u0000","publisher":"p","cost":"c"}'
json_post "platform: a NUL inside the name" 400 "$p" '{"name":"Dock\u0000er","publisher":"p","cost":"c"}'
json_post "platform: a bell in the name" 400 "$p" '{"name":"a\u0007b","publisher":"p","cost":"c"}'
json_post "platform: a name of no-break spaces" 400 "$p" "{\"name\":\"$nbsp\",\"publisher\":\"p\",\"cost\":\"c\"}"
json_post "platform: 10,000 characters" 400 "$p" "@$work/long-name.json"
json_post "platform: 201 code points" 400 "$p" "@$work/201-code-points.json"
json_post "platform: invalid UTF-8" 400 "$p" "@$work/invalid-utf8.json"
json_post "platform: name and Name" 400 "$p" '{"name":"a","Name":"b","publisher":"p","cost":"c"}'
json_post "platform: not JSON" 400 "$p" '{"name":'
json_post "platform: an array" 400 "$p" '[{"name":"a","publisher":"p","cost":"c"}]'
json_post "platform: fields missing" 400 "$p" '{}'
json_post "platform: a number for a name" 400 "$p" '{"name":5,"publisher":"p","cost":"c"}'
json_post "platform: a compressed bomb" 415 "$p" "@$work/bomb.json.gz" -H 'Content-Encoding: gzip'
json_post "platform: 70 KB body" 413 "$p" "@$work/big.json"
post "platform: a chunked 1 MB body" 413 "$p" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
  --data-binary "@$work/big.json" --data-binary "@$work/big.json" --data-binary "@$work/big.json"
post "platform: text/plain" 415 "$p" -H 'Content-Type: text/plain' --data-binary '{}'
http_case "platform: id abc" 400 "$p/abc"
http_case "platform: id 0" 400 "$p/0"
http_case "platform: id past 2^31" 400 "$p/99999999999"
http_case "platform: an id that is not there" 404 "$p/2147483647"
method=DELETE http_case "platform: DELETE" 405 "$p/1"
http_case "platform: no such route" 404 "$platform/nope"
http_case "platform: 101 headers" 431 "$p" "${many_headers[@]}"
http_case "platform: a 20 KB header" 431 "$p" "${big_header[@]}"
http_case "platform: a 9 KB request line" 414 "$p$long_url"
http_case "platform: limit 0" 400 "$p?limit=0"
http_case "platform: limit abc" 400 "$p?limit=abc"
json_post "platform: 200 code points is fine" 201 "$p" "@$work/200-code-points.json"

echo "--- command service"
c=$command/api/c/platforms
post "command: the course's inbound test, no body" 200 "$c"
json_post "command: a NUL howTo" 400 "$c/1/commands" '{"howTo":"\u0000","commandLine":"x"}'
json_post "command: 10,000-character command line" 400 "$c/1/commands" "@$work/long-command.json"
json_post "command: howTo and HowTo" 400 "$c/1/commands" '{"howTo":"a","HowTo":"b","commandLine":"x"}'
json_post "command: an unknown platform" 404 "$c/999999/commands" '{"howTo":"a","commandLine":"x"}'
json_post "command: platform id abc" 400 "$c/abc/commands" '{"howTo":"a","commandLine":"x"}'
json_post "command: a compressed bomb" 415 "$c/1/commands" "@$work/bomb.json.gz" -H 'Content-Encoding: gzip'
json_post "command: 70 KB body" 413 "$c/1/commands" "@$work/big.json"
http_case "command: command id abc" 400 "$c/1/commands/abc"
method=PUT http_case "command: PUT" 405 "$c/1/commands"
http_case "command: 101 headers" 431 "$c" "${many_headers[@]}"
http_case "command: a 9 KB request line" 414 "$c$long_url"

echo "--- through the gateway"
direct_answers=$(wc -l <"$responses")
post "gateway: a write without the key" 401 "$gw/api/platforms" -H 'Content-Type: application/json' --data-binary '{}'
json_post "gateway: a NUL name" 400 "$gw/api/platforms" '{"name":"\u0000","publisher":"p","cost":"c"}'
json_post "gateway: 70 KB body" 413 "$gw/api/platforms" "@$work/big.json"
post "gateway: text/plain" 415 "$gw/api/platforms" -H "X-Api-Key: $key" -H 'Content-Type: text/plain' --data-binary '{}'
json_post "gateway: a compressed bomb" 415 "$gw/api/platforms" "@$work/bomb.json.gz" -H 'Content-Encoding: gzip'
http_case "gateway: id abc under /api/v1" 400 "$gw/api/v1/platforms/abc"
json_post "gateway: howTo and HowTo" 400 "$gw/api/c/platforms/1/commands" '{"howTo":"a","HowTo":"b","commandLine":"x"}'
http_case "gateway: no such route" 404 "$gw/nope"

echo "--- after the HTTP cases"
# Every answer follows the OpenAPI documents: the services' own (asked
# directly) and those the gateway passed on from them.
head -n "$direct_answers" "$responses" >"$work/direct.jsonl"
if out=$("$repo/tests/contract/check" responses-partial "$work/direct.jsonl" 2>&1); then
  pass "every answer the services gave directly follows its OpenAPI document ($(tail -n 1 <<<"$out"))"
else
  fail "the services' direct answers follow the OpenAPI documents" "$out"
fi
check_contract
expect_eq "platform: no actor restarted" "$restarts_platform" "$(restarts "$platform")"
expect_eq "command: no actor restarted" "$restarts_command" "$(restarts "$command")"
call GET "$platform/api/platforms/1"
expect_eq "platform still serves" 200 "$status"
call GET "$command/api/c/platforms"
expect_eq "command still serves" 200 "$status"
for service in platform command; do
  before=rss_$service
  now=$(resident_kb $service)
  if [ -z "${!before}" ] || [ -z "$now" ]; then
    fail "$service resident memory" "not readable"
    continue
  fi
  grown=$(((now - ${!before}) / 1024))
  check "$service grew by $grown MB, from $((${!before} / 1024)) MB (< 64)" [ "$grown" -lt 64 ]
done

echo "--- the bus: each event that can never be processed is dead-lettered once"
broker=amqp://platform-service:platform-service-dev@127.0.0.1:$STACK_BROKER_PORT
admin=amqp://admin:admin-dev@127.0.0.1:$STACK_BROKER_PORT
dead=commands.platform-events.dead
n=0
amqp_case() { # amqp_case <name> < body (a redirection, not a pipe: n and names stay ours)
  n=$((n + 1))
  cat >"$work/event-$n"
  amqp-publish --url="$broker" -e trigger -r "" -C application/json -p <"$work/event-$n" ||
    fail "bus: $1" "not published"
  names[n]=$1
}
declare -a names
amqp_case "not JSON" < <(printf 'not json')
amqp_case "an empty body" < <(printf '')
amqp_case "an array" < <(printf '[1,2]')
amqp_case "a string" < <(printf '"Platform_Published"')
amqp_case "no Event" < <(printf '{"Id":5,"Name":"x"}')
amqp_case "a number for Event" < <(printf '{"Event":7,"Id":5,"Name":"x"}')
amqp_case "no Id" < <(printf '{"Event":"Platform_Published","Name":"x"}')
amqp_case "a string Id" < <(printf '{"Event":"Platform_Published","Id":"5","Name":"x"}')
amqp_case "a fractional Id" < <(printf '{"Event":"Platform_Published","Id":5.5,"Name":"x"}')
amqp_case "Id 0" < <(printf '{"Event":"Platform_Published","Id":0,"Name":"x"}')
amqp_case "a negative Id" < <(printf '{"Event":"Platform_Published","Id":-3,"Name":"x"}')
amqp_case "an Id past 32 bits" < <(printf '{"Event":"Platform_Published","Id":4294967296,"Name":"x"}')
amqp_case "no Name" < <(printf '{"Event":"Platform_Published","Id":5}')
amqp_case "a null Name" < <(printf '{"Event":"Platform_Published","Id":5,"Name":null}')
amqp_case "Id and id" < <(printf '{"Event":"Platform_Published","Id":5,"id":6,"Name":"x"}')
amqp_case "invalid UTF-8" < <(printf '{"Event":"Platform_Published","Id":5,"Name":"\xff\xfe"}')
amqp_case "a NUL in the name" < <(printf '{"Event":"Platform_Published","Id":9,"Name":"a\\u0000b"}')
amqp_case "JSON 100,000 levels deep" < <({ head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; })
amqp_case "an event over the size limit" < <(printf '{"Event":"Platform_Published","Id":5,"Name":"%s"}' "$(head -c 70000 /dev/zero | tr '\0' n)")

# Drains the dead-letter queue; each published body must come back once.
drain() {
  local i=0
  while amqp-get --url="$admin" -q "$dead" >"$work/dead-$i" 2>"$work/amqp-get.err"; do i=$((i + 1)); done
  rm -f "$work/dead-$i"
  echo "$i"
}
sum() { md5sum <"$1" | cut -d' ' -f1; }
all_dead() { [ "$(rejected)" -ge "$n" ]; }
rejected() { curl -s --max-time 2 "$command/metrics" | awk '/^command_events_total\{outcome="rejected"\}/ {print $2 + 0}'; }
until_true 30 all_dead || fail "bus: every event dead-lettered within 30 s" "$(rejected) of $n"
got=$(drain)
expect_eq "bus: the dead-letter queue holds each event once" "$n" "$got"
[ "$got" = "$n" ] || echo "amqp-get: $(cat "$work/amqp-get.err")"
declare -A dead_sums
for f in "$work"/dead-*; do dead_sums[$(sum "$f")]=$((${dead_sums[$(sum "$f")]:-0} + 1)); done
for i in $(seq 1 "$n"); do
  expect_eq "bus: ${names[i]}" 1 "${dead_sums[$(sum "$work/event-$i")]:-0}"
done
expect_eq "command: the subscriber did not restart" "$restarts_command" "$(restarts "$command")"

summary
