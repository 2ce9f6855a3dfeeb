"""Probes of the cluster's processes and ports (standard library only): free ports, whether a
port answers or a PID runs, polling for a condition, and one raw Redis/Sentinel command."""

import contextlib
import os
import socket
import time
from pathlib import Path


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int | None) -> bool:
    """Running and not a zombie (a child of ours that exited and was not reaped yet)."""
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child and has exited
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition, seconds: float, what: str, log: Path | None = None) -> float:
    """Poll ``condition`` until true; the seconds it took. Raises with the log's tail."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what}: not within {seconds}s\n{tail}")


def redis_command(port: int, *args: str, timeout: float = 1.0) -> str:
    """One command over RESP to a Redis or Sentinel on loopback; the raw reply as text."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload.encode())
        chunks = b""
        sock.settimeout(timeout)
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks += chunk
            if _resp_complete(chunks):
                break
    return chunks.decode(errors="replace")


def _resp_complete(data: bytes) -> bool:
    """Whether ``data`` holds one whole RESP reply (the kinds INFO/ROLE/SENTINEL send)."""

    def walk(at: int) -> int:
        end = data.find(b"\r\n", at)
        if end < 0:
            return -1
        kind, head = data[at : at + 1], data[at + 1 : end]
        if kind in (b"+", b"-", b":"):
            return end + 2
        if kind == b"$":
            size = int(head)
            stop = end + 2 + max(size, 0) + (2 if size >= 0 else 0)
            return stop if len(data) >= stop else -1
        if kind == b"*":
            at = end + 2
            for _ in range(max(int(head), 0)):
                at = walk(at)
                if at < 0:
                    return -1
            return at
        return len(data)

    return walk(0) >= 0
