#!/bin/sh
# bench/exec.sh: the exec rows of "make bench" (bench/run.sh calls it), a
# program started per connection, against xinetd and openbsd-inetd
# starting the same program in the same run.
#   1. Connections per second to a service that runs /bin/cat: connect,
#      send one 64-byte line, read it back, close (loadgen -m
#      tcp-connect, 32 in flight); BENCH_RUNS runs (5) alternating
#      between the servers, median.  CPU per connection is CPU 0's busy
#      time over the window: the server, its spawner and its children
#      all run there (taskset is inherited), inetd's children too.
#   2. Memory with 1000 children alive: 1000 held connections (loadgen
#      -m tcp-hold, 16 connects at a time: more overflow the inetds'
#      backlog of 64 and leave connections the server never saw) to
#      /bin/cat whose input never closes; the RSS of the server process
#      alone, minus its RSS idle, per child; sockd's spawner's RSS apart,
#      and the children's.
# Servers on CPU 0, the load generator on CPU 1.  Writes $OUT/exec.md (a
# section of bench/RESULTS.md, which run.sh includes) and $OUT/exec-raw.txt;
# run alone ("sh bench/exec.sh", after "make build/sockd bench-build"),
# it also puts the section into bench/RESULTS.md in place of the last one.
# Run it on a quiet machine: "uptime" first.
#   BENCH_QUICK=1   1 run of 1 s, 200 children
#   BENCH_RUNS=N BENCH_SECS=S   override the run count and window length
set -u
cd "$(dirname "$0")/.." || exit 1

B=${B:-build}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RUNS=${BENCH_RUNS:-1}; SECS=${BENCH_SECS:-1}; WARM=0.2; KIDS=200
else
	RUNS=${BENCH_RUNS:-5}; SECS=${BENCH_SECS:-2}; WARM=0.5; KIDS=1000
fi
OUT=$B/bench/out
RAW=$OUT/exec-raw.txt
MD=$OUT/exec.md
LG=$B/bench/loadgen
SOCKD=$B/sockd
RESULTS=bench/RESULTS.md
# Ports: sockd 17xxx, inetd 37xxx, as in run.sh.
S_CAT=17100; X_CAT=37100; O_CAT=37101
CONN_ARGS="-m tcp-connect -k 32 -s 64 -S 4 -b 1"
HOLD_ARGS="-m tcp-hold -S 1 -b 2 -K 16 -d 300 -T 120"
T0=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$OUT"
: > "$RAW"
rm -f "$OUT"/exec-*.log "$MD"
log() { echo "bench exec: $*" >&2; }
NOTES=""
note() { NOTES="$NOTES
- $*"; log "$*"; }

[ -x "$LG" ] || { log "no $LG: make bench-build first"; exit 1; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
stop() {
	alive "${1:-}" || return 0
	kill -TERM "$1" 2>/dev/null
	n=150
	while alive "$1" && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
# wait_port PORT SECONDS [PID]: until one line comes back through PORT.
wait_port() {
	n=$((${2:-10} * 5))
	while :; do
		"$LG" -m tcp-pingpong -p "$1" -c 1 -n 1 -w 0 -d 0.5 -T 0.5 \
		    >/dev/null 2>&1 && return 0
		[ $n -le 0 ] && return 1
		[ -n "${3:-}" ] && ! alive "$3" && return 1
		sleep 0.2
		n=$((n - 1))
	done
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
kids() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }
nkids() { kids "$1" | grep -c .; }

for p in $S_CAT $X_CAT $O_CAT; do
	if wait_port $p 0; then
		log "port $p is already in use: stop what runs there first"
		exit 1
	fi
done

# --- the servers -------------------------------------------------------
# Each runs /bin/cat as nobody when started as root (sockd: -u nobody and
# no "user" in the service, so the spawner changes no user; the inetds
# switch to nobody in each child), as the invoking user otherwise.
# Logging per connection is off everywhere: sockd at warning.
ME=$(id -un)
if [ "$(id -u)" = 0 ]; then RUNAS=nobody; SOCKD_USER="-u nobody"
else RUNAS=$ME; SOCKD_USER=""; fi
HAVE=""
cat > "$OUT/exec-sockd.conf" <<EOF
daemon: { log_level = "warning"; max_connections = 20000; };
defaults: { bind = ["127.0.0.1"]; };
services = (
	# per_source, rate and max_connections off or raised, as the
	# anchors' instances, per_source and cps are below.
	{ name = "cat"; port = $S_CAT; protocol = "tcp"; handler = "exec";
	  per_source = 0; rate = 0; max_connections = 20000;
	  options = { command = ["/bin/cat"]; stderr = "null"; }; }
);
EOF
SOCKD_CMD="$SOCKD -f -c $OUT/exec-sockd.conf $SOCKD_USER"
if [ -x "$SOCKD" ] && "$SOCKD" -t -c "$OUT/exec-sockd.conf" \
    > "$OUT/exec-sockd-t.log" 2>&1; then
	HAVE="sockd"
else
	note "sockd has no exec handler or refuses the config ($(head -1 "$OUT/exec-sockd-t.log" 2>/dev/null)): no sockd column"
fi
cat > "$OUT/exec-xinetd.conf" <<EOF
defaults
{
	instances	= UNLIMITED
	per_source	= UNLIMITED
	cps		= 1000000 1
	log_type	= FILE $PWD/$OUT/exec-xinetd.log
}
service cat
{
	type		= UNLISTED
	socket_type	= stream
	protocol	= tcp
	port		= $X_CAT
	bind		= 127.0.0.1
	wait		= no
	user		= $RUNAS
	server		= /bin/cat
}
EOF
XINETD_CMD="xinetd -dontfork -filelog $PWD/$OUT/exec-xinetd.log -f $OUT/exec-xinetd.conf -pidfile $PWD/$OUT/exec-xinetd.pid"
command -v xinetd >/dev/null 2>&1 && HAVE="$HAVE xinetd" ||
    note "xinetd is not installed (.ci/install-deps bench): no xinetd column"
OBSD_INETD=$B/bench/openbsd-inetd/usr/sbin/inetd
[ -x "$OBSD_INETD" ] || OBSD_INETD=$(command -v inetd 2>/dev/null || true)
printf '127.0.0.1:%s\tstream\ttcp\tnowait.100000000\t%s\t/bin/cat\tcat\n' \
    $O_CAT "$RUNAS" > "$OUT/exec-inetd.conf"
OBSD_CMD="$OBSD_INETD -i -R 100000000 $PWD/$OUT/exec-inetd.conf"
[ -n "$OBSD_INETD" ] && HAVE="$HAVE openbsd-inetd" ||
    note "openbsd-inetd is not unpacked (.ci/install-deps bench): no openbsd-inetd column"

# start NAME: sets PID (empty if it did not come up) and PORT.
start() {
	case $1 in
	sockd)	cmd=$SOCKD_CMD; PORT=$S_CAT;;
	xinetd)	cmd=$XINETD_CMD; PORT=$X_CAT;;
	*)	cmd=$OBSD_CMD; PORT=$O_CAT;;
	esac
	taskset -c 0 $cmd >> "$OUT/exec-$1.log" 2>&1 &
	PID=$!
	if ! wait_port $PORT 30 $PID; then
		note "$1 did not come up (see $OUT/exec-$1.log)"
		stop $PID
		PID=""
	fi
}

# --- connections per second ---------------------------------------------
log "connections per second to /bin/cat:$HAVE"
SP=""; XP=""; OP=""
for s in $HAVE; do
	start $s
	case $s in sockd) SP=$PID;; xinetd) XP=$PID;; *) OP=$PID;; esac
done
r=1
while [ $r -le "$RUNS" ]; do
	for s in $HAVE; do
		case $s in
		sockd)	pid=$SP; port=$S_CAT;;
		xinetd)	pid=$XP; port=$X_CAT;;
		*)	pid=$OP; port=$O_CAT;;
		esac
		alive "$pid" || continue
		line=$(timeout $((${SECS%.*} + 60)) taskset -c 1 "$LG" \
		    -p $port -d "$SECS" -w "$WARM" -x "$pid" -l execcat \
		    $CONN_ARGS 2>> "$OUT/exec-loadgen.log")
		[ -n "$line" ] && echo "bench=execcat server=$s $line" >> "$RAW"
		alive "$pid" || note "$s died during the connection rate runs"
	done
	r=$((r + 1))
done
for p in $SP $XP $OP; do stop $p; done

# --- 1000 children alive -------------------------------------------------
# hold NAME: a fresh server, its RSS idle, then while KIDS connections
# hold KIDS children of it (of its spawner, for sockd).
hold() {
	start $1
	[ -n "$PID" ] || return 0
	sleep 0.5
	parent=$PID
	if [ $1 = sockd ]; then
		# The spawner is sockd's one child (a reload check comes and
		# goes; there is none here).
		parent=$(kids $PID | head -1)
		[ -n "$parent" ] || { note "sockd has no spawner process"; stop $PID; return 0; }
	fi
	base=$(rss_kb $PID)
	pbase=$( [ "$parent" != "$PID" ] && rss_kb $parent || echo -)
	taskset -c 1 "$LG" $HOLD_ARGS -p $PORT -c $KIDS \
	    > "$OUT/exec-hold.out" 2>> "$OUT/exec-loadgen.log" &
	lp=$!
	t=0
	while [ "$(nkids $parent)" -lt $KIDS ] && alive $lp && [ $t -lt 1200 ]
	do
		sleep 0.1; t=$((t + 1))
	done
	sleep 1
	n=$(nkids $parent)
	rss=$(rss_kb $PID)
	prss=$( [ "$parent" != "$PID" ] && rss_kb $parent || echo -)
	ksum=0
	for k in $(kids $parent); do
		ksum=$((ksum + $(rss_kb $k || echo 0)))
	done
	kill -INT $lp 2>/dev/null
	wait $lp 2>/dev/null
	t=0
	while [ "$(nkids $parent)" -gt 0 ] && [ $t -lt 300 ]; do
		sleep 0.1; t=$((t + 1))
	done
	left=$(nkids $parent)
	echo "hold=$KIDS server=$1 children=$n rss_base_kb=$base rss_kb=$rss spawner_base_kb=$pbase spawner_kb=$prss children_rss_kb=$ksum left=$left" >> "$RAW"
	alive $PID || note "$1 died while holding $KIDS children"
	stop $PID
}
for s in $HAVE; do
	log "$KIDS children alive: $s"
	hold $s
done

# --- the section ---------------------------------------------------------
med() {	# SERVER KEY: median over the runs
	awk -v s="server=$1" -v k="$2" '$1 == "bench=execcat" && $2 == s {
		for (i = 3; i <= NF; i++) {
			j = index($i, "=")
			if (substr($i, 1, j - 1) == k) print substr($i, j + 1)
		}
	}' "$RAW" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"
	    else if (NR % 2) print a[(NR + 1) / 2]
	    else printf "%g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# CPU 0's busy time per connection, each run, median: the server's own
# figure plus everything else on CPU 0 (its children, its spawner).
cpu0() {
	awk -v s="server=$1" '$1 == "bench=execcat" && $2 == s {
		for (i = 3; i <= NF; i++) {
			j = index($i, "="); v[substr($i, 1, j - 1)] = substr($i, j + 1)
		}
		busy = v["srv_cpu_s"] + v["cpu0_others_pct"] / 100 * v["secs"]
		if (v["ops"] > 0 && v["srv_cpu_s"] != "")
			printf "%.1f\n", busy / v["ops"] * 1e6
	}' "$RAW" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"
	    else print a[int((NR + 1) / 2)] }'
}
hv() {	# SERVER KEY
	awk -v s="server=$1" -v k="$2" '$1 ~ /^hold=/ && $2 == s {
		for (i = 3; i <= NF; i++) {
			j = index($i, "=")
			if (substr($i, 1, j - 1) == k) print substr($i, j + 1)
		}
	}' "$RAW" | tail -1
}
per() {	# BASE HELD N: bytes per child
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
	    if (a == "" || b == "" || a == "-" || n + 0 == 0) print "-";
	    else printf "%.0f\n", (b - a) * 1024 / n }'
}
errs() {
	awk -v s="server=$1" '$1 == "bench=execcat" && $2 == s {
		for (i = 3; i <= NF; i++) if ($i ~ /^errors=/) {
			split($i, e, "="); n += e[2] } } END { print n + 0 }' "$RAW"
}
best=""; bestname=""
for a in xinetd openbsd-inetd; do
	v=$(med $a rate)
	[ "$v" = - ] && continue
	if [ -z "$best" ] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'
	then best=$v; bestname=$a; fi
done
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
	    if (a == "-" || b == "" || b == "-" || b + 0 == 0) print "-";
	    else printf "%.2f\n", a / b }'
}
verdict() {	# VALUE OP LIMIT
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
	    if (v == "-" || v == "") { print "?"; exit }
	    if ((op == ">=" && v + 0 >= l + 0) || (op == "<=" && v + 0 <= l + 0))
		print "yes"; else print "**no**" }'
}
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
T1=$(date +%s)
{
echo "<!-- begin exec rows: bench/exec.sh -->"
echo "## exec services: a program per connection"
echo
echo "Written by \`bench/exec.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')" \
    "in $((T1 - T0)) s$( [ "$QUICK" = 1 ] &&
    echo ', BENCH_QUICK=1 (smoke run, not for conclusions)')."
echo "Load average before $LOAD0, after $LOAD1.  Servers and their"
echo "children on CPU 0, the load generator on CPU 1; $RUNS run(s) of $SECS s"
echo "after $WARM s warm-up per figure, alternating between the servers,"
echo "median.  Each server runs"
echo "\`/bin/cat\` as $RUNAS, with its per-connection logging off and its"
echo "rate limits off: sockd \`per_source = 0; rate = 0;\`, xinetd"
echo "\`instances\` and \`per_source\` UNLIMITED and \`cps = 1000000 1\`,"
echo "openbsd-inetd \`nowait.100000000\` and \`-R 100000000\`."
echo
echo "| Server | connect + 64 B line + close, 32 in flight (conn/s) | / faster anchor | CPU 0 busy us/conn | p50 us | p99 us | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for s in sockd xinetd openbsd-inetd; do
	case " $HAVE " in *" $s "*) ;; *) continue;; esac
	v=$(med $s rate)
	echo "| $s | $v | $(ratio "$v" "$best") | $(cpu0 $s) | $(med $s p50_us) | $(med $s p99_us) | $(errs $s) |"
done
echo
r=$(ratio "$(med sockd rate)" "$best")
echo "Target: sockd >= 1.5x the faster anchor (${bestname:-none measured}):" \
    "$r, $(verdict "$r" ">=" 1.5)."
echo
echo "### $KIDS children alive"
echo
echo "RSS (VmRSS) of the server process alone, freshly started and idle,"
echo "then while $KIDS held connections keep $KIDS \`/bin/cat\` children"
echo "alive; per child = (held - idle) / children.  sockd's spawner, which"
echo "starts and reaps the children, is apart; so are the children."
echo
echo "| Server | children | RSS idle kB | RSS held kB | bytes per child | spawner RSS idle / held kB | children's RSS, mean kB | left 30 s after the close |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for s in sockd xinetd openbsd-inetd; do
	[ -n "$(hv $s rss_kb)" ] || continue
	n=$(hv $s children)
	echo "| $s | $n | $(hv $s rss_base_kb) | $(hv $s rss_kb) | $(per "$(hv $s rss_base_kb)" "$(hv $s rss_kb)" "$n") | $(hv $s spawner_base_kb) / $(hv $s spawner_kb) | $(awk -v a="$(hv $s children_rss_kb)" -v n="$n" 'BEGIN { if (n + 0 > 0) printf "%.0f", a / n; else print "-" }') | $(hv $s left) |"
done
echo
b=$(per "$(hv sockd rss_base_kb)" "$(hv sockd rss_kb)" "$(hv sockd children)")
echo "Target: sockd's own RSS <= 2048 bytes per child: ${b} bytes," \
    "$(verdict "$b" "<=" 2048)."
echo
echo "Commands:"
echo
echo '```'
case " $HAVE " in *" sockd "*) echo "sockd:  taskset -c 0 $SOCKD_CMD";; esac
case " $HAVE " in *" xinetd "*) echo "xinetd: taskset -c 0 $XINETD_CMD";; esac
case " $HAVE " in *" openbsd-inetd "*) echo "openbsd-inetd: taskset -c 0 $OBSD_CMD";; esac
echo "conn/s: taskset -c 1 $LG -p PORT -d $SECS -w $WARM -x SERVER_PID $CONN_ARGS"
echo "hold:   taskset -c 1 $LG $HOLD_ARGS -p PORT -c $KIDS"
echo '```'
echo
echo "sockd's configuration, \`$OUT/exec-sockd.conf\`:"
echo
echo '```'
cat "$OUT/exec-sockd.conf"
echo '```'
[ -n "$NOTES" ] && printf '%s\n' "$NOTES"
echo "<!-- end exec rows -->"
} > "$MD"
log "wrote $MD"

# Alone, not from run.sh: the section replaces the last one in RESULTS.md,
# or is added before its Notes.
if [ "${BENCH_EXEC_FROM_RUN:-0}" != 1 ] && [ -f "$RESULTS" ]; then
	awk -v md="$MD" '
	function put() { while ((getline l < md) > 0) print l; done = 1 }
	/^<!-- begin exec rows/ { skip = 1; if (!done) put(); next }
	/^<!-- end exec rows/ { skip = 0; next }
	skip { next }
	/^## Notes/ && !done { put(); print "" }
	{ print }
	END { if (!done) { print ""; put() } }' "$RESULTS" > "$RESULTS.tmp" &&
	    mv "$RESULTS.tmp" "$RESULTS"
	log "updated $RESULTS"
fi
exit 0
