#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq programs and the reaper's script are single-quoted on purpose
# End-to-end tests through the gateway. Starts a private stack
# (private_stack.sh), then checks through nginx:
#   - the course's demo: create a platform, see it in the command service,
#     add and list its commands;
#   - one request id in the gateway log, both services' logs and the event;
#   - /api/v1, HTTPS, hosts acme.com and localhost, generated request ids;
#   - the gateway's own answers: 401, 413, 415, 405, 404, 421, 429;
#   - the broker-failure scene: broker kill, a platform created meanwhile
#     reaches the command service once the broker is back;
#   - one W3C trace id in the gateway log, both services' logs and the event;
#   - the docs page (/docs/): Swagger UI rendered by headless Chromium, with a
#     screenshot in $STACK_BUILD_DIR/e2e/docs-page.png.
# Prints one line per check and a summary; exits 1 if any check failed.
#
# Environment: as private_stack.sh, and E2E_BUS_TAP the bus tap (default:
# $STACK_BUILD_DIR/tests/e2e/e2e_bus_tap).
set -uo pipefail

bus_tap=${E2E_BUS_TAP:-${STACK_BUILD_DIR:-$(dirname "$0")/../../build}/tests/e2e/e2e_bus_tap}
[ -x "$bus_tap" ] || {
  echo "gateway_e2e: no bus tap at $bus_tap (build target e2e_bus_tap, or set E2E_BUS_TAP)"
  exit 1
}
tap_pid=
stop_tap() { [ -n "$tap_pid" ] && kill "$tap_pid" 2>/dev/null; }
# shellcheck source=tests/e2e/private_stack.sh
source "$(dirname "$0")/private_stack.sh"
before_down+=(stop_tap)

# ---- the course's demo through the gateway, followed by one request id -------

"$bus_tap" "$STACK_BROKER_PORT" command-service command-service-dev "commands.e2e-tap-$$" 300 \
  >"$STACK_DIR/bus.jsonl" 2>"$STACK_DIR/bus.err" {reaper}>&- &
tap_pid=$!
until_true 15 grep -q '"ready":true' "$STACK_DIR/bus.jsonl" ||
  abort "bus tap bound to exchange trigger" "$(cat "$STACK_DIR/bus.err")"

call GET "$gw/api/platforms"
expect_eq "GET /api/platforms" 200 "$status"
check "the seeded platforms are listed" [ "$(json '[.[].name] | index("Dot Net") != null')" = true ]

rid="e2e-$(date +%s)-$RANDOM"
name="Docker $RANDOM"
post_json "$gw/api/platforms" "{\"name\":\"$name\",\"publisher\":\"Docker Inc\",\"cost\":\"Free\"}" \
  -H "X-Request-Id: $rid"
expect_eq "POST /api/platforms" 201 "$status"
id=$(json .id)
expect_eq "Location of the new platform" "/api/platforms/$id" "$(header Location)"
expect_eq "the gateway echoes the client's X-Request-Id" "$rid" "$(header X-Request-Id)"

call GET "$gw/api/platforms/$id"
expect_eq "GET /api/platforms/{id} finds it" "$name" "$(json .name)"

# A retry with the first attempt's Idempotency-Key gets that platform back.
idempotency_key="e2e-key-$RANDOM$RANDOM"
keyed="{\"name\":\"Keyed $RANDOM\",\"publisher\":\"p\",\"cost\":\"c\"}"
post_json "$gw/api/platforms" "$keyed" -H "Idempotency-Key: $idempotency_key"
expect_eq "POST with an Idempotency-Key" 201 "$status"
keyed_id=$(json .id)
post_json "$gw/api/platforms" "$keyed" -H "Idempotency-Key: $idempotency_key"
expect_eq "the retry through the gateway answers the first platform" "201 $keyed_id true" \
  "$status $(json .id) $(header Idempotent-Replayed)"

command_knows_platform() {
  call GET "$gw/api/c/platforms"
  [ "$status" = 200 ] && [ "$(json --argjson id "$1" 'map(select(.id == $id)) | length')" = 1 ]
}
check "the command service lists the new platform (GET /api/c/platforms)" \
  until_true 30 command_knows_platform "$id"

post_json "$gw/api/c/platforms/$id/commands" '{"howTo":"Build an image","commandLine":"docker build ."}'
expect_eq "POST /api/c/platforms/{id}/commands" 201 "$status"
cid=$(json .id)
expect_eq "the command belongs to the platform" "$id" "$(json .platformId)"
expect_eq "Location of the new command" "/api/c/platforms/$id/commands/$cid" "$(header Location)"

call GET "$gw/api/c/platforms/$id/commands"
expect_eq "GET /api/c/platforms/{id}/commands" 200 "$status"
expect_eq "the list holds the command" "docker build ." \
  "$(json --argjson c "$cid" '.[] | select(.id == $c) | .commandLine')"
call GET "$gw/api/c/platforms/$id/commands/$cid"
expect_eq "GET /api/c/platforms/{id}/commands/{cid}" "Build an image" "$(json .howTo)"
call GET "$gw/api/c/platforms/2147483000/commands"
expect_eq "an unknown platform's commands: 404 from the service" 404 "$status"

# One id, four places.
line=$(gateway_line "$rid")
line=${line:-"{}"}
expect_eq "gateway log: the POST under request id $rid" "POST /api/platforms 201 127.0.0.1:$STACK_PLATFORM_HTTP_PORT" \
  "$(jq -r '"\(.method) \(.path) \(.status) \(.upstream)"' <<<"$line")"
check "gateway log: upstream and total time" \
  jq -e '(.upstream_time | length > 0) and (.total_time | type == "number")' <<<"$line" >/dev/null
check "platform-service log: request_id=$rid" grep -q "request_id=$rid\b" "$logs/platform.log"
# (jq -e alone answers for the last line only; other events may follow.)
event_seen() { jq -n -e --arg id "$rid" 'any(inputs; .correlation_id == $id)' "$STACK_DIR/bus.jsonl" >/dev/null 2>&1; }
if until_true 15 event_seen; then
  pass "the event on exchange trigger carries correlation id $rid"
  event=$(jq -c --arg id "$rid" 'select(.correlation_id == $id)' "$STACK_DIR/bus.jsonl" | head -n 1)
  expect_eq "the event body" "{\"Event\":\"Platform_Published\",\"Id\":$id,\"Name\":\"$name\"}" \
    "$(jq -c '.body | fromjson | {Event, Id, Name}' <<<"$event")"
  expect_eq "the event's properties" "Platform_Published application/json true" \
    "$(jq -r '"\(.type) \(.content_type) \(.persistent)"' <<<"$event")"
else
  fail "the event on exchange trigger carries correlation id $rid" "no such message; seen: $(head -c 600 "$STACK_DIR/bus.jsonl")"
fi
check "command-service log: the synchronous POST under request_id=$rid" \
  grep -q "actor=command.rest .*request_id=$rid\b" "$logs/command.log"
event_logged() { grep -v 'actor=command.rest ' "$logs/command.log" | grep -q "request_id=$rid\b"; }
if until_true 15 event_logged; then
  pass "command-service log: the event processed under request_id=$rid"
else
  fail "command-service log: the event processed under request_id=$rid" \
    "no line outside command.rest has request_id=$rid: the consumer does not log the event's correlation id"
fi

# ---- versions, schemes, hosts, request ids --------------------------------------

call GET "$gw/api/v1/platforms"
expect_eq "GET /api/v1/platforms" 200 "$status"
check "/api/v1/platforms lists the new platform" [ "$(json --argjson id "$id" 'map(select(.id == $id)) | length')" = 1 ]
post_json "$gw/api/v1/c/platforms/$id/commands" '{"howTo":"Run a container","commandLine":"docker run hello-world"}'
expect_eq "POST /api/v1/c/platforms/{id}/commands" 201 "$status"
expect_eq "a versioned request gets a versioned Location" "/api/v1/c/platforms/$id/commands/$(json .id)" "$(header Location)"
call GET "$gw/api/v1/c/platforms/$id/commands"
expect_eq "GET /api/v1/c/platforms/{id}/commands lists both commands" 2 "$(json length)"

tls=(--cacert "$STACK_DIR/gateway/tls/dev.crt")
call GET "https://localhost:$STACK_GATEWAY_HTTPS_PORT/api/platforms" "${tls[@]}"
expect_eq "HTTPS with the dev certificate (localhost)" 200 "$status"
call GET "https://acme.com:$STACK_GATEWAY_HTTPS_PORT/api/c/platforms" "${tls[@]}" \
  --resolve "acme.com:$STACK_GATEWAY_HTTPS_PORT:127.0.0.1"
expect_eq "HTTPS for host acme.com" 200 "$status"
call GET "http://acme.com:$STACK_GATEWAY_PORT/api/platforms" --resolve "acme.com:$STACK_GATEWAY_PORT:127.0.0.1"
expect_eq "HTTP for host acme.com" 200 "$status"
call GET "$gw/api/platforms" -H "Host: elsewhere.example"
expect_eq "another host: 421" 421 "$status"
check "421 is a problem" is_problem 421

call GET "$gw/api/platforms"
generated=$(header X-Request-Id)
check "a request id is generated when absent" matches "$generated" '^[0-9a-f]{32}$' 
check "the generated id is in the gateway log" [ -n "$(gateway_line "$generated")" ]
call GET "$gw/api/platforms" -H 'X-Request-Id: not"safe'
check "an unsafe incoming request id is replaced" matches "$(header X-Request-Id)" '^[0-9a-f]{32}$' 

# ---- the gateway's own answers (never forwarded) -----------------------------------

count_platforms() {
  call GET "$gw/api/platforms"
  json length
}
before=$(count_platforms)
call POST "$gw/api/platforms" -H 'Content-Type: application/json' --data '{"name":"x","publisher":"x","cost":"x"}'
expect_eq "write without an API key: 401" 401 "$status"
check "401 is a problem with the request id" is_problem 401
check "401 names the scheme (WWW-Authenticate)" [ -n "$(header WWW-Authenticate)" ]
check "401 is answered by the gateway" answered_by_gateway
call POST "$gw/api/c/platforms/$id/commands" -H 'X-Api-Key: wrong-key-0123456789' \
  -H 'Content-Type: application/json' --data '{"howTo":"x","commandLine":"x"}'
expect_eq "write with a wrong API key: 401" 401 "$status"
expect_eq "rejected writes created nothing" "$before" "$(count_platforms)"

head -c 70000 /dev/zero | tr '\0' ' ' >"$STACK_DIR/big.json"
post_json "$gw/api/platforms" "@$STACK_DIR/big.json"
expect_eq "body over the limit: 413" 413 "$status"
check "413 is a problem" is_problem 413
check "413 is answered by the gateway" answered_by_gateway

call POST "$gw/api/platforms" -H "X-Api-Key: $key" -H 'Content-Type: text/plain' --data 'Docker'
expect_eq "write without JSON: 415" 415 "$status"
check "415 is a problem" is_problem 415
check "415 is answered by the gateway" answered_by_gateway
post_json "$gw/api/platforms" '{"name":""}' -H 'Content-Type: application/problem+json; charset=utf-8'
expect_eq "application/*+json passes the gateway (the service answers 400)" 400 "$status"
# A write without a body needs no Content-Type: its route decides.
call POST "$gw/api/c/platforms" -H "X-Api-Key: $key"
expect_eq "the course's inbound test, no body and no Content-Type: 200 and its text" \
  "200 Inbound test of from Platforms Controler" "$status $body"
call POST "$gw/api/platforms" -H "X-Api-Key: $key"
expect_eq "no body where a JSON body is read: 415 from the service" 415 "$status"
check "that 415 is a problem" is_problem 415
answered_by_service() { [ -n "$(gateway_line "$(header X-Request-Id)")" ] && ! answered_by_gateway; }
check "that 415 is the service's, not the gateway's" answered_by_service
# Field rules answer hostile text, never the database.
post_json "$gw/api/platforms" '{"name":"\u0000","publisher":"p","cost":"c"}'
expect_eq "a NUL name: 400" 400 "$status"
expect_eq "the 400 names the field" true "$(json '.errors | has("name")')"
check "the 400 quotes no SQL" [ -z "$(grep -io 'sqlstate\|violates\|insert' <<<"$body")" ]

call DELETE "$gw/api/platforms/$id" -H "X-Api-Key: $key"
expect_eq "DELETE /api/platforms/{id}: 405" 405 "$status"
expect_eq "405 lists the allowed methods" "GET, HEAD" "$(header Allow)"
check "405 is a problem" is_problem 405
check "405 is answered by the gateway" answered_by_gateway
call PUT "$gw/api/c/platforms" -H "X-Api-Key: $key"
expect_eq "PUT /api/c/platforms: 405 with its own Allow" "405 GET, HEAD, POST" "$status $(header Allow)"

call GET "$gw/api/nothing-here"
expect_eq "unknown route: 404" 404 "$status"
check "404 is a problem" is_problem 404

# A burst far beyond rate + burst from one client, on one connection.
mkdir -p "$STACK_DIR/flood"
curl -s -o "$STACK_DIR/flood/#1" -w '%{http_code} %header{retry-after} %{url}\n' \
  "$gw/api/platforms?n=[1-120]" >"$STACK_DIR/flood.txt" {reaper}>&-
limited=$(grep -c '^429 ' "$STACK_DIR/flood.txt")
served=$(grep -c '^200 ' "$STACK_DIR/flood.txt")
check "a burst is limited: $served served, $limited got 429" test "$limited" -gt 0 -a "$served" -ge 25
first=$(grep -m 1 '^429 ' "$STACK_DIR/flood.txt")
expect_eq "429 says Retry-After: 1" 1 "$(cut -d' ' -f2 <<<"$first")"
body=$(cat "$STACK_DIR/flood/${first##*n=}" 2>/dev/null)
expect_eq "429 is a problem" 429 "$(json .status)"
gateway_ok() { call GET "$gw/healthz" && [ "$status" = 200 ]; }
check "the client is served again after the limit" until_true 5 gateway_ok

# ---- the broker-failure scene ---------------------------------------------------------

kill "$tap_pid" 2>/dev/null
tap_pid=
# Events the command service took from the bus (its own metrics, not routed
# by the gateway): the outage's event must arrive through the bus, not only
# through the gRPC sync that follows a reconnect.
events_consumed() {
  curl -s --max-time 2 "http://127.0.0.1:$STACK_COMMAND_HTTP_PORT/metrics" {reaper}>&- |
    awk '/^command_events_total\{/ { n += $NF } END { print n + 0 }'
}
more_events_than() { [ "$(events_consumed)" -gt "$1" ]; }
events_before=$(events_consumed)
platform_lines=$(wc -l <"$logs/platform.log")
command_lines=$(wc -l <"$logs/command.log")
check "stack broker kill" quietly stack broker kill
stack status >"$STACK_DIR/status.out" 2>&1
check "stack status shows the broker down" grep -q '^broker  *down' "$STACK_DIR/status.out"
post_json "$gw/api/platforms" '{"name":"Made during the outage","publisher":"e2e","cost":"Free"}'
expect_eq "POST /api/platforms while the broker is down (outbox)" 201 "$status"
outage_id=$(json .id)
check "stack broker start" quietly stack broker start
check "the platform made during the outage reaches the command service" \
  until_true 60 command_knows_platform "$outage_id"
check "its event, kept in the outbox during the outage, is consumed from the bus" \
  until_true 60 more_events_than "$events_before"
check "platform-service log: the relay failed and was restarted" \
  grep -q 'event=\(child_failed\|restart_scheduled\).*child=platform.outbox_relay' \
  <(tail -n +"$((platform_lines + 1))" "$logs/platform.log")
check "command-service log: the subscriber failed and was restarted" \
  grep -q 'event=\(child_failed\|restart_scheduled\).*child=command.subscriber' \
  <(tail -n +"$((command_lines + 1))" "$logs/command.log")
all_ready() { stack status >/dev/null 2>&1; }
check "stack status: every component up and ready again" until_true 60 all_ready

# ---- one W3C trace from the gateway to the command service --------------------------

trace_id=$(printf '%04x' $RANDOM $RANDOM $RANDOM $RANDOM $RANDOM $RANDOM $RANDOM $RANDOM)
post_json "$gw/api/platforms" '{"name":"Traced through","publisher":"e2e","cost":"Free"}' \
  -H "traceparent: 00-$trace_id-00f067aa0ba902b7-01"
expect_eq "POST /api/platforms with a traceparent" 201 "$status"
traced_rid=$(header X-Request-Id)
expect_eq "the gateway logs the caller's trace id" "$trace_id" \
  "$(jq -r .trace_id <<<"$(gateway_line "$traced_rid")")"
gateway_span=$(jq -r .span_id <<<"$(gateway_line "$traced_rid")")
check "the platform service answers in a span of that trace (traceresponse)" \
  matches "$(header traceresponse)" "^00-$trace_id-[0-9a-f]{16}-01"
has_line() { grep -q -- "$2" "$logs/$1.log"; }
check "platform-service log: the create carries the trace id" \
  until_true 10 has_line platform "event=platform_created .*trace_id=$trace_id"
check "command-service log: the inbound POST carries the trace id" \
  until_true 10 has_line command "event=inbound_test .*trace_id=$trace_id"
check "command-service log: the event carries the trace id" \
  until_true 30 has_line command "event=event_applied .*request_id=$traced_rid trace_id=$trace_id"
check "the gateway's span is the platform service's parent (not the caller's)" \
  [ -n "$gateway_span" ] && [ "$gateway_span" != 00f067aa0ba902b7 ]
call GET "$gw/api/platforms/1"
started_trace=$(jq -r .trace_id <<<"$(gateway_line "$(header X-Request-Id)")")
check "without a traceparent the gateway starts a trace the service continues" \
  matches "$(header traceresponse)" "^00-$started_trace-[0-9a-f]{16}-01$"

# ---- the docs page: Swagger UI with both APIs ------------------------------------------

call GET "$gw/docs/"
expect_eq "GET /docs/" 200 "$status"
check "/docs/ is HTML" matches "$(header Content-Type)" "^text/html"
call GET "$gw/docs/platform-service.yaml"
check "/docs/ serves the platform service's document, bundled" \
  matches "$body" "openapi: 3.1.0.*/api/platforms/\{id\}"
check "the bundled document refers to no other file" [ "$(grep -c 'openapi-components' <<<"$body")" = 0 ]
# Rendered by a real browser: the operations of each API appear on the page.
screenshot_dir=${E2E_SCREENSHOTS:-$STACK_BUILD_DIR/e2e}
mkdir -p "$screenshot_dir"
browser() {
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --virtual-time-budget=20000 --window-size=1280,1800 "$@" {reaper}>&- 2>/dev/null
}
rendered_paths() {
  grep -o 'class="opblock-summary-path" data-path="[^"]*"' "$1" |
    sed 's/.*data-path="//; s/"$//' | sort -u | tr '\n' ' '
}
# Every relative link on the rendered page (the documents' links to events.md
# and grpc.md among them) answers 200 from where the page is.
broken_links() {
  local href
  for href in $(grep -o 'href="[^"#:]*"' "$1" | sed 's/^href="//; s/"$//' | sort -u); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$gw/docs/$href")" = 200 ] || printf '%s ' "$href"
  done
}
if command -v chromium >/dev/null; then
  browser --dump-dom "$gw/docs/" >"$screenshot_dir/docs-platform.html"
  browser --dump-dom "$gw/docs/?urls.primaryName=Command%20Service" >"$screenshot_dir/docs-command.html"
  expect_eq "Swagger UI renders the platform service's operations (headless Chromium)" \
    "/api/platforms /api/platforms/{id} /healthz /metrics /readyz " \
    "$(rendered_paths "$screenshot_dir/docs-platform.html")"
  expect_eq "Swagger UI renders the command service's operations" \
    "/api/c/platforms /api/c/platforms/{platformId}/commands /api/c/platforms/{platformId}/commands/{commandId} /healthz /metrics /readyz " \
    "$(rendered_paths "$screenshot_dir/docs-command.html")"
  check "the platform document links to events.md and grpc.md" \
    [ "$(grep -o -e 'href="events.md"' -e 'href="grpc.md"' "$screenshot_dir/docs-platform.html" | sort -u | wc -l)" = 2 ]
  check "the command document links to events.md and grpc.md" \
    [ "$(grep -o -e 'href="events.md"' -e 'href="grpc.md"' "$screenshot_dir/docs-command.html" | sort -u | wc -l)" = 2 ]
  expect_eq "no relative link of the docs page is broken" "" \
    "$(broken_links "$screenshot_dir/docs-platform.html")$(broken_links "$screenshot_dir/docs-command.html")"
  rm -f "$screenshot_dir/docs-page.png"
  browser --screenshot="$screenshot_dir/docs-page.png" "$gw/docs/" >/dev/null
  check "a screenshot of the docs page: $screenshot_dir/docs-page.png" \
    [ -s "$screenshot_dir/docs-page.png" ]
else
  fail "headless Chromium" "chromium is not installed (Debian: chromium)"
fi

check_contract

# ---- down ------------------------------------------------------------------------------

check "stack down" quietly stack down
check "nothing listens on the gateway port after down" [ -z "$(ss -ltnH "sport = :$STACK_GATEWAY_PORT")" ]

summary
