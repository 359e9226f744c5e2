"""localstripe (a stateful fake Stripe) as a subprocess on a free loopback port, for
any test module that needs it: ``with running_localstripe() as url: ...``."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import Request, urlopen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_localstripe(timeout: float = 20):
    port = free_port()
    binary = Path(sys.executable).with_name("localstripe")
    # localstripe pickles its state to a fixed name in the temp folder: each instance
    # gets a folder of its own, so parallel test workers never share a state file.
    state = tempfile.TemporaryDirectory(prefix="localstripe-")
    process = subprocess.Popen([str(binary), "--port", str(port), "--from-scratch"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TMPDIR": state.name})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        state.cleanup()


def reset(url: str) -> None:
    urlopen(Request(f"{url}/_config/data", method="DELETE"), timeout=10).close()


def register_webhook(url: str, target: str, secret: str, name: str = "onewindow") -> None:
    body = urlencode({"url": target, "secret": secret}).encode()
    urlopen(Request(f"{url}/_config/webhooks/{name}", data=body, method="POST"),
            timeout=10).close()
