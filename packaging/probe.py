#!/usr/bin/python3
"""Start an installed sockd the way sockd.service does and probe it.

Run as root inside a private network namespace (package-check.sh does
"unshare -n"), so that the well-known ports are free whatever else runs on
the machine.  Usage: probe.py [--rot13] -- COMMAND...; with --rot13 the
only service probed is the sockd-handler(3) example plugin on port 7013.
COMMAND starts sockd in the foreground; NOTIFY_SOCKET is set for it, and
the script checks what systemd would see: READY=1 once listening,
RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 and exit status 0 on
SIGTERM.  With --dropin DIR (before --) it also drops a service file
into DIR, checks it with COMMAND's sockd -t, reloads and probes the
service, then removes the file, reloads and checks the service is gone.
It prints PASS/FAIL lines and exits 1 if any check failed.
"""

import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time

failed = 0


def report(ok, what, detail=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + what +
          ("" if ok or not detail else " (" + detail + ")"), flush=True)
    if not ok:
        failed = 1


def notify_wait(sock, want, timeout=15.0):
    """Collects notify datagrams until one holds every line of want."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            msg = sock.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            break
        seen.append(msg)
        lines = msg.split("\n")
        if all(any(l == w or (w.endswith("=") and l.startswith(w))
                   for l in lines) for w in want):
            return True, seen
    return False, seen


def tcp_roundtrip(host, port, data, timeout=5.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def udp_roundtrip(host, port, data, timeout=3.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, (host, port))
        return s.recv(65536)


def reload(proc, ns, what):
    proc.send_signal(signal.SIGHUP)
    ok, seen = notify_wait(ns, ["READY=1"])
    ok = ok and not any("failed" in m for m in seen)
    report(ok, "sd_notify READY=1 after " + what, "got %r" % seen)


def probe_dropin(proc, ns, args, dropin):
    """A service added and removed through a drop-in file in dropin."""
    path = os.path.join(dropin, "50-probe.conf")
    # The check the unit's ExecReload runs: the same user, -t for -f.
    check = [a for a in args if a != "-f"] + ["-t"]
    try:
        with open(path, "w") as f:
            f.write('services = (\n  { name = "probe-upper"; '
                    'handler = "upper"; port = 7681;\n'
                    '    bind = ["127.0.0.1"]; }\n);\n')
        os.chmod(path, 0o644)
        r = subprocess.run(check, capture_output=True, text=True,
                           timeout=30)
        report(r.returncode == 0 and r.stdout == "configuration OK\n",
               "sockd -t with %s" % path, r.stdout + r.stderr)
        reload(proc, ns, "adding " + path)
        try_check("drop-in service tcp 127.0.0.1:7681",
                  lambda: tcp_roundtrip("127.0.0.1", 7681, b"drop-in\n"),
                  b"DROP-IN\n")
    finally:
        if os.path.exists(path):
            os.unlink(path)
    reload(proc, ns, "removing " + path)
    try:
        tcp_roundtrip("127.0.0.1", 7681, b"x\n")
        report(False, "drop-in service gone after its file is removed",
               "port 7681 still answers")
    except ConnectionRefusedError:
        report(True, "drop-in service gone after its file is removed")
    except OSError as e:
        report(False, "drop-in service gone after its file is removed",
               str(e))


def try_check(what, fn, want):
    try:
        got = fn()
        report(got == want, what, "got %r, want %r" % (got, want))
    except OSError as e:
        report(False, what, str(e))


def main():
    args = sys.argv[1:]
    rot13 = args[:1] == ["--rot13"]
    if rot13:
        args = args[1:]
    dropin = None
    if args[:1] == ["--dropin"] and len(args) > 1:
        dropin = args[1]
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]

    tmp = tempfile.mkdtemp(prefix="sockd-probe.")
    os.chmod(tmp, 0o755)
    path = os.path.join(tmp, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    os.chmod(path, 0o777)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    log = open(os.path.join(tmp, "stderr"), "w+")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=log)

    ok, seen = notify_wait(ns, ["READY=1"])
    report(ok, "sd_notify READY=1 after start", "got %r" % seen)
    if not ok:
        time.sleep(1)   # no notify: give the listeners a moment anyway
    report(proc.poll() is None, "sockd is running")

    if proc.poll() is None:
        with open("/proc/%d/status" % proc.pid) as f:
            uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
        user = pwd.getpwuid(int(uid)).pw_name
        report(user == "_sockd", "sockd runs as _sockd", "runs as " + user)

    if rot13:
        try_check("rot13 plugin (the sockd-handler(3) example) tcp :7013",
                  lambda: tcp_roundtrip("127.0.0.1", 7013, b"Hello\n"),
                  b"Uryyb\n")
        try_check("rot13 plugin udp :7013",
                  lambda: udp_roundtrip("127.0.0.1", 7013, b"Uryyb"),
                  b"Hello")
    else:
        probe_services(proc, ns)
    if dropin is not None and proc.poll() is None:
        probe_dropin(proc, ns, args, dropin)
    stop(proc, ns)
    log.seek(0)
    text = log.read()
    print("--- sockd stderr (%d lines) ---" % len(text.splitlines()))
    print("\n".join(text.splitlines()[-25:]))
    ns.close()
    os.unlink(path)
    log.close()
    os.unlink(os.path.join(tmp, "stderr"))
    os.rmdir(tmp)
    sys.exit(failed)


def probe_services(proc, ns):
    try_check("echo tcp 127.0.0.1:7",
              lambda: tcp_roundtrip("127.0.0.1", 7, b"hello sockd\r\n"),
              b"hello sockd\r\n")
    try_check("echo tcp [::1]:7",
              lambda: tcp_roundtrip("::1", 7, b"hello v6\n"), b"hello v6\n")
    try_check("echo udp 127.0.0.1:7",
              lambda: udp_roundtrip("127.0.0.1", 7, b"ping"), b"ping")
    year = time.strftime("%Y").encode()
    try_check("daytime udp 127.0.0.1:13 '%Y'",
              lambda: udp_roundtrip("127.0.0.1", 13, b"%Y"), year)
    line = "héllo мир\n".encode()
    try_check("upper tcp 127.0.0.1:7680",
              lambda: tcp_roundtrip("127.0.0.1", 7680, line),
              "HÉLLO МИР\n".encode())

    if proc.poll() is None:
        proc.send_signal(signal.SIGHUP)
        ok, seen = notify_wait(ns, ["RELOADING=1", "MONOTONIC_USEC="])
        report(ok, "sd_notify RELOADING=1 + MONOTONIC_USEC on SIGHUP",
               "got %r" % seen)
        ok, seen = notify_wait(ns, ["READY=1"])
        report(ok, "sd_notify READY=1 after reload", "got %r" % seen)
        try_check("echo tcp 127.0.0.1:7 after reload",
                  lambda: tcp_roundtrip("127.0.0.1", 7, b"again\n"),
                  b"again\n")
        proc.send_signal(signal.SIGUSR1)


def stop(proc, ns):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        ok, seen = notify_wait(ns, ["STOPPING=1"])
        report(ok, "sd_notify STOPPING=1 on SIGTERM", "got %r" % seen)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "killed after 20 s"
        report(rc == 0, "SIGTERM: exit status 0", "status %s" % rc)
    else:
        report(False, "sockd still running at the end",
               "exit status %s" % proc.returncode)


if __name__ == "__main__":
    main()
