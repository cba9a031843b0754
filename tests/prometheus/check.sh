#!/bin/bash
# make check-prometheus: sockd with the metrics handler, and a real
# Prometheus server scraping it every second, both on loopback with a
# temp config and storage dir.  Waits until the target is up, sends known
# echo traffic, then asks Prometheus' HTTP API for "up" and for the
# counter the traffic moved.  Everything it starts is stopped and its
# files removed, whatever happens; bounded by DEADLINE seconds.
set -u
SOCKD=${SOCKD:-build/sockd}
DEADLINE=${DEADLINE:-90}
tmp=$(mktemp -d /tmp/sockd-prom.XXXXXX)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "check-prometheus: $*" >&2
	for f in "$tmp"/*.log; do
		[ -f "$f" ] && { echo "== $f" >&2; tail -20 "$f" >&2; }
	done
	exit 1
}

command -v prometheus >/dev/null || fail "prometheus not installed"
command -v curl >/dev/null || fail "curl not installed"
end=$((SECONDS + DEADLINE))

# Three ports nothing listens on, from a range apart from the e2e suites'.
ports=()
while [ ${#ports[@]} -lt 3 ]; do
	p=$((30000 + RANDOM % 20000))
	ss -Htln "sport = :$p" 2>/dev/null | grep -q . && continue
	ports+=("$p")
done
mport=${ports[0]} eport=${ports[1]} pport=${ports[2]}

user=""
[ "$(id -u)" -eq 0 ] && user='user = "root";'
cat > "$tmp/sockd.conf" <<CONF
daemon: { log = "stderr"; log_level = "info"; $user };
services = (
	{ name = "echo"; port = $eport; bind = "127.0.0.1"; },
	{ name = "metrics"; port = $mport; bind = "127.0.0.1";
	  handler = "metrics"; }
);
CONF
cat > "$tmp/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sockd
    static_configs:
      - targets: ["127.0.0.1:$mport"]
CONF

"$SOCKD" -f -c "$tmp/sockd.conf" > "$tmp/sockd.log" 2>&1 &
pids+=($!)
prometheus --config.file="$tmp/prometheus.yml" \
    --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$pport" \
    --log.level=warn > "$tmp/prometheus.log" 2>&1 &
pids+=($!)

api="http://127.0.0.1:$pport/api/v1/query"
# The value of the first sample of query, or "" when there is none yet.
value() {
	curl -s -m 5 -G --data-urlencode "query=$1" "$api" |
	    sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'
}
wait_for() {
	while [ "$(value "$1")" != "$2" ]; do
		[ $SECONDS -lt $end ] ||
		    fail "$1 is \"$(value "$1")\", not $2, after ${DEADLINE}s"
		sleep 0.5
	done
}

wait_for 'up{job="sockd"}' 1
echo "check-prometheus: target up after ${SECONDS}s"
for i in 1 2 3; do
	exec 3<>"/dev/tcp/127.0.0.1/$eport" || fail "echo: cannot connect"
	echo "hello $i" >&3
	read -r -t 5 line <&3 || fail "echo: no answer"
	[ "$line" = "hello $i" ] || fail "echo: \"$line\""
	exec 3>&-
done
wait_for 'sockd_connections_accepted_total{service="echo"}' 3
wait_for 'sockd_bytes_received_total{service="echo",protocol="tcp"}' 24
echo "check-prometheus: up == 1 and the echo counters read back" \
    "through Prometheus in ${SECONDS}s"
