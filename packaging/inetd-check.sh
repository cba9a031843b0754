#!/bin/sh
# inetd-check: package-check.sh's step 5c, run by it as root inside a
# private network namespace ("unshare -n"), with WORK (a directory holding
# sockd-check-rev.deb, a package whose maintainer scripts call
# update-inetd) and ASUNIT (the setpriv command that runs a program the
# way sockd.service does); WORK/run, owned by _sockd, gets the pid file
# and the control socket.  sockd runs on the installed /etc/sockd.conf,
# then the package is installed, its service disabled, enabled and the
# package purged, each followed by "sockd -r", as sockd-inetd.path does
# under systemd.  Prints one PASS or FAIL line per check.
set -u
w=$WORK
ip link set lo up
check() {	# DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@" > "$w/check.out" 2>&1; then
		echo "PASS: $d"
	else
		echo "FAIL: $d"
		sed 's/^/    /' "$w/check.out" | tail -20
	fi
}
# ask PORT TEXT: what the service sends back for one line (its whole
# output until it closes), or "refused".
ask() {
	python3 - "$@" <<'EOF'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
except OSError:
    print("refused")
    sys.exit(0)
s.settimeout(10)
s.sendall(sys.argv[2].encode() + b"\n")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    try:
        b = s.recv(4096)
    except ConnectionResetError:
        break
    if not b:
        break
    out += b
print(out.decode(errors="replace").rstrip("\n"))
EOF
}
reload() { $ASUNIT /usr/sbin/sockd -r -P "$w/run/sockd.pid"; }

$ASUNIT /usr/sbin/sockd -f -P "$w/run/sockd.pid" 2> "$w/sockd.log" &
daemon=$!
for i in $(seq 100); do
	[ -S "$w/run/sockd.sock" ] && grep -q ready "$w/sockd.log" && break
	sleep 0.1
done
check "sockd -f on /etc/sockd.conf (inetd_conf, an exec drop-in)" \
    kill -0 $daemon
# The spawner binds the sockets: the loops keep no capability at all.
check "no capability in the event loops: CapEff 0000000000000000" \
    grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/$daemon/status
want="CapInh: 0000000000000000 CapPrm: 0000000000000000"
want="$want CapEff: 0000000000000000 CapBnd: [0-9a-f]* CapAmb: 0000000000000000"
caps=$(ask 7101 x | tr -s ' \t\n' '   ')
check "an exec child runs as nobody with no capability: $caps" \
    sh -c "echo '$caps' | grep -qx '$want nobody *'"
check "dpkg -i sockd-check-rev (postinst: update-inetd --add)" \
    sh -c "dpkg -i $w/sockd-check-rev.deb > $w/dpkg.out 2>&1;
    rc=\$?; cat $w/dpkg.out; [ \$rc = 0 ] &&
    ! grep -qi 'warning\|error' $w/dpkg.out"
check "/etc/inetd.conf has its qotd line" \
    grep -q '^qotd[[:space:]].*/usr/bin/rev' /etc/inetd.conf
check "sockd -r" reload
check "qotd (17) answers hello with olleh" test "$(ask 17 hello)" = olleh
check "update-inetd --disable qotd: a #<off># line" \
    sh -c "update-inetd --disable qotd &&
    grep -q '^#<off># qotd[[:space:]]' /etc/inetd.conf"
check "sockd -r" reload
check "qotd is closed" test "$(ask 17 hello)" = refused
check "update-inetd --enable qotd" \
    sh -c "update-inetd --enable qotd &&
    grep -q '^qotd[[:space:]]' /etc/inetd.conf"
check "sockd -r" reload
check "qotd answers again" test "$(ask 17 again)" = niaga
check "dpkg --purge sockd-check-rev (postrm: update-inetd --remove)" \
    sh -c "dpkg --purge sockd-check-rev && ! grep -q qotd /etc/inetd.conf"
check "sockd -r" reload
check "qotd is gone" test "$(ask 17 hello)" = refused
check "no exec child is left" \
    sh -c "! ps -eo user=,comm= | grep -q '^nobody *rev'"
kill $daemon
wait $daemon
check "sockd exits 0 on SIGTERM" test $? = 0
