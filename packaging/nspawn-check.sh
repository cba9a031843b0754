#!/bin/sh
# nspawn-check: the packaged sockd under a real systemd, where
# package-check.sh (its step 5) only starts the binary as the unit would.
#
#   sudo sh packaging/nspawn-check.sh [path/to/sockd_VERSION_ARCH.deb]
#
# Builds a minimal bookworm root with mmdebstrap (the Debian mirror is the
# only network access), installs the .deb in it (default: the one "make deb"
# left in build/), boots it with systemd-nspawn on a private network, and
# lets a oneshot unit ordered after sockd.service check, inside:
#   the unit is active, its main process runs as _sockd, a TCP echo on
#   port 7, a UDP daytime "%Y" on port 13, a TCP upper on 7680, "systemctl
#   reload" (same main PID, still answering), a broken /etc/sockd.conf
#   refused by "systemctl reload" and by a bare SIGHUP while the old config
#   keeps serving, a reload onto a port in use failing "systemctl reload"
#   (sockd -r) and logged at priority err; exec services (rev as nobody,
#   a child with no capability, the event loops with none either, /
#   read-only to a child until a ReadWritePaths= drop-in), update-inetd
#   --add, --disable, --enable and --remove each reaching sockd through
#   sockd-inetd.path with no reload by hand; "systemctl stop" with
#   Result=success and status 0.
# The unit powers the container off; this script prints its report and exits
# 0 only when every check passed.  A few minutes, mostly mmdebstrap.
# MIRROR overrides the mirror; KEEP=1 keeps the root directory; PIUPARTS=1
# then also runs piuparts (install, purge, leftovers, as package-check.sh's
# steps 3 and 6 do on this machine, in a clean root) on the .deb and its
# sockd-dev sibling, about a minute more.
set -eu
cd "$(dirname "$0")/.." || exit 2
[ "$(id -u)" -eq 0 ] || { echo "nspawn-check: run as root" >&2; exit 2; }

V=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
A=$(dpkg --print-architecture)
DEB=$(realpath "${1:-build/sockd_${V}_$A.deb}")
[ -f "$DEB" ] || { echo "nspawn-check: no $DEB (make deb first)" >&2; exit 2; }
MIRROR=${MIRROR:-http://deb.debian.org/debian}

for t in mmdebstrap:mmdebstrap systemd-nspawn:systemd-container; do
	command -v "${t%%:*}" >/dev/null && continue
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	    "${t#*:}" >/dev/null
done

ROOT=$(mktemp -d /var/tmp/sockd-nspawn.XXXXXX)
rmdir "$ROOT"		# mmdebstrap wants to create it
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "root kept: $ROOT" || rm -rf "$ROOT"; }
trap cleanup EXIT

echo "== mmdebstrap bookworm + $(basename "$DEB")"
mmdebstrap --quiet --variant=minbase \
    --include="systemd,procps,update-inetd,$DEB" \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    bookworm "$ROOT" "deb $MIRROR bookworm main" </dev/null

cat > "$ROOT/usr/local/sbin/sockd-boot-check" <<'EOF'
#!/bin/bash
# Runs once at boot, after sockd.service; writes /sockd-check.result.
out=/sockd-check.result
fail=0
say() { echo "$*"; echo "$*" >> "$out"; }
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then say "PASS: $what"; else say "FAIL: $what"; fail=1; fi
}
tcp() {		# tcp PORT TEXT: one line back
	local l
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf '%s\n' "$2" >&3
	IFS= read -r -t 5 l <&3
	exec 3<&-
	printf '%s' "${l%$'\r'}"
}
udp() {		# udp PORT TEXT: one datagram back
	exec 3<>"/dev/udp/127.0.0.1/$1" || return 1
	printf '%s' "$2" >&3
	timeout 5 dd bs=2048 count=1 status=none <&3
	exec 3<&-
}
: > "$out"
for i in $(seq 30); do
	[ "$(systemctl is-active sockd)" = active ] && break
	sleep 1
done
check "sockd.service is active" test "$(systemctl is-active sockd)" = active
pid=$(systemctl show -P MainPID sockd)
check "main process $pid runs as _sockd" \
    test "$(ps -o user= -p "$pid")" = _sockd
check "tcp echo :7" test "$(tcp 7 hello)" = hello
check "udp daytime :13 %Y" test "$(udp 13 %Y)" = "$(date +%Y)"
check "tcp upper :7680" test "$(tcp 7680 'abc def')" = "ABC DEF"
check "systemctl reload" systemctl reload sockd
check "same main PID after reload" \
    test "$(systemctl show -P MainPID sockd)" = "$pid"
check "tcp echo :7 after reload" test "$(tcp 7 again)" = again
cp /etc/sockd.conf /root/sockd.conf.good
echo 'services = ( { name = "broken"; port = 0; } );' >> /etc/sockd.conf
check "reload with a broken config is refused (ExecReload sockd -r)" \
    bash -c '! systemctl reload sockd 2>/dev/null'
check "still active, same PID, still answering" \
    test "$(systemctl is-active sockd) $(systemctl show -P MainPID sockd) \
$(tcp 7 still)" = "active $pid still"
systemctl kill -s HUP --kill-whom=main sockd
for i in $(seq 20); do
	journalctl -q -u sockd -o cat | grep -q 'reload failed' && break
	sleep 0.5
done
check "SIGHUP with a broken config: sockd's own check refuses it" \
    bash -c "journalctl -q -u sockd -o cat | grep -q 'reload failed'"
check "still active, same PID, still answering" \
    test "$(systemctl is-active sockd) $(systemctl show -P MainPID sockd) \
$(tcp 7 still)" = "active $pid still"
# A port another process holds: only the daemon's bind finds out, and
# "sockd -r" (ExecReload) makes systemctl reload fail with it.
systemd-socket-activate -l 127.0.0.1:7681 sleep 60 >/dev/null 2>&1 &
busy=$!
sleep 1
printf '%s\n' 'services = ( { name = "echo"; bind = ["127.0.0.1"]; },' \
    '    { name = "upper"; port = 7681; bind = ["127.0.0.1"]; } );' \
    > /etc/sockd.conf
check "reload onto a port in use fails (ExecReload sockd -r)" \
    bash -c '! systemctl reload sockd 2>/dev/null'
check "journalctl -p err names the busy port" \
    bash -c "journalctl -q -u sockd -p err -o cat |
    grep -q 'cannot listen on tcp 127.0.0.1:7681'"
check "STATUS= says the reload failed" \
    bash -c "systemctl show -P StatusText sockd | grep -q 'reload failed'"
kill $busy
check "still active, same PID, still answering" \
    test "$(systemctl is-active sockd) $(systemctl show -P MainPID sockd) \
$(tcp 7 still)" = "active $pid still"
cp /root/sockd.conf.good /etc/sockd.conf
check "systemctl reload after the fix" systemctl reload sockd
# exec services: the spawner, the children's users and capabilities, the
# sandbox they share, and a drop-in that widens it.
tcp_all() {	# tcp_all PORT TEXT: everything until the server closes
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf '%s\n' "$2" >&3
	timeout 10 cat <&3 | tr -d '\r'
	exec 3<&-
}
answers() { test "$(tcp "$1" "$2")" = "$3"; }	# PORT TEXT REPLY
closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }	# PORT
until_ok() {	# until_ok SECONDS COMMAND...: retries every 0.2 s
	local end=$((SECONDS + $1)); shift
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1; sleep 0.2
	done
}
pid=$(systemctl show -P MainPID sockd)
check "the event loops hold no capability (CapEff 0)" \
    grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/$pid/status
check "setfsuid not refused: the spawner binds the sockets" \
    bash -c "! journalctl -q -u sockd -o cat | grep -q 'setfsuid refused'"
mkdir -p /srv/tftp && chown nobody:nogroup /srv/tftp
cat > /etc/sockd.d/exec.conf <<'EOT'
services = (
  { name = "rev"; port = 7100; protocol = "tcp"; handler = "exec";
    options = { command = ["/bin/sh", "-c", "read l; echo $l | rev"];
      user = "nobody"; }; },
  { name = "caps"; port = 7101; protocol = "tcp"; handler = "exec";
    options = { command = ["/bin/sh", "-c",
      "read line; id -un; grep -E '^Cap(Prm|Eff|Amb)' /proc/self/status"];
      user = "nobody"; }; },
  { name = "write"; port = 7102; protocol = "tcp"; handler = "exec";
    options = { command = ["/bin/sh", "-c",
      "read line; touch /srv/tftp/x 2>/dev/null && echo wrote || echo read-only"];
      user = "nobody"; }; }
);
EOT
check "systemctl reload with three exec services" systemctl reload sockd
check "exec rev as nobody: hello -> olleh" \
    test "$(tcp 7100 hello)" = olleh
check "an exec child: nobody, no capability" test "$(tcp_all 7101 x |
    tr -s ' \t\n' '   ')" = "nobody CapPrm: 0000000000000000 CapEff: 0000000000000000 CapAmb: 0000000000000000 "
check "an exec child finds / read-only (ProtectSystem=strict)" \
    test "$(tcp_all 7102 x)" = read-only
mkdir -p /etc/systemd/system/sockd.service.d
printf '[Service]\nReadWritePaths=/srv/tftp\n' \
    > /etc/systemd/system/sockd.service.d/tftp.conf
systemctl daemon-reload
check "systemctl restart sockd with ReadWritePaths=/srv/tftp" \
    systemctl restart sockd
until_ok 10 answers 7 up up
check "the drop-in lets the child write /srv/tftp" \
    test "$(tcp_all 7102 x)" = wrote
rm -f /etc/systemd/system/sockd.service.d/tftp.conf /etc/sockd.d/exec.conf
systemctl daemon-reload
check "systemctl restart sockd without them" systemctl restart sockd
until_ok 10 answers 7 up up
pid=$(systemctl show -P MainPID sockd)
# update-inetd, as Debian packages call it: no reload by hand, the path
# unit sees /etc/inetd.conf change.  /bin/cat, since these checks cannot
# half-close the connection to make rev flush its output.
check "sockd-inetd.path is active" \
    test "$(systemctl is-active sockd-inetd.path)" = active
check "update-inetd --add qotd (/bin/cat as nobody)" \
    update-inetd --add "qotd\tstream\ttcp\tnowait\tnobody\t/bin/cat\tcat"
check "qotd (17) answers within 10 s, no reload by hand" \
    until_ok 10 answers 17 hello hello
check "update-inetd --disable qotd" \
    sh -c 'update-inetd --disable qotd && grep -q "^#<off># qotd" /etc/inetd.conf'
check "qotd is closed within 10 s" until_ok 10 closed 17
check "update-inetd --enable qotd" \
    sh -c 'update-inetd --enable qotd &&
    grep -q "^qotd[[:space:]]" /etc/inetd.conf'
check "qotd answers again within 10 s" until_ok 10 answers 17 again again
check "update-inetd --remove qotd" update-inetd --remove qotd
check "qotd is gone within 10 s" until_ok 10 closed 17
check "same main PID through the update-inetd reloads" \
    test "$(systemctl show -P MainPID sockd)" = "$pid"
check "sockd-inetd.service never failed" \
    test "$(systemctl show -P Result sockd-inetd.service)" = success
check "systemctl stop" systemctl stop sockd
check "Result=success" test "$(systemctl show -P Result sockd)" = success
check "ExecMainStatus=0" \
    test "$(systemctl show -P ExecMainStatus sockd)" = 0
say "--- journalctl -u sockd"
journalctl -q -u sockd --no-pager -o cat |
    grep -v ': listening on \|: closing ' | tail -n 30 >> "$out"
[ $fail -eq 0 ] && say "SOCKD-NSPAWN-CHECK: PASS" || say "SOCKD-NSPAWN-CHECK: FAIL"
EOF
chmod 0755 "$ROOT/usr/local/sbin/sockd-boot-check"
cat > "$ROOT/etc/systemd/system/sockd-boot-check.service" <<'EOF'
[Unit]
Description=check the packaged sockd, then power off
After=sockd.service
Wants=sockd.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/sockd-boot-check
ExecStopPost=/bin/systemctl poweroff
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/sockd-boot-check.service \
    "$ROOT/etc/systemd/system/multi-user.target.wants/"

echo "== boot (systemd-nspawn, private network)"
timeout 300 systemd-nspawn --register=no --keep-unit --private-network \
    --console=pipe -q -D "$ROOT" -b >"$ROOT.console" 2>&1 || true
if [ ! -s "$ROOT/sockd-check.result" ]; then
	echo "FAIL: the check never ran; console:"
	tail -40 "$ROOT.console"
	rm -f "$ROOT.console"
	exit 1
fi
rm -f "$ROOT.console"
sed 's/^/    /' "$ROOT/sockd-check.result"
grep -q '^SOCKD-NSPAWN-CHECK: PASS$' "$ROOT/sockd-check.result"

if [ "${PIUPARTS:-0}" = 1 ]; then
	command -v piuparts >/dev/null || apt-get install -y -qq \
	    --no-install-recommends piuparts >/dev/null
	echo "== piuparts"
	mmdebstrap --quiet --variant=minbase --include=systemd bookworm \
	    "$ROOT.base.tgz" "deb $MIRROR bookworm main" </dev/null
	dev=$(dirname "$DEB")/sockd-dev_${V}_$A.deb
	rc=0
	piuparts -d bookworm -m "$MIRROR" -b "$ROOT.base.tgz" "$DEB" \
	    $( [ -f "$dev" ] && echo "$dev" ) > "$ROOT.piuparts" 2>&1 || rc=$?
	rm -f "$ROOT.base.tgz"
	tail -3 "$ROOT.piuparts" | sed 's/^/    /'
	rm -f "$ROOT.piuparts"
	[ $rc -eq 0 ]
fi
