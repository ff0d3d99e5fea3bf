#!/bin/sh
# Renders the one-machine stack's gateway config (deploy/local/gateway,
# copied to /etc/gateway) the way deploy/local/stack does, then runs nginx in
# the foreground. GATEWAY_LISTEN, PLATFORM_HOST, COMMAND_HOST: where it
# listens and the services' hosts (default 127.0.0.1, as in the stack). API keys: GATEWAY_API_KEYS (space-separated) or a random one,
# printed once; a self-signed certificate for acme.com and localhost.
set -eu
state=/var/lib/gateway
mkdir -p "$state/gateway/temp" "$state/gateway/tls" "$state/logs"
keys=${GATEWAY_API_KEYS:-$(openssl rand -hex 16)}
[ -n "${GATEWAY_API_KEYS:-}" ] || echo "gateway: generated API key $keys"
for key in $keys; do printf '"%s" 1;\n' "$key"; done > "$state/gateway/keys.map"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -subj "/CN=acme.com" -addext "subjectAltName=DNS:acme.com,DNS:localhost,IP:127.0.0.1" \
  -keyout "$state/gateway/tls/dev.key" -out "$state/gateway/tls/dev.crt" 2>/dev/null
# Logs to the container's output.
ln -sf /dev/stderr "$state/logs/gateway-error.log"
ln -sf /dev/stdout "$state/logs/gateway-access.log"
# On a bridge network (compose) nginx listens on every address and reaches
# the services by name; the stack's config says 127.0.0.1 for both.
listen=${GATEWAY_LISTEN:-127.0.0.1}
platform_host=${PLATFORM_HOST:-127.0.0.1}
command_host=${COMMAND_HOST:-127.0.0.1}
sed -e "s|listen 127.0.0.1:|listen $listen:|" \
  -e "s|server 127.0.0.1:@PLATFORM_HTTP_PORT@;|server $platform_host:@PLATFORM_HTTP_PORT@;|" \
  -e "s|server 127.0.0.1:@COMMAND_HTTP_PORT@;|server $command_host:@COMMAND_HTTP_PORT@;|" \
  -e "s|@USER@||" -e "s|@STATE@|$state|g" -e "s|@CONF@|/etc/gateway|g" \
  -e "s|@GATEWAY_HTTP_PORT@|$GATEWAY_PORT|g" -e "s|@GATEWAY_HTTPS_PORT@|$GATEWAY_HTTPS_PORT|g" \
  -e "s|@PLATFORM_HTTP_PORT@|$PLATFORM_HTTP_PORT|g" -e "s|@COMMAND_HTTP_PORT@|$COMMAND_HTTP_PORT|g" \
  -e "s|@RATE@|$RATE|g" -e "s|@BURST@|$BURST|g" -e "s|@MAX_BODY_BYTES@|$MAX_BODY_BYTES|g" \
  /etc/gateway/nginx.conf.in > "$state/gateway/nginx.conf"
exec /usr/sbin/nginx -p "$state/gateway/" -c "$state/gateway/nginx.conf" -e /dev/stderr
