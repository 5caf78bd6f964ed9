"""A TCP path to a service that the test can cut and restore: a real network outage.

Why hand-written: the fault we need is "the endpoint stops answering, then comes
back on the same address" without touching the emulator's state (moto and the
Pub/Sub emulator keep everything in memory, so killing them would also lose the
data). A forwarder on 127.0.0.1 that closes its listener and resets every open
connection gives the SDKs exactly what an outage gives them: connection refused
and connections reset mid-request. No library offers this in-process
(toxiproxy is a separate Go server).
"""
from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress

from lab.localcloud.base import LOOPBACK, free_port


class Outage:
    """Forward 127.0.0.1:<port> to 127.0.0.1:<target>; ``cut()`` / ``restore()`` the path."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.cuts = 0
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    @property
    def url(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def restore(self) -> None:
        """Accept connections again on the same port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset every open one (RST, as a dropped path does)."""
        self.cuts += 1
        with self._lock:
            if self._listener is not None:
                with suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for conn in self._conns:
                with suppress(OSError):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
            self._conns.clear()

    def close(self) -> None:
        self.cut()
        self.cuts -= 1

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((LOOPBACK, self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
