"""The one way the tests start servers: gunicorn serving Plaza, and localstripe.

Every server starts in its own session on a free 127.0.0.1 port, and is ready when
:func:`app.devservices.wait_port` (the one port-waiting helper) sees the port accept connections;
:func:`stop` terminates it (SIGKILL after 10 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from app.devservices import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]
LOCALSTRIPE = Path(sys.executable).with_name("localstripe")

__all__ = ["ROOT", "Gunicorn", "free_port", "running_gunicorn", "running_localstripe", "start_gunicorn",
           "start_localstripe", "stop", "wait_port"]


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate ``proc`` (SIGTERM), then SIGKILL it when it has not exited after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def _start(argv: list[str], port: int, timeout: float, **popen) -> subprocess.Popen:
    """Start ``argv`` in its own session and wait for ``port``; kills it and raises ``RuntimeError``
    when the port does not open within ``timeout`` seconds."""
    proc = subprocess.Popen(argv, start_new_session=True, **popen)
    try:
        wait_port(port, timeout)
    except RuntimeError:
        proc.kill()
        proc.wait(10)
        raise RuntimeError(f"{Path(argv[0]).name} {' '.join(argv[1:3])} did not start on port {port}") from None
    return proc


@dataclass
class Gunicorn:
    """A running gunicorn serving ``wsgi:app`` on 127.0.0.1:``port``."""

    proc: subprocess.Popen
    port: int

    def url(self, host: str = "localhost") -> str:
        """Base URL on ``host`` (``localhost`` is the apex; ``bella.localhost`` a business)."""
        return f"http://{host}:{self.port}"

    def kill(self) -> None:
        """SIGKILL the whole process group (no graceful goodbye to the clients)."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Terminate gracefully (kill after 10 s)."""
        stop(self.proc)


def start_gunicorn(services: Mapping[str, str], *, port: int | None = None, worker: str = "gthread",
                   threads: int = 32, public_port: int | None = None, env: Mapping[str, str] | None = None,
                   timeout: float = 30.0) -> Gunicorn:
    """Plaza under gunicorn with ONE worker (as in production: Socket.IO needs every request of a
    session on the same process), ``gthread`` with ``threads`` threads or ``gevent`` (1000
    connections). Its environment: this process's, the ``services`` settings (upper-case keys),
    ``PORT``/``PUBLIC_PORT``, rate limits off, then ``env``.

    Raises:
        RuntimeError: gunicorn did not accept connections within ``timeout`` seconds.
    """
    port = port or free_port()
    kind = ["-k", "gevent", "--worker-connections", "1000"] if worker == "gevent" else [
        "-k", "gthread", "--threads", str(threads)]
    full_env = {**os.environ, **{k: v for k, v in services.items() if k.isupper()}, "PORT": str(port),
                "PUBLIC_PORT": str(public_port or port), "RATELIMIT_ENABLED": "false", **(env or {})}
    proc = _start([sys.executable, "-m", "gunicorn", *kind, "-w", "1", "-b", f"127.0.0.1:{port}",
                   "--log-level", "warning", "wsgi:app"], port, timeout, cwd=ROOT, env=full_env)
    return Gunicorn(proc, port)


@contextmanager
def running_gunicorn(services: Mapping[str, str], **options) -> Iterator[Gunicorn]:
    """:func:`start_gunicorn` for the block (same ``options``); stopped afterwards."""
    server = start_gunicorn(services, **options)
    try:
        yield server
    finally:
        server.stop()


def start_localstripe(port: int | None = None, timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """``localstripe --port <port> --from-scratch`` (output discarded); returns the process and its
    base URL ``http://127.0.0.1:<port>``.

    Raises:
        RuntimeError: localstripe did not accept connections within ``timeout`` seconds.
    """
    port = port or free_port()
    proc = _start([str(LOCALSTRIPE), "--port", str(port), "--from-scratch"], port, timeout, cwd=ROOT,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


@contextmanager
def running_localstripe() -> Iterator[str]:
    """localstripe for the block; yields its base URL ``http://127.0.0.1:<port>``."""
    proc, url = start_localstripe()
    try:
        yield url
    finally:
        stop(proc)
