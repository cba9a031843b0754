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
#   keeps serving, and "systemctl stop" with Result=success and status 0.
# The unit powers the container off; this script prints its report and exits
# 0 only when every check passed.  About a minute, mostly mmdebstrap.
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
mmdebstrap --quiet --variant=minbase --include="systemd,procps,$DEB" \
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
check "reload with a broken config is refused (ExecReload sockd -t)" \
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
cp /root/sockd.conf.good /etc/sockd.conf
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
timeout 180 systemd-nspawn --register=no --keep-unit --private-network \
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
