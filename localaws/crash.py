"""Crashes the client mid-operation, for the crash tests: `GET /localaws/crash/<n>` arms it, and
after the n-th following AWS request has been *processed* (its effect is in the emulator; its
response never arrives), the process that sent it is killed with SIGKILL. The test then runs
the same Terraform command again and checks that it converges with nothing duplicated or
orphaned. Only a process named `terraform-provider-*` is ever killed."""

import glob
import os
import signal
import threading

from .wsgi import Response

_lock = threading.Lock()
_left = None
_killed = []


def control(path):
    """`/localaws/crash/<n>` arms the crash, `/localaws/crash/disarm` disarms it, and
    `/localaws/crash` reports the PIDs killed since the last report."""
    global _left
    tail = path.rsplit("/", 1)[-1]
    with _lock:
        if tail.isdigit() or tail == "disarm":
            _left = int(tail) if tail.isdigit() else None
            return Response(200, [("Content-Type", "text/plain")], b"")
        body = ",".join(str(p) for p in _killed)
        _killed.clear()
    return Response(200, [("Content-Type", "text/plain")], body.encode())


def reset():
    global _left
    with _lock:
        _left = None
        _killed.clear()


def after(request):
    """Counts a processed AWS request; kills its sender when the armed count is reached."""
    global _left
    if request.path.startswith("/moto-api") or request.path.startswith("/localaws"):
        return
    with _lock:
        if _left is None:
            return
        _left -= 1
        if _left > 0:
            return
        _left = None
    pid = _sender(request.environ)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        with _lock:
            _killed.append(pid)


def _sender(environ):
    """The local process whose TCP connection carries this request."""
    client_port = int(environ.get("REMOTE_PORT") or 0)
    server_port = int(environ.get("SERVER_PORT") or 0)
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) == client_port and int(remote.rsplit(":", 1)[1], 16) == server_port:
                inode = fields[9]
                break
        if inode:
            break
    if not inode:
        return None
    target = f"socket:[{inode}]"
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        try:
            if os.readlink(fd) != target:
                continue
        except OSError:
            continue
        pid = int(fd.split("/")[2])
        try:
            name = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        if name.startswith("terraform-provi"):
            return pid
    return None
