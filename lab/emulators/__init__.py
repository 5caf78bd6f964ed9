"""Project-owned emulators: small servers for cloud APIs that have no obtainable local emulator.

Each module is runnable as ``python -m lab.emulators.<name> --port N`` and binds
127.0.0.1 only. Each implements just the API subset the lab uses, and is tested
against the cloud's real SDK over the wire (``tests/lab/emulators/``). What each
one enforces and what it does not is listed in its module docstring and in
``ingestion/azure/README.md`` (fidelity table).

This file holds the two helpers the HTTP emulators share (argument parsing and a
threaded HTTP(S) server on the loopback interface); why not a framework: the
standard library's ``http.server`` is enough for a handful of JSON routes and
adds no dependency.
"""
from __future__ import annotations

import argparse
import json
import signal
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"

#: The Event Hubs emulator's SAS policy: obviously fake, named so. Kept here (stdlib-only module)
#: so lab.localcloud can name it without importing the emulator and its AMQP codec.
FAKE_EVENTHUBS_KEY_NAME = "FakeEmulatorKeyName"
FAKE_EVENTHUBS_KEY = "fake-emulator-key"


def emulator_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the flag every emulator takes (``--port``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on (127.0.0.1 only)")
    return parser


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler with JSON helpers and quiet, one-line logs."""

    protocol_version = "HTTP/1.1"
    server_version = "lab-emulator/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        sys.stderr.write(f"{self.command} {self.path.split('?')[0]} -> {args[1] if len(args) > 1 else ''}\n")

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def read_json(self) -> dict[str, Any]:
        body = self.read_body()
        if not body:
            return {}
        value = json.loads(body)
        if not isinstance(value, dict):
            raise ValueError("request body must be a JSON object")
        return value

    def send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def serve(handler: type[BaseHTTPRequestHandler], port: int, tls: tuple[Path, Path] | None = None,
          **attrs: Any) -> None:
    """Serve handler on 127.0.0.1:port until SIGTERM/SIGINT; HTTPS when tls=(cert, key) is given."""
    server = ThreadingHTTPServer((LOOPBACK, port), handler)
    server.daemon_threads = True
    for name, value in attrs.items():
        setattr(server, name, value)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
