"""The sandbox's HTTP transport: a threading HTTP server on loopback.

``start_sandbox`` runs the server in a background thread and returns a
``RunningSandbox``; ``serve_forever`` runs it in the foreground for the
``provisioner sandbox`` command. The server speaks HTTP/1.1 with keep-alive, and can
reset or close a connection without responding, which the fault options need.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import structlog

from provisioner.sandbox.app import SandboxApp
from provisioner.sandbox.endpoints import API_PREFIX
from provisioner.sandbox.messages import ApiRequest, Reply
from provisioner.sandbox.options import SandboxOptions

log = structlog.get_logger("provisioner.sandbox")

#: Seconds an idle keep-alive connection stays open.
IDLE_CONNECTION_TIMEOUT_SECONDS = 30.0
#: Largest request body the sandbox reads; B2B bodies of ten users are far smaller.
MAX_BODY_BYTES = 1_000_000


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops its connection (as the fault tests make them do) is
        # routine here, so it gets one log line instead of a printed traceback.
        error = sys.exc_info()[1]
        log.debug("sandbox_connection_error", error=type(error).__name__)

    def close_connections(self) -> None:
        """Shut down every open connection, so no handler thread waits on one."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "B2BSandbox/1.0"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT_SECONDS
    # Headers and body go out in two writes. Without TCP_NODELAY, Nagle's algorithm
    # then holds the body until the client's delayed ACK (40 ms or more on Linux).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        # Requests are logged through structlog when log_requests is on.
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes | None:
        """Return the request body, or None when its length is missing or invalid."""
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            # A chunked body cannot be skipped without decoding it, so the
            # connection is closed after the response.
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            return None if chunked else b""
        try:
            length = int(length_text)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length)

    def _dispatch(self) -> None:
        app = self.server.app
        body = self._read_body()
        if body is None:
            self.close_connection = True
            message = (
                b'{"error": "The sandbox needs a Content-Length header of at most '
                + str(MAX_BODY_BYTES).encode()
                + b' bytes; chunked bodies are not supported."}'
            )
            self._send(Reply(411, message))
            return
        parts = urlsplit(self.path)
        request = ApiRequest(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            client_host=self.client_address[0],
        )
        is_api = parts.path.startswith(API_PREFIX)
        admitted = app.gate.enter() if is_api else True
        try:
            reply = app.handle(request, admitted=admitted)
            if app.options.log_requests and is_api:
                log.info(
                    "sandbox_request",
                    method=request.method,
                    path=request.path,
                    status=reply.status,
                    action=reply.action,
                )
            self._carry_out(reply)
        finally:
            if is_api and admitted:
                app.gate.leave()

    def _carry_out(self, reply: Reply) -> None:
        if reply.action == "reset":
            # A zero linger time makes close() send a TCP reset instead of a FIN.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.close_connection = True
            # The descriptor closes once the handler's file objects close, before
            # the server would send its FIN.
            self.connection.close()
            return
        if reply.action == "close":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.action == "slow" and self.server.stopping.wait(reply.delay_seconds):
            self.close_connection = True
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError) as exc:
            # The client gave up, for example after its read timeout.
            self.close_connection = True
            if self.server.app.options.log_requests:
                log.info(
                    "sandbox_client_disconnected", status=reply.status, error=str(exc)
                )


class RunningSandbox:
    """A sandbox server running in a background thread; also a context manager."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        host, port = _address(server)
        self.url = f"http://{host}:{port}"
        self.base_url = f"{self.url}{API_PREFIX}"
        self.admin_url = f"{self.url}/__sandbox"

    def __repr__(self) -> str:
        return f"RunningSandbox(base_url={self.base_url!r})"

    @property
    def app(self) -> SandboxApp:
        return self._server.app

    @property
    def options(self) -> SandboxOptions:
        """The options in force now, runtime changes included."""
        return self._server.app.options

    @property
    def token(self) -> str | None:
        """The token the sandbox accepts now; None after ``revoke_token``."""
        return self._server.app.token

    def created_counts(self) -> dict[str, int]:
        """Return how many times each email (casefolded) was created through the API."""
        return self._server.app.store.created_counts()

    def created_users(self) -> list[dict[str, Any]]:
        """Return every user created through the API, in the order of creation."""
        return self._server.app.store.created_users()

    def stats(self) -> dict[str, Any]:
        """Return the counters that ``GET /__sandbox/stats`` shows."""
        return self._server.app.stats_json()

    def set_options(self, **changes: Any) -> None:
        """Change options at runtime; raise ValueError if a change is invalid."""
        self._server.app.set_options(changes)

    def revoke_token(self) -> None:
        """Make every request fail with 401 until ``set_token`` is called."""
        self._server.app.set_token(None)

    def set_token(self, token: str) -> None:
        self._server.app.set_token(token)

    def reset(self) -> None:
        """Go back to the seed and clear every counter and the rate window."""
        self._server.app.reset()

    def stop(self) -> None:
        """Stop the server and close its connections; calling it twice is harmless."""
        if self._server.stopping.is_set():
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _address(server: _Server) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), int(port)


def _bind(options: SandboxOptions) -> _Server:
    app = SandboxApp(options)
    return _Server((options.host, options.port), app)


def start_sandbox(options: SandboxOptions | None = None) -> RunningSandbox:
    """Start a sandbox in a background thread and return once it accepts requests.

    Raises ``SeedError`` for an invalid seed file and ``OSError`` when the port is
    taken.
    """
    server = _bind(options or SandboxOptions())
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="b2b-sandbox",
        daemon=True,
    )
    thread.start()
    return RunningSandbox(server, thread)


def serve_forever(options: SandboxOptions) -> None:
    """Run a sandbox in the foreground until Ctrl+C; print its URL first."""
    server = _bind(options)
    host, port = _address(server)
    base_url = f"http://{host}:{port}{API_PREFIX}"
    token_note = (
        f"token {options.token!r}"
        if options.token == SandboxOptions().token
        else "the token given with --token"
    )
    print(f"B2B sandbox listening on {base_url}", flush=True)
    print(
        f"Authenticate with {token_note} and store hash {options.store_hash!r}; "
        f"admin endpoints at http://{host}:{port}/__sandbox/. Press Ctrl+C to stop.",
        flush=True,
    )
    log.info("sandbox_started", url=base_url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.close_connections()
        server.server_close()
        log.info("sandbox_stopped", url=base_url)
