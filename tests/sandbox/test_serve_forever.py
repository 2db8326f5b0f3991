"""serve_forever: the foreground sandbox behind the `provisioner sandbox` command."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

from .helpers import AUTH_HEADERS

SCRIPT = (
    "from provisioner.sandbox import SandboxOptions, serve_forever\n"
    "serve_forever(SandboxOptions())\n"
)


def test_serve_forever_prints_url_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        base_url = first_line.removeprefix("B2B sandbox listening on ").strip()
        with httpx.Client(base_url=base_url, headers=AUTH_HEADERS) as client:
            status = client.get("/users").status_code
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert first_line.startswith("B2B sandbox listening on http://127.0.0.1:")
    assert base_url.endswith("/api/v3/io")
    assert status == 200
    assert process.returncode == 0
    assert "Traceback" not in stderr
