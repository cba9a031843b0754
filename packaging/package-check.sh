#!/bin/sh
# package-check: the Debian package from build to purge, as root on a
# Debian 12 machine (no systemd needed: the unit is checked offline and the
# binary is started the way the unit starts it).
#   1. make deb (git archive HEAD), blhc on the build log
#   2. lintian --fail-on error,warning, the man page lint
#   3. apt-get install ./sockd_*.deb ./sockd-dev_*.deb; files, conffile,
#      README.Debian and the examples (each passes sockd -t), Provides
#      sockd-abi-N, _sockd, unit enabled, systemd-analyze verify and
#      security, sockd -t, apropos inetd
#   4. the sockd-handler(3) example built with pkg-config, installed in its
#      handler_dir and loaded
#   5. sockd -f as _sockd with CAP_NET_BIND_SERVICE only, in a private
#      network namespace: sd_notify, echo, daytime (UDP), upper, reload, stop
#   6. dpkg --purge: nothing of the package is left
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

need="build-essential debhelper lintian mandoc man-db blhc python3 pkgconf"
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
run "apt-get install ./sockd_${V}_$A.deb ./sockd-dev_${V}_$A.deb" \
    apt-get install -y -qq "$DEB" "$DEV"

for f in /usr/sbin/sockd /etc/sockd.conf /lib/systemd/system/sockd.service \
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
for f in /usr/share/doc/sockd/examples/*.conf; do
	run "sockd -t -c $f" /usr/sbin/sockd -t -c "$f"
done
run "README.Debian says how to check, reload and turn services off" \
    sh -c 'grep -q "sockd -t" /usr/share/doc/sockd/README.Debian &&
    grep -q "systemctl reload sockd" /usr/share/doc/sockd/README.Debian &&
    grep -q "enabled = false" /usr/share/doc/sockd/README.Debian'
run "dpkg -s sockd: Provides: sockd-abi-$ABI" \
    test "$(dpkg-query -W -f='${Provides}' sockd)" = "sockd-abi-$ABI"
run "installed: handler_dir /usr/lib/$MA/sockd" test -d "/usr/lib/$MA/sockd"
run "mode 0755 /usr/sbin/sockd" \
    test "$(stat -c %a /usr/sbin/sockd)" = 755
run "conffile /etc/sockd.conf" \
    sh -c "dpkg-query -W -f='\${Conffiles}' sockd | grep -q ' /etc/sockd.conf '"
run "user _sockd: $(getent passwd _sockd)" getent passwd _sockd
run "systemctl is-enabled sockd: enabled" \
    test "$(systemctl is-enabled sockd 2>&1)" = enabled
silent "systemd-analyze verify sockd.service prints nothing" \
    systemd-analyze verify /lib/systemd/system/sockd.service
run "systemd-analyze security: exposure <= 2.0 ($(systemd-analyze security \
    --offline=yes /lib/systemd/system/sockd.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: //p'))" \
    systemd-analyze security --offline=yes --threshold=20 \
    /lib/systemd/system/sockd.service
run "sockd -V: sockd $V" test "$(/usr/sbin/sockd -V 2>&1)" = "sockd $V"
run "/usr/sbin/sockd -t" /usr/sbin/sockd -t
asunit="setpriv --reuid _sockd --regid _sockd --init-groups \
    --inh-caps +net_bind_service --ambient-caps +net_bind_service \
    --bounding-set -all,+net_bind_service --no-new-privs"
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
# probe [--rot13] SOCKD-ARGS...: probe.py's PASS/FAIL lines, indented.
probe() {
	opt=""
	[ "${1:-}" = --rot13 ] && { opt=$1; shift; }
	unshare -n sh -c "ip link set lo up && /usr/bin/python3 \
	    $top/packaging/probe.py $opt -- $asunit /usr/sbin/sockd -f $*" \
	    > "$plug/probe.out" 2>&1
	rc=$?
	sed 's/^/    /' "$plug/probe.out"
	return $rc
}
probe && pass "sockd -f with /etc/sockd.conf" ||
    bad "sockd -f with /etc/sockd.conf"
probe --rot13 -c "$plug/rot13.conf" && pass "sockd -f with the rot13 plugin" ||
    bad "sockd -f with the rot13 plugin"
rm -rf "$plug"

echo "== 6. purge"
run "dpkg --purge sockd-dev sockd" dpkg --purge sockd-dev sockd
for f in /usr/sbin/sockd /etc/sockd.conf /lib/systemd/system/sockd.service \
    /etc/systemd/system/multi-user.target.wants/sockd.service \
    /usr/lib/sysusers.d/sockd.conf "/usr/lib/$MA/sockd" /usr/include/sockd \
    "/usr/lib/$MA/pkgconfig/sockd.pc" /usr/share/doc/sockd; do
	run "gone: $f" test ! -e "$f"
done
snap > /tmp/package-check.after
left=$(comm -13 /tmp/package-check.before /tmp/package-check.after)
run "no path naming sockd is left${left:+: $left}" test -z "$left"
rm -f /tmp/package-check.before /tmp/package-check.after
getent passwd _sockd >/dev/null &&
    echo "note: the _sockd user stays after purge, as Debian does for users"

if [ $fail -eq 0 ]; then
	echo "package-check: all passed"
else
	echo "package-check: FAILED"
fi
exit $fail
