"""A TCP forwarder that a test can cut and restore, to take an endpoint away and back.

The endpoint behind it (moto) keeps its state; clients see connections refused
while the proxy is down, then the same address working again. It can also stay
up and answer every request with HTTP 500, the other face of an outage. Plain
threads and blocking sockets, so cutting it never disturbs the test's event loop.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._failing = False
        self.answered_500 = 0
        """How many requests were answered with HTTP 500 so far."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def answer_500(self) -> None:
        """Keep listening, but answer every request on a new connection with HTTP 500; drop the open ones."""
        self._failing = True
        self._drop_open()

    def forward_again(self) -> None:
        """Back to forwarding, after `answer_500`."""
        self._failing = False

    def cut(self) -> None:
        """Stop listening and drop every open connection."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        self._drop_open()

    def _drop_open(self) -> None:
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._failing:
                threading.Thread(target=self._answer_500, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _answer_500(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError), client:
            request = b""
            while b"\r\n\r\n" not in request and (chunk := client.recv(65536)):
                request += chunk
            head, _, body = request.partition(b"\r\n\r\n")
            headers = dict(line.lower().split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
            length = int(headers.get(b"content-length", b"0"))
            while len(body) < length and (chunk := client.recv(65536)):
                body += chunk
            self.answered_500 += 1
            text = b"Internal Server Error"
            client.sendall(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\nconnection: close\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(text), text)
            )

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
