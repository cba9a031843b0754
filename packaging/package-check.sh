#!/bin/sh
# package-check: the Debian package from build to purge, as root on a
# Debian 12 machine (no systemd needed: the unit is checked offline and the
# binary is started the way the unit starts it).
#   1. make deb (git archive HEAD), blhc on the build log
#   2. lintian --fail-on error,warning, the man page lint
#   3. apt-get install ./sockd_*.deb ./sockd-dev_*.deb, which replaces an
#      installed inet-superserver (Conflicts); files, conffile,
#      README.Debian and the examples (each passes sockd -t), Provides
#      inet-superserver and sockd-abi-N, /etc/inetd.conf and the
#      inetd_conf setting, _sockd, units enabled, systemd-analyze verify
#      and security, sockd -t, apropos inetd
#   4. the sockd-handler(3) example built with pkg-config, installed in its
#      handler_dir and loaded
#   5. sockd -f as _sockd with CAP_NET_BIND_SERVICE only, in a private
#      network namespace: sd_notify, echo, daytime (UDP), upper, reload,
#      a service added and removed through a file in /etc/sockd.d, stop;
#      sockd -r exits 1 for a reload onto a port in use (and systemctl
#      reload fails, when systemd runs)
#   5c. Debian's inet-superserver interface: a package built here whose
#      postinst runs update-inetd --add for /usr/bin/rev; after its
#      install and sockd -r the service answers, --disable / --enable
#      turn it off and on, after its purge it is gone; an exec child
#      holds no capability, nor do the event loops
#   6. dpkg --purge: nothing of the package is left, /etc/inetd.conf
#      without services removed, the inet-superservers that installing
#      sockd replaced installed again
# SKIP_BUILD=1 reuses the packages already built; DEB_DIR (default build/)
# is where they are.  Exit 0 = all passed.
set -u
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
fail=0
pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
# run DESCRIPTION COMMAND...: PASS or FAIL with the command's output.
run() {
	what=$1
	shift
	if out=$("$@" 2>&1); then
		pass "$what"
	else
		bad "$what"
		printf '%s\n' "$out" | sed 's/^/    /' | tail -30
	fi
}
# silent DESCRIPTION COMMAND...: passes when the command succeeds quietly.
silent() {
	what=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		pass "$what"
	else
		bad "$what (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/    /' | tail -30
	fi
}

[ "$(id -u)" -eq 0 ] || { echo "package-check: run as root" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

need="build-essential debhelper lintian mandoc man-db blhc python3 pkgconf
    dpkg-dev update-inetd util-linux"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	    $missing >/dev/null || exit 2
fi
if ! dpkg-checkbuilddeps packaging/debian/control 2>/dev/null; then
	echo "installing the build dependencies"
	apt-get build-dep -y -qq ./packaging >/dev/null || exit 2
fi

V=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
A=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
dir=${DEB_DIR:-$top/build}
DEB=$dir/sockd_${V}_$A.deb
DEV=$dir/sockd-dev_${V}_$A.deb
ABI=$(sed -n 's/^#define SOCKD_ABI_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' \
    include/sockd/handler.h)
LOG=$dir/sockd_${V}_$A.build.log

echo "== 1. build sockd $V ($A)"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
	if make -n deb >/dev/null 2>&1; then
		run "make deb" make deb
	else
		run "make deb" make -f Makefile -f packaging/packaging.mk deb
	fi
fi
[ -f "$DEB" ] && [ -f "$DEV" ] || {
	echo "FAIL: no $DEB or $DEV; see $LOG"; exit 1; }
run "blhc: hardening flags on every compile and link line" \
    blhc --debian --all "$LOG"

echo "== 2. lint"
out=$(lintian --fail-on error,warning --display-info --pedantic \
    "$dir/sockd_${V}_$A.changes" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
[ $rc -eq 0 ] && pass "lintian: no error or warning" ||
    bad "lintian --fail-on error,warning (exit $rc)"
run "man pages: mandoc -T lint and man --warnings" make -s man-lint

echo "== 3. install"
if dpkg-query -W -f='${Status}' sockd 2>/dev/null | grep -q installed; then
	echo "sockd is installed already: purging it first"
	dpkg --purge sockd-dev sockd >/dev/null
fi
snap() {
	find /etc /usr /var/lib/systemd /var/lib/dpkg/info -xdev 2>/dev/null |
	    grep -i sockd | sort
}
snap > /tmp/package-check.before
# sockd conflicts with every other inet-superserver: those installed here
# (xinetd for make bench, say) are removed now and installed again at
# the end, whatever happens in between.  A stand-in built here checks
# that installing sockd replaces one.
work=$(mktemp -d /tmp/sockd-pkgcheck.XXXXXX)
chmod 0755 "$work"
supers=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev} ${Provides}\n' |
    awk '$2 ~ /^.i/ && $1 != "sockd" && /inet-superserver/ { printf "%s%s",
    n++ ? " " : "", $1 }')
restore() {
	for p in sockd-check-rev sockd-check-inetd; do
		dpkg-query -W -f='${Status}' $p 2>/dev/null |
		    grep -q 'not-installed' || dpkg --purge $p >/dev/null 2>&1
	done
	rm -f /etc/sockd.d/zz-check-caps.conf
	if dpkg-query -W -f='${Status}' sockd 2>/dev/null |
	    grep -q 'ok installed'; then
		echo "purging sockd, which an interrupted check left installed"
		dpkg --purge sockd-dev sockd >/dev/null 2>&1
	fi
	if [ -n "$supers" ] &&
	    ! dpkg-query -W -f='${Status}' sockd 2>/dev/null |
	    grep -q 'ok installed'; then
		apt-get install -y -qq --no-install-recommends $supers \
		    >/dev/null 2>&1 || echo "FAIL: could not install $supers again"
		supers=""
	fi
	rm -rf "$work"
}
trap restore EXIT
trap 'exit 2' INT TERM
# tiny_deb NAME CONTROL-FIELDS [SCRIPT FILE]...: $work/NAME.deb
tiny_deb() {
	n=$1; f=$2; shift 2
	mkdir -p "$work/$n/DEBIAN"
	printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: %s\nDescription: package-check stand-in\n%s\n' \
	    "$n" "sockd developers <sockd@example.org>" "$f" \
	    > "$work/$n/DEBIAN/control"
	while [ $# -ge 2 ]; do
		printf '#!/bin/sh\nset -e\n%s\n' "$2" > "$work/$n/DEBIAN/$1"
		chmod 0755 "$work/$n/DEBIAN/$1"
		shift 2
	done
	dpkg-deb --root-owner-group -b "$work/$n" "$work/$n.deb" >/dev/null
}
[ -n "$supers" ] && echo "removing $supers (installed again at the end)" &&
    apt-get remove -y -qq $supers >/dev/null 2>&1
tiny_deb sockd-check-inetd "Provides: inet-superserver
Conflicts: inet-superserver"
run "dpkg -i an inet-superserver stand-in" \
    dpkg -i "$work/sockd-check-inetd.deb"
run "apt-get install ./sockd_${V}_$A.deb ./sockd-dev_${V}_$A.deb" \
    apt-get install -y -qq "$DEB" "$DEV"
run "installing sockd removed the other inet-superserver (Conflicts)" \
    sh -c "! dpkg-query -W -f='\${db:Status-Abbrev}' sockd-check-inetd |
    grep -q '^.i'"
dpkg --purge sockd-check-inetd >/dev/null 2>&1

for f in /usr/sbin/sockd /etc/sockd.conf /lib/systemd/system/sockd.service \
    /etc/sockd.d/README \
    /usr/lib/sysusers.d/sockd.conf /usr/share/man/man8/sockd.8.gz \
    /usr/share/man/man5/sockd.conf.5.gz /usr/include/sockd/handler.h \
    /usr/share/man/man3/sockd-handler.3.gz \
    "/usr/lib/$MA/pkgconfig/sockd.pc" \
    /usr/share/doc/sockd/README.Debian \
    /usr/share/doc/sockd/examples/sockd.conf \
    /usr/share/doc/sockd/examples/minimal.conf \
    /usr/share/doc/sockd/examples/lan.conf; do
	run "installed: $f" test -f "$f"
done
run "examples/sockd.conf is the shipped /etc/sockd.conf" \
    cmp /usr/share/doc/sockd/examples/sockd.conf /etc/sockd.conf
for f in /usr/share/doc/sockd/examples/*.conf; do
	run "sockd -t -c $f" /usr/sbin/sockd -t -c "$f"
done
run "README.Debian says how to check, reload and turn services off" \
    sh -c 'grep -q "sockd -t" /usr/share/doc/sockd/README.Debian &&
    grep -q "systemctl reload sockd" /usr/share/doc/sockd/README.Debian &&
    grep -q "enabled = false" /usr/share/doc/sockd/README.Debian'
run "dpkg -s sockd: Provides: inet-superserver, sockd-abi-$ABI" \
    test "$(dpkg-query -W -f='${Provides}' sockd)" = \
    "inet-superserver, sockd-abi-$ABI"
run "dpkg -s sockd: Conflicts: inet-superserver" \
    test "$(dpkg-query -W -f='${Conflicts}' sockd)" = inet-superserver
run "dpkg -s sockd: Recommends: update-inetd" \
    test "$(dpkg-query -W -f='${Recommends}' sockd)" = update-inetd
run "/etc/inetd.conf created, mode 0644, no service in it" \
    sh -c "test \"\$(stat -c %a /etc/inetd.conf)\" = 644 &&
    ! grep -q '^[[:alnum:][/]' /etc/inetd.conf"
run "/etc/sockd.conf reads /etc/inetd.conf" \
    grep -q '^[[:space:]]*inetd_conf = "/etc/inetd.conf";' /etc/sockd.conf
run "installed: handler_dir /usr/lib/$MA/sockd" test -d "/usr/lib/$MA/sockd"
run "mode 0755 /usr/sbin/sockd" \
    test "$(stat -c %a /usr/sbin/sockd)" = 755
run "conffile /etc/sockd.conf" \
    sh -c "dpkg-query -W -f='\${Conffiles}' sockd | grep -q ' /etc/sockd.conf '"
run "conffile /etc/sockd.d/README" \
    sh -c "dpkg-query -W -f='\${Conffiles}' sockd |
    grep -q ' /etc/sockd.d/README '"
run "/etc/sockd.conf reads drop-in files from /etc/sockd.d" \
    grep -q '^[[:space:]]*include_dir = "/etc/sockd.d";' /etc/sockd.conf
run "user _sockd: $(getent passwd _sockd)" getent passwd _sockd
run "systemctl is-enabled sockd: enabled" \
    test "$(systemctl is-enabled sockd 2>&1)" = enabled
run "systemctl is-enabled sockd-inetd.path: enabled" \
    test "$(systemctl is-enabled sockd-inetd.path 2>&1)" = enabled
for u in sockd.service sockd-inetd.path sockd-inetd.service; do
	silent "systemd-analyze verify $u prints nothing" \
	    systemd-analyze verify /lib/systemd/system/$u
done
# The spawner's capabilities and system calls cost 0.4 over the 1.6 of
# the unit without exec services (sockd.8, PRIVILEGE SEPARATION).
run "systemd-analyze security: exposure <= 2.0 ($(systemd-analyze security \
    --offline=yes /lib/systemd/system/sockd.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: //p'))" \
    systemd-analyze security --offline=yes --threshold=20 \
    /lib/systemd/system/sockd.service
run "systemd-analyze security sockd-inetd.service: exposure <= 1.0" \
    systemd-analyze security --offline=yes --threshold=10 \
    /lib/systemd/system/sockd-inetd.service
run "sockd -V: sockd $V" test "$(/usr/sbin/sockd -V 2>&1)" = "sockd $V"
run "/usr/sbin/sockd -t" /usr/sbin/sockd -t
caps=+net_bind_service,+setuid,+setgid,+kill
asunit="setpriv --reuid _sockd --regid _sockd --init-groups \
    --inh-caps $caps --ambient-caps $caps \
    --bounding-set -all,$caps --no-new-privs"
run "sockd -t as _sockd (ExecStartPre)" $asunit /usr/sbin/sockd -t
run "pkg-config --modversion sockd: $V" \
    test "$(pkg-config --modversion sockd)" = "$V"
run "pkg-config --variable=handler_dir sockd: /usr/lib/$MA/sockd" \
    test "$(pkg-config --variable=handler_dir sockd)" = "/usr/lib/$MA/sockd"
# The page's mtime is the changelog's date, the same for every build: an
# index entry left by an earlier install would look current to "mandb -q".
run "apropos inetd finds sockd(8)" \
    sh -c "mandb -q -f /usr/share/man/man8/sockd.8.gz &&
    apropos inetd | grep -q '^sockd (8)'"

echo "== 4. the sockd-handler(3) example as a plugin"
plug=$(mktemp -d /tmp/sockd-plugin.XXXXXX)
chmod 0755 "$plug"
zcat /usr/share/man/man3/sockd-handler.3.gz |
    awk '/^\.Sh EXAMPLES/ { ex = 1 } ex && /^\.Ed/ { exit }
	ex && inlit { print } ex && /^\.Bd -literal$/ { inlit = 1 }' |
    sed 's/\\e/\\/g' > "$plug/rot13.c"
run "rot13.c builds: cc \$(pkg-config --cflags sockd) -shared -fPIC" \
    sh -c "cd $plug && cc \$(pkg-config --cflags sockd) -shared -fPIC \
    -o rot13.so rot13.c"
hdir=$(pkg-config --variable=handler_dir sockd)
run "rot13.so installs into handler_dir $hdir" \
    install -m 0644 "$plug/rot13.so" "$hdir/rot13.so"
cat > "$plug/default.conf" <<EOF
daemon: { user = "_sockd"; };
services = ( { name = "rot13"; port = 7013; bind = ["127.0.0.1"]; } );
EOF
chmod 0644 "$plug/default.conf"
run "sockd -t finds it there without handler_dir" \
    /usr/sbin/sockd -t -c "$plug/default.conf"
rm -f "$hdir/rot13.so"
cat > "$plug/rot13.conf" <<EOF
daemon: { handler_dir = "$plug"; user = "_sockd"; };
services = ( { name = "rot13"; port = 7013; protocol = ["tcp", "udp"];
    bind = ["127.0.0.1"]; options = { shift = 13; }; } );
EOF
chmod 0644 "$plug"/*
run "sockd -t loads the plugin" /usr/sbin/sockd -t -c "$plug/rot13.conf"

echo "== 5. run sockd as sockd.service does, in a private network namespace"
# probe [--rot13 | --dropin DIR] SOCKD-ARGS...: probe.py's PASS/FAIL
# lines, indented.
probe() {
	opt=""
	[ "${1:-}" = --rot13 ] && { opt=$1; shift; }
	[ "${1:-}" = --dropin ] && { opt="$1 $2"; shift 2; }
	unshare -n sh -c "ip link set lo up && /usr/bin/python3 \
	    $top/packaging/probe.py $opt -- $asunit /usr/sbin/sockd -f $*" \
	    > "$plug/probe.out" 2>&1
	rc=$?
	sed 's/^/    /' "$plug/probe.out"
	return $rc
}
probe --dropin /etc/sockd.d && pass "sockd -f with /etc/sockd.conf" ||
    bad "sockd -f with /etc/sockd.conf"
probe --rot13 -c "$plug/rot13.conf" && pass "sockd -f with the rot13 plugin" ||
    bad "sockd -f with the rot13 plugin"
rm -rf "$plug"

echo "== 5b. sockd -r as ExecReload runs it: a port in use fails the reload"
# reload_check SOCKD: in a private network namespace, sockd (as the unit
# runs it) on a config, then "sockd -r" of a config whose new port another
# process holds: exit 1 naming the port, and the old config still answers.
reload_check() {
	rdir=$(mktemp -d /tmp/sockd-reload.XXXXXX)
	chown _sockd:_sockd "$rdir" && chmod 0755 "$rdir"
	printf '%s\n' 'daemon: { user = "_sockd"; };' \
	    'services = ( { name = "echo"; bind = ["127.0.0.1"]; } );' \
	    > "$rdir/sockd.conf"
	chmod 0644 "$rdir/sockd.conf"
	unshare -n sh -c "ip link set lo up
	$asunit $1 -f -c $rdir/sockd.conf -P $rdir/sockd.pid \
	    2>$rdir/log &
	daemon=\$!
	for i in \$(seq 100); do
		[ -S $rdir/sockd.sock ] && grep -q ready $rdir/log && break
		sleep 0.1
	done
	$asunit $1 -r -P $rdir/sockd.pid || exit 11
	python3 -c 'import socket, time
s = socket.socket(); s.bind((\"127.0.0.1\", 9)); s.listen(); time.sleep(30)' &
	busy=\$!
	sleep 0.5
	sed -i 's/} );/}, { name = \"discard\"; bind = [\"127.0.0.1\"]; } );/' \
	    $rdir/sockd.conf
	$asunit $1 -r -P $rdir/sockd.pid 2>$rdir/r.err
	rc=\$?
	kill \$busy
	python3 -c 'import socket
s = socket.create_connection((\"127.0.0.1\", 7), 5); s.sendall(b\"hi\\n\")
assert s.recv(16) == b\"hi\\n\"' || exit 13
	kill \$daemon; wait \$daemon
	[ \$rc = 1 ] || exit 12
	grep -q 'Address already in use' $rdir/r.err || exit 14
	[ ! -e $rdir/sockd.sock ] || exit 15"
	rc=$?
	[ $rc = 0 ] || sed 's/^/    /' "$rdir/log" "$rdir/r.err" 2>/dev/null
	rm -rf "$rdir"
	return $rc
}
run "sockd -r: 0 for a good reload, 1 and the reason for a busy port" \
    reload_check /usr/sbin/sockd
# Under a running systemd (not in a plain container), through the unit.
if [ -d /run/systemd/system ] && systemctl is-active -q sockd; then
	cp /etc/sockd.conf /tmp/sockd.conf.saved
	python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 7681)); s.listen(); time.sleep(30)' &
	busy=$!
	sleep 0.5
	printf '%s\n' 'services = ( { name = "echo"; bind = ["127.0.0.1"]; },' \
	    '    { name = "upper"; port = 7681; bind = ["127.0.0.1"]; } );' \
	    > /etc/sockd.conf
	run "systemctl reload sockd fails for a port in use" \
	    sh -c '! systemctl reload sockd'
	kill $busy
	cp /tmp/sockd.conf.saved /etc/sockd.conf
	rm -f /tmp/sockd.conf.saved
	run "systemctl reload sockd after the fix" systemctl reload sockd
fi

echo "== 5c. update-inetd: a package registers /usr/bin/rev in /etc/inetd.conf"
# A package built here, as a package of Debian registers its service:
# update-inetd --add in its postinst, --disable on remove and --remove on
# purge.  qotd is in /etc/services (port 17) and sockd serves no qotd.
tiny_deb sockd-check-rev "Depends: update-inetd" \
    postinst 'update-inetd --add "qotd\tstream\ttcp\tnowait\tnobody\t/usr/bin/rev\trev"' \
    postrm 'case "$1" in
remove) update-inetd --disable qotd ;;
purge) update-inetd --remove qotd ;;
esac'
# An exec service that shows what its child holds, run as nobody.
printf '%s\n' 'services = ( { name = "capcheck"; port = 7101;' \
    '    protocol = "tcp"; handler = "exec"; options = {' \
    '    command = ["/bin/sh", "-c",' \
    '    "read line; grep ^Cap /proc/self/status; id -un"];' \
    '    user = "nobody"; }; } );' > /etc/sockd.d/zz-check-caps.conf
chmod 0644 /etc/sockd.d/zz-check-caps.conf
cp packaging/inetd-check.sh "$work/inetd-check.sh"
mkdir -p "$work/run" && chown _sockd:_sockd "$work/run"
unshare -n env WORK="$work" ASUNIT="$asunit" sh "$work/inetd-check.sh" \
    > "$work/inetd-check.out" 2>&1
sed 's/^/    /' "$work/inetd-check.out"
if grep -q '^PASS' "$work/inetd-check.out" &&
    ! grep -q '^FAIL' "$work/inetd-check.out"; then
	pass "update-inetd: add, disable, enable, remove, each after sockd -r"
else
	bad "update-inetd: add, disable, enable, remove, each after sockd -r"
	sed 's/^/    /' "$work/sockd.log" 2>/dev/null | tail -20
fi
rm -f /etc/sockd.d/zz-check-caps.conf
dpkg --purge sockd-check-rev >/dev/null 2>&1

echo "== 6. purge"
run "dpkg --purge sockd-dev sockd" dpkg --purge sockd-dev sockd
for f in /usr/sbin/sockd /etc/sockd.conf /lib/systemd/system/sockd.service \
    /etc/sockd.d \
    /etc/systemd/system/multi-user.target.wants/sockd.service \
    /usr/lib/sysusers.d/sockd.conf "/usr/lib/$MA/sockd" /usr/include/sockd \
    "/usr/lib/$MA/pkgconfig/sockd.pc" /usr/share/doc/sockd; do
	run "gone: $f" test ! -e "$f"
done
snap > /tmp/package-check.after
left=$(comm -13 /tmp/package-check.before /tmp/package-check.after)
run "no path naming sockd is left${left:+: $left}" test -z "$left"
run "gone: /etc/inetd.conf (no service was left in it)" \
    test ! -e /etc/inetd.conf
if [ -n "$supers" ]; then
	run "installed again: $supers" \
	    apt-get install -y -qq --no-install-recommends $supers
	supers=""
fi
rm -f /tmp/package-check.before /tmp/package-check.after
getent passwd _sockd >/dev/null &&
    echo "note: the _sockd user stays after purge, as Debian does for users"

if [ $fail -eq 0 ]; then
	echo "package-check: all passed"
else
	echo "package-check: FAILED"
fi
exit $fail
