#!/bin/sh
# bench/features.sh: rows for features, each against its closest anchor
# measured in the same run, alternating run by run (called by run.sh, or
# alone: "sh bench/features.sh > features.md" after make bench-build and
# make).  Prints a RESULTS.md section on stdout; raw lines go to
# $B/bench/out/features.raw.
#   metrics: GET /metrics latency and server CPU per scrape, one client
#            on keep-alive HTTP/1.1, with 100 small services configured
#            against the same daemon with 1
#   proxy:   ping-pong (32 connections) and connect rate with a PROXY v2
#            (and v1) header opening each connection, against the same
#            service without proxy_protocol
#   steer:   connect rate, workers = 2: SO_REUSEPORT sockets with the
#            steering program (bound as root) against one shared socket
#            (bound by a daemon started unprivileged); root only
#   FEATURES="metrics proxy steer" picks rows; BENCH_RUNS, BENCH_SECS,
#   BENCH_QUICK as in run.sh.
set -u
cd "$(dirname "$0")/.." || exit 1

B=${B:-build}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RUNS=${BENCH_RUNS:-1}; SECS=${BENCH_SECS:-1}; WARM=0.2
else
	RUNS=${BENCH_RUNS:-5}; SECS=${BENCH_SECS:-2}; WARM=0.5
fi
FEATURES=${FEATURES:-metrics proxy steer}
OUT=$B/bench/out
RAW=$OUT/features.raw
LG=$B/bench/loadgen
SOCKD=$B/sockd
# Ports 19xxx: apart from run.sh's 17xxx, 27xxx and 37xxx.
M_BIG=19090; M_ONE=19091; P_PROXY=19092; P_PLAIN=19093
S_STEER=19094; S_SHARED=19095

log() { echo "features: $*" >&2; }
mkdir -p "$OUT"
: > "$RAW"
SOCKD_USER=""
[ "$(id -u)" = 0 ] && SOCKD_USER="-u nobody"
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
stop() {
	alive "${1:-}" || return 0
	kill -TERM "$1" 2>/dev/null
	n=100
	while alive "$1" && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
# Polls until the TCP port echoes a line, up to 10 s.
up() {
	n=50
	while [ $n -gt 0 ]; do
		"$LG" -m tcp-pingpong -p "$1" -c 1 -n 1 -w 0 -d 0.2 -T 0.2 \
		    ${2:+-P $2} >/dev/null 2>&1 && return 0
		sleep 0.2; n=$((n - 1))
	done
	return 1
}
# start NAME CONF ARGS [prefix...]: a sockd on CPU 0 with ARGS after its
# -f -c CONF, run through prefix; its pid in $PID.
start() {
	name=$1; conf=$2; args=$3; shift 3
	taskset -c 0 "$@" "$SOCKD" -f -c "$conf" $args \
	    >> "$OUT/features-$name.log" 2>&1 &
	PID=$!
}
# run ROW SERVER PID PORT loadgen-args...: one line into $RAW.
run() {
	row=$1; srv=$2; pid=$3; port=$4; shift 4
	alive "$pid" || return 0
	line=$(timeout $((${SECS%.*} + 60)) taskset -c 1 "$LG" -p "$port" \
	    -d "$SECS" -w "$WARM" -x "$pid" "$@" 2>> "$OUT/loadgen.log")
	[ -n "$line" ] && echo "row=$row server=$srv $line" >> "$RAW"
	grep -q "^$row $srv: " "$OUT/features.cmd" 2>/dev/null ||
	    echo "$row $srv: taskset -c 1 $LG -p PORT -d $SECS -w $WARM -x SERVER_PID $*" \
	    >> "$OUT/features.cmd"
}
# med ROW SERVER KEY: the median over the runs.
med() {
	awk -v r="$1" -v s="$2" -v k="$3" '$1 == "row=" r && $2 == "server=" s {
		for (i = 3; i <= NF; i++) {
			j = index($i, "=")
			if (substr($i, 1, j - 1) == k) print substr($i, j + 1)
		}
	}' "$RAW" | sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) print "-"
		else if (NR % 2) print a[(NR + 1) / 2]
		else printf "%g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
	    if (a == "-" || b == "-" || b + 0 == 0) print "-";
	    else printf "%.2f\n", a / b }'
}
want() { case " $FEATURES " in *" $1 "*) return 0;; esac; return 1; }
: > "$OUT/features.cmd"

# --- metrics: a scrape with 100 services against one with 1 ---------------
# Each small service is a TCP and UDP echo; a scrape reports every
# service's counters for both protocols.
metrics_conf() {	# FILE METRICS_PORT NSERVICES FIRST_PORT
	{
		echo 'daemon: { log_level = "warning"; };'
		echo 'defaults: { bind = ["127.0.0.1"]; };'
		echo 'services = ('
		echo "	{ name = \"metrics\"; port = $2; handler = \"metrics\"; },"
		i=1
		while [ $i -le "$3" ]; do
			sep=","; [ $i = "$3" ] && sep=""
			echo "	{ name = \"svc$i\"; port = $(($4 + i)); handler = \"echo\"; protocol = [\"tcp\", \"udp\"]; }$sep"
			i=$((i + 1))
		done
		echo ');'
	} > "$1"
}
if want metrics; then
	log "metrics scrape, 100 services against 1"
	metrics_conf "$OUT/metrics100.conf" $M_BIG 100 19100
	metrics_conf "$OUT/metrics1.conf" $M_ONE 1 19300
	start m100 "$OUT/metrics100.conf" "$SOCKD_USER"; P100=$PID
	start m1 "$OUT/metrics1.conf" "$SOCKD_USER"; P1=$PID
	sleep 1
	SIZE100=$(curl -s "http://127.0.0.1:$M_BIG/metrics" 2>/dev/null | wc -c)
	SIZE1=$(curl -s "http://127.0.0.1:$M_ONE/metrics" 2>/dev/null | wc -c)
	r=1
	while [ $r -le "$RUNS" ]; do
		run metrics 100 "$P100" $M_BIG -m http-get -c 1 -u /metrics
		run metrics 1 "$P1" $M_ONE -m http-get -c 1 -u /metrics
		r=$((r + 1))
	done
	stop "$P100"; stop "$P1"
fi

# --- PROXY protocol: the same echo with and without headers ---------------
if want proxy; then
	log "PROXY protocol against without"
	cat > "$OUT/proxy.conf" <<-EOF
	daemon: { log_level = "warning"; };
	defaults: { bind = ["127.0.0.1"]; per_source = 0; rate = 0; };
	services = (
		{ name = "proxied"; port = $P_PROXY; handler = "echo";
		  proxy_protocol = true; proxy_from = ["127.0.0.0/8"]; },
		{ name = "plain"; port = $P_PLAIN; handler = "echo"; }
	);
	EOF
	start proxy "$OUT/proxy.conf" "$SOCKD_USER"; PP=$PID
	up $P_PROXY 2 && up $P_PLAIN
	r=1
	while [ $r -le "$RUNS" ]; do
		run pp32 v2 "$PP" $P_PROXY -m tcp-pingpong -s 64 -c 32 -P 2
		run pp32 none "$PP" $P_PLAIN -m tcp-pingpong -s 64 -c 32
		run conn32 v2 "$PP" $P_PROXY -m tcp-connect -k 32 -s 64 -S 4 -b 1 -P 2
		run conn32 v1 "$PP" $P_PROXY -m tcp-connect -k 32 -s 64 -S 4 -b 1 -P 1
		run conn32 none "$PP" $P_PLAIN -m tcp-connect -k 32 -s 64 -S 4 -b 1
		r=$((r + 1))
	done
	stop "$PP"
fi

# --- steering: reuseport sockets with the program against one shared -----
STEER_NOTE=""
if want steer; then
	if [ "$(id -u)" != 0 ]; then
		STEER_NOTE="not measured: needs root (the steered daemon binds as root, the other starts as nobody)"
	else
		log "steering against a shared socket, workers = 2"
		for x in steer:$S_STEER shared:$S_SHARED; do
			cat > "$OUT/${x%%:*}.conf" <<-EOF
			daemon: { log_level = "warning"; workers = 2; };
			defaults: { bind = ["127.0.0.1"]; per_source = 0; rate = 0; };
			services = ({ name = "echo"; port = ${x#*:}; handler = "echo"; });
			EOF
		done
		start steer "$OUT/steer.conf" "-u nobody"; PS=$PID
		# Started as nobody: one socket, a dup() per worker.
		chmod 644 "$OUT/shared.conf"
		start shared "$OUT/shared.conf" "" setpriv --reuid=nobody --regid=nogroup --clear-groups --
		PSH=$PID
		up $S_STEER && up $S_SHARED
		r=1
		while [ $r -le "$RUNS" ]; do
			run conn32w2 steer "$PS" $S_STEER -m tcp-connect -k 32 -s 64 -S 4 -b 1
			run conn32w2 shared "$PSH" $S_SHARED -m tcp-connect -k 32 -s 64 -S 4 -b 1
			r=$((r + 1))
		done
		stop "$PS"; stop "$PSH"
	fi
fi

# --- the section ------------------------------------------------------------
echo "## Feature rows"
echo
echo "Each row against its anchor in the same run, alternating run by run;"
echo "$RUNS run(s) of $SECS s after $WARM s warm-up, median; servers on CPU 0,"
echo "load on CPU 1.  Server CPU is utime+stime of all its threads over the"
echo "window.  \`bench/features.sh\` (configs in \`$OUT/\`):"
echo
echo '```'
cat "$OUT/features.cmd"
echo '```'
if want metrics; then
	echo
	echo "### Metrics scrape"
	echo
	echo "One client scraping \`GET /metrics\` back to back (keep-alive), with 100"
	echo "small services (TCP and UDP echo each) against 1."
	echo
	echo "| services | body bytes | scrapes/s | p50 latency us | p99 us | server CPU us/scrape |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for n in 1 100; do
		[ $n = 1 ] && sz=$SIZE1 || sz=$SIZE100
		echo "| $n | $sz | $(med metrics $n rate) | $(med metrics $n p50_us) | $(med metrics $n p99_us) | $(med metrics $n srv_cpu_us_per_op) |"
	done
	echo
	echo "100/1: latency $(ratio "$(med metrics 100 p50_us)" "$(med metrics 1 p50_us)")x," \
	    "CPU per scrape $(ratio "$(med metrics 100 srv_cpu_us_per_op)" "$(med metrics 1 srv_cpu_us_per_op)")x."
fi
if want proxy; then
	echo
	echo "### PROXY protocol"
	echo
	echo "The echo service with \`proxy_protocol = true; proxy_from ="
	echo "[\"127.0.0.0/8\"];\` (each connection opens with a header for a client of"
	echo "198.51.100.0/24, written before the first line) against the same"
	echo "service without."
	echo
	echo "| Benchmark | header | rate | CPU us/op | rate / without | CPU / without |"
	echo "|---|---|---:|---:|---:|---:|"
	for x in "pp32:v2:TCP ping-pong 64 B, 32 conns (rt/s)" \
	    "pp32:none:TCP ping-pong 64 B, 32 conns (rt/s)" \
	    "conn32:v2:TCP connect+line+close, K=32 (conn/s)" \
	    "conn32:v1:TCP connect+line+close, K=32 (conn/s)" \
	    "conn32:none:TCP connect+line+close, K=32 (conn/s)"; do
		row=${x%%:*}; rest=${x#*:}; h=${rest%%:*}; t=${rest#*:}
		echo "| $t | $h | $(med $row $h rate) | $(med $row $h srv_cpu_us_per_op) | $(ratio "$(med $row $h rate)" "$(med $row none rate)") | $(ratio "$(med $row $h srv_cpu_us_per_op)" "$(med $row none srv_cpu_us_per_op)") |"
	done
fi
if want steer; then
	echo
	echo "### Steering (workers = 2)"
	echo
	if [ -n "$STEER_NOTE" ]; then
		echo "$STEER_NOTE."
	else
		echo "Connect rate with 2 workers from 4 source addresses: a SO_REUSEPORT"
		echo "socket per worker with the steering program (started as root, then"
		echo "nobody) against one socket both workers accept from (started as"
		echo "nobody, which binds no reuseport group).  Both workers share CPU 0."
		echo
		echo "| sockets | conn/s | CPU us/conn | rate / shared | CPU / shared |"
		echo "|---|---:|---:|---:|---:|"
		for s in steer shared; do
			echo "| $s | $(med conn32w2 $s rate) | $(med conn32w2 $s srv_cpu_us_per_op) | $(ratio "$(med conn32w2 $s rate)" "$(med conn32w2 shared rate)") | $(ratio "$(med conn32w2 $s srv_cpu_us_per_op)" "$(med conn32w2 shared srv_cpu_us_per_op)") |"
		done
	fi
fi
