#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
# The supervision observer on a private stack (private_stack.sh):
#   - each service's tree (GET /debug/supervision) and event stream
#     (/debug/supervision/events), loopback only by default, absent when off;
#   - the gateway routes no /debug/ path; /observer/ needs the API key;
#   - `stack watch` under tmux (80x24) while the broker is killed and started
#     again: the relay and the subscriber back off, then run; Ctrl-C exits 0;
#   - the /observer/ page in headless Chromium during the outage (screenshot);
#   - `stack logs` leaves out the broker's info lines, `stack logs broker` not.
# Frames and the screenshot go to $OBSERVER_ARTIFACTS (default:
# $STACK_BUILD_DIR/tests/e2e/observer): watch-outage.txt, watch-recovered.txt,
# observer-outage.png.
set -uo pipefail

for tool in tmux chromium python3; do
  command -v "$tool" >/dev/null || {
    echo "observer_e2e: needs $tool"
    exit 1
  }
done
tmux_socket="observer-e2e-$$"
stop_tmux() { tmux -L "$tmux_socket" kill-server 2>/dev/null; }
# shellcheck source=tests/e2e/private_stack.sh
source "$(dirname "$0")/private_stack.sh"
before_down+=(stop_tmux)
artifacts=${OBSERVER_ARTIFACTS:-$STACK_BUILD_DIR/tests/e2e/observer}
mkdir -p "$artifacts"
platform=http://127.0.0.1:$STACK_PLATFORM_HTTP_PORT
command=http://127.0.0.1:$STACK_COMMAND_HTTP_PORT

# ---- the services' debug routes ---------------------------------------------------

# entry <name>: the tree's entry of that name, from $body.
entry() { json --arg n "$1" '.. | objects | select(.name? == $n)'; }

call GET "$platform/debug/supervision"
expect_eq "platform: GET /debug/supervision" 200 "$status"
expect_eq "platform: the root is platform.supervisor" platform.supervisor "$(json '.tree[0].name')"
expect_eq "platform: the relay runs" running "$(entry platform.outbox_relay | jq -r .state)"
expect_eq "platform: the relay's intensity is its supervisor's (200 in 60 s)" "200 60000" \
  "$(entry platform.outbox_relay | jq -r '"\(.intensity.max_restarts) \(.intensity.within_ms)"')"
expect_eq "platform: migrations ran and stopped" stopped "$(entry platform.migrations | jq -r .state)"
expect_eq "platform: a repository member's handle holds nothing" 0 \
  "$(entry platform.repository.1 | jq -r .held)"
check "platform: the relay has an uptime" [ "$(entry platform.outbox_relay | jq -r '.uptime_ms >= 0')" = true ]

call GET "$command/debug/supervision"
expect_eq "command: the subscriber runs under command.bus" running \
  "$(json '.tree[0].children[] | select(.name == "command.bus") | .children[0] | select(.name == "command.subscriber") | .state')"

stream=$(curl -sN --max-time 2 -D "$headers" "$command/debug/supervision/events" {reaper}>&-)
check "command: the event stream is text/event-stream" matches "$(header Content-Type)" '^text/event-stream'
check "command: the stream replays the subscriber's start" \
  matches "$stream" 'event: supervision'$'\n''data: \{[^}]*"child":"command\.subscriber"[^}]*"kind":"child_started"'

# A peer that is not on loopback (this machine's own address) is refused.
address=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -n 1)
if [ -n "$address" ]; then
  call GET "http://$address:$STACK_PLATFORM_HTTP_PORT/debug/supervision"
  expect_eq "platform: a client on $address gets 403 (DebugSupervision=loopback)" 403 "$status"
fi

# ---- through the gateway ------------------------------------------------------------

call GET "$gw/debug/supervision"
expect_eq "gateway: /debug/supervision is not routed" 404 "$status"
call GET "$gw/observer/"
expect_eq "gateway: /observer/ without a key: 401" 401 "$status"
check "gateway: the 401 says how to open the observer" matches "$(json .detail)" 'observer/\?key='
call GET "$gw/observer/?key=not-the-key-at-all"
expect_eq "gateway: /observer/ with a wrong key: 401" 401 "$status"
call GET "$gw/observer/?key=$key"
expect_eq "gateway: /observer/?key=<key>: 200" 200 "$status"
check "gateway: the page is HTML" matches "$(header Content-Type)" '^text/html'
check "gateway: the key is kept as a cookie for /observer/ only, out of scripts' reach" \
  matches "$(header Set-Cookie)" "^observer_key=$key; Path=/observer/; HttpOnly; SameSite=Strict$"
call GET "$gw/observer/platform/supervision" -b "observer_key=$key"
expect_eq "gateway: the platform tree with the cookie" platform.supervisor "$(json '.tree[0].name')"
stream=$(curl -sN --max-time 2 -b "observer_key=$key" "$gw/observer/command/events" {reaper}>&-)
check "gateway: the command service's events pass through" matches "$stream" 'event: supervision'
call GET "$gw/observer/platform/supervision" -b "observer_key=not-the-key-at-all"
expect_eq "gateway: the tree with a wrong cookie: 401" 401 "$status"

# ---- stack watch under tmux, the page in Chromium, while the broker is away ----------

in_tmux() { tmux -L "$tmux_socket" "$@" {reaper}>&-; }
frame() { in_tmux capture-pane -p -t watch; }
# frame_shows <regex>...: the current frame matches every one.
frame_shows() {
  local f pattern
  f=$(frame)
  for pattern in "$@"; do
    grep -Eq "$pattern" <<<"$f" || return 1
  done
}

# The pane's shell says how watch ended, on the screen watch gives back.
in_tmux -f /dev/null new-session -d -s watch -x 80 -y 24 \
  "$stack watch; echo \"watch exited with status \$?\"; sleep 600"
check "watch: both trees are drawn, relay and subscriber running" until_true 15 frame_shows \
  '^PLATFORM +up +COMMAND +up' ' outbox_relay +running ' ' subscriber +running '

stack broker kill >/dev/null
backing_off=(' outbox_relay +backoff [0-9.]+s +[0-9]+/200' ' subscriber +backoff [0-9.]+s +[0-9]+/200')
if until_true 30 frame_shows "${backing_off[@]}"; then
  pass "watch: the relay and the subscriber back off while the broker is away"
  frame >"$artifacts/watch-outage.txt"
else
  fail "watch: the relay and the subscriber back off while the broker is away" "$(frame)"
fi
check "watch: the failures are listed with their reason" until_true 15 frame_shows \
  ' failed +outbox_relay +amqp 127\.0\.0\.1' ' backoff +subscriber +attempt [0-9]+ in'

page=$(python3 "$(dirname "$0")/observer_page.py" "$gw/observer/?key=$key" \
  "$artifacts/observer-outage.png" 20 \
  'platform.outbox_relay=backing_off|restarting' 'command.subscriber=backing_off|restarting' \
  'platform.rest=running' {reaper}>&-)
check "page (Chromium): the relay and the subscriber back off, the rest runs" test $? = 0
check "page (Chromium): a screenshot was saved" test -s "$artifacts/observer-outage.png"
echo "      page rows: $page"

stack broker start >/dev/null
if until_true 40 frame_shows ' outbox_relay +running ' ' subscriber +running '; then
  pass "watch: the relay and the subscriber run again once the broker is back"
  frame >"$artifacts/watch-recovered.txt"
else
  fail "watch: the relay and the subscriber run again once the broker is back" "$(frame)"
fi

in_tmux send-keys -t watch C-c
if until_true 10 frame_shows '^watch exited with status 0$'; then
  pass "watch: Ctrl-C ends it with status 0 and gives the screen back"
else
  fail "watch: Ctrl-C ends it with status 0 and gives the screen back" "$(frame | tail -n 5)"
fi

# ---- DebugSupervision=off, stack logs ------------------------------------------------------

DebugSupervision=off stack command restart >/dev/null 2>&1
call GET "$command/debug/supervision"
expect_eq "command with DebugSupervision=off: /debug/supervision is 404" 404 "$status"
stack command restart >/dev/null 2>&1

all_logs=$(timeout 3 "$stack" logs {reaper}>&-)
broker_logs=$(timeout 3 "$stack" logs broker {reaper}>&-)
contains() { grep -Eq "$2" <<<"$1"; }
lacks() { ! grep -Eq "$2" <<<"$1"; }
check "logs: the broker's info lines are left out by default" lacks "$all_logs" '^broker +\| .*\[info\]'
check "logs: the services' lines are in" contains "$all_logs" '^command +\| ts=.* actor=command\.'
check "logs broker: all of the broker's lines" contains "$broker_logs" '^broker +\| .*\[info\]'
check "logs: no colour when the output is not a terminal" lacks "$all_logs" $'\e'

echo "observer_e2e: frames and screenshot in $artifacts"
summary
