"""The same operation served two ways on loopback: gRPC (HTTP/2 + protobuf) and HTTP/1.1 + JSON.

``OrderService`` knows the orders (deterministic, shaped like the lab's ``OrderPlaced`` event). Two
real servers expose it:

* ``grpc_server``: grpcio, with the messages and stubs of ``orders.proto`` compiled when first used
  (``grpc.protos_and_services``, from grpcio-tools): no generated code is committed. ``GetOrder``
  is a unary call; ``StreamOrders`` streams ``count`` orders in one call.
* ``http_server``: the standard library's ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive:
  ``GET /orders/<id>`` returns one order as JSON, ``GET /orders?count=N`` a JSON array.

``compare_rpc`` measures both on this machine: latency per call (interleaved rounds, best round
kept), unary and bulk (one streaming gRPC call against one HTTP call returning an array), and the
bytes that cross the socket per call, counted by a small TCP relay (``ByteCounter``). A server can
be given ``work_seconds`` of simulated work per request (a database query), which is where the
difference between the protocols goes once the handler does anything real.

Everything here needs sockets and threads; ``patterns.compat.sockets_available()`` says whether
they exist (not in the browser). grpc is imported inside the functions, so importing this module
never fails.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from patterns._validate import require_int, require_seconds, require_text
from patterns.communication.codec import JSON
from patterns.compat import sockets_available, threads_available

__all__ = [
    "ORDER_PROTO",
    "make_order",
    "OrderService",
    "load_protos",
    "grpc_server",
    "http_server",
    "GrpcClient",
    "HttpClient",
    "ByteCounter",
    "RpcComparison",
    "compare_rpc",
    "require_network",
]

#: Where ``orders.proto`` is found on ``sys.path`` (the package directory itself is on it).
ORDER_PROTO = "patterns/communication/orders.proto"
#: Largest number of orders one call may ask for.
MAX_ORDERS = 100_000
LOOPBACK = "127.0.0.1"


def require_network() -> None:
    """Raise a clear error where sockets or threads do not exist (the browser)."""
    if not (sockets_available() and threads_available()):
        raise RuntimeError(
            "real servers need TCP sockets and threads, which this Python (the browser) does not "
            "have: run this in JupyterLab or a terminal to measure"
        )


def make_order(number: int) -> dict[str, Any]:
    """Order ``number``: the lab's OrderPlaced event with eight line items (deterministic)."""
    number = require_int(number, "number", maximum=10**9)
    return {
        "event_id": f"4b1c2f0e-6a8d-4c1e-9f57-{number:012d}",
        "type": "OrderPlaced",
        "order_id": f"o-{number}",
        "customer_id": f"c-{number % 97}",
        "total_cents": 12_995 + number % 100,
        "currency": "EUR",
        "items": [{"sku": f"SKU-{i:04d}", "qty": 1 + i % 3, "price_cents": 1000 + 37 * i} for i in range(8)],
        "occurred_at": "2026-11-27T10:00:00Z",
    }


class OrderService:
    """The operation both servers expose; ``work_seconds`` of simulated work per request."""

    def __init__(self, work_seconds: float = 0.0) -> None:
        self.work_seconds = require_seconds(work_seconds, "work_seconds", positive=False, maximum=60.0)

    def _work(self) -> None:
        if self.work_seconds:
            time.sleep(self.work_seconds)  # stands for a database query; real time on purpose

    def get(self, order_id: str) -> dict[str, Any]:
        """One order by id (``o-<number>``); ``KeyError`` for an id that is not an order's."""
        self._work()
        prefix, _, digits = require_text(order_id, "order_id", max_length=100).partition("-")
        if prefix != "o" or not digits.isdigit() or len(digits) > 9:
            raise KeyError(order_id)
        return make_order(int(digits))

    def many(self, count: int) -> list[dict[str, Any]]:
        """``count`` orders (numbered from 1)."""
        self._work()
        return [make_order(i) for i in range(1, require_int(count, "count", maximum=MAX_ORDERS) + 1)]


_protos: tuple[ModuleType, ModuleType] | None = None


def load_protos() -> tuple[ModuleType, ModuleType]:
    """The message classes and the service stubs of ``orders.proto``, compiled on first use."""
    global _protos
    if _protos is None:
        import grpc

        _protos = grpc.protos_and_services(ORDER_PROTO)
    return _protos


def _order_message(protos: ModuleType, order: dict[str, Any]) -> Any:
    items = [protos.LineItem(**item) for item in order["items"]]
    return protos.Order(**{**order, "items": items})


def _order_dict(message: Any) -> dict[str, Any]:
    return {
        "event_id": message.event_id,
        "type": message.type,
        "order_id": message.order_id,
        "customer_id": message.customer_id,
        "total_cents": message.total_cents,
        "currency": message.currency,
        "items": [{"sku": i.sku, "qty": i.qty, "price_cents": i.price_cents} for i in message.items],
        "occurred_at": message.occurred_at,
    }


@contextlib.contextmanager
def grpc_server(service: OrderService, workers: int = 4) -> Iterator[int]:
    """Serve ``service`` over gRPC on a free loopback port; yields the port, stops on exit."""
    require_network()
    from concurrent.futures import ThreadPoolExecutor

    import grpc

    protos, stubs = load_protos()

    class Servicer(stubs.OrdersServicer):  # type: ignore[misc, name-defined]
        def GetOrder(self, request: Any, context: Any) -> Any:  # noqa: N802 - the .proto's name
            try:
                return _order_message(protos, service.get(request.order_id))
            except KeyError:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no order {request.order_id!r}")

        def StreamOrders(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
            for order in service.many(request.count):
                yield _order_message(protos, order)

    server = grpc.server(ThreadPoolExecutor(max_workers=require_int(workers, "workers", minimum=1, maximum=64)))
    stubs.add_OrdersServicer_to_server(Servicer(), server)
    port = server.add_insecure_port(f"{LOOPBACK}:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None).wait()


@contextlib.contextmanager
def http_server(service: OrderService) -> Iterator[int]:
    """Serve ``service`` as HTTP/1.1 + JSON on a free loopback port; yields the port."""
    require_network()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep the connection open between requests
        # The handler writes the headers and the body separately; with Nagle's algorithm on, the
        # body waits for the client's (delayed) ACK of the headers: about 40 ms per call on Linux.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            url = urlsplit(self.path)
            try:
                if url.path.startswith("/orders/"):
                    body = JSON.encode(service.get(unquote(url.path.removeprefix("/orders/"))))
                elif url.path == "/orders":
                    count = int(parse_qs(url.query).get("count", ["1"])[0])
                    body = JSON.encode(service.many(count))
                else:
                    raise KeyError(url.path)
                status = 200
            except (KeyError, ValueError) as error:
                body, status = JSON.encode({"error": f"not found: {error}"}), 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # one line per request on stderr would drown the notebook

    httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="http-orders", daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5.0)


class GrpcClient:
    """A gRPC channel to ``port`` (one HTTP/2 connection, reused by every call)."""

    def __init__(self, port: int) -> None:
        require_network()
        import grpc

        self.protos, stubs = load_protos()
        self._channel = grpc.insecure_channel(f"{LOOPBACK}:{require_int(port, 'port', minimum=1, maximum=65535)}")
        self._stub = stubs.OrdersStub(self._channel)

    def get_order(self, order_id: str) -> dict[str, Any]:
        request = self.protos.OrderRequest(order_id=require_text(order_id, "order_id", max_length=100))
        return _order_dict(self._stub.GetOrder(request))

    def stream_orders(self, count: int) -> list[dict[str, Any]]:
        request = self.protos.OrdersRequest(count=require_int(count, "count", maximum=MAX_ORDERS))
        return [_order_dict(m) for m in self._stub.StreamOrders(request)]

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> GrpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HttpClient:
    """An HTTP/1.1 keep-alive connection to ``port`` (one TCP connection, reused by every call)."""

    def __init__(self, port: int) -> None:
        require_network()
        self._conn = HTTPConnection(LOOPBACK, require_int(port, "port", minimum=1, maximum=65535), timeout=10)

    def _get(self, path: str) -> Any:
        self._conn.request("GET", path)
        response = self._conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise KeyError(f"HTTP {response.status} for {path}")
        return json.loads(body)

    def get_order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self._get(f"/orders/{quote(require_text(order_id, 'order_id', max_length=100))}")
        return order

    def list_orders(self, count: int) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self._get(f"/orders?count={require_int(count, 'count', maximum=MAX_ORDERS)}")
        return orders

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ByteCounter:
    """A TCP relay on a free loopback port that forwards to ``target_port`` and counts the bytes
    in each direction: what really crosses the socket, headers and framing included."""

    def __init__(self, target_port: int) -> None:
        require_network()
        self.target_port = require_int(target_port, "target_port", minimum=1, maximum=65535)
        self.sent = 0  # client -> server
        self.received = 0  # server -> client
        self._lock = threading.Lock()
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="byte-counter", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            server = socket.create_connection((LOOPBACK, self.target_port))
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                with self._lock:
                    if upstream:
                        self.sent += len(chunk)
                    else:
                        self.received += len(chunk)
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def total(self) -> int:
        with self._lock:
            return self.sent + self.received

    def close(self) -> None:
        self._listener.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()

    def __enter__(self) -> ByteCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class RpcComparison:
    """Seconds per call (best round) and bytes on the wire per call, HTTP/JSON against gRPC."""

    calls: int
    bulk: int
    work_seconds: float
    http_unary: float
    grpc_unary: float
    http_bulk: float  # one GET returning ``bulk`` orders as a JSON array
    grpc_stream: float  # one StreamOrders call returning ``bulk`` messages
    http_unary_bytes: float
    grpc_unary_bytes: float
    http_bulk_bytes: float
    grpc_stream_bytes: float

    def table(self) -> str:
        """The comparison as aligned text (times in microseconds, sizes in bytes)."""
        rows = [
            ("unary, one order per call", self.http_unary, self.grpc_unary, self.http_unary_bytes,
             self.grpc_unary_bytes),
            (f"bulk, {self.bulk} orders in one call", self.http_bulk, self.grpc_stream, self.http_bulk_bytes,
             self.grpc_stream_bytes),
        ]
        lines = [f"{'':34} {'HTTP/JSON':>12} {'gRPC':>12} {'ratio':>7} {'HTTP bytes':>11} {'gRPC bytes':>11}"]
        for label, http, grpc_, http_b, grpc_b in rows:
            lines.append(
                f"{label:34} {http * 1e6:>10.0f}us {grpc_ * 1e6:>10.0f}us {http / grpc_:>6.2f}x "
                f"{http_b:>11,.0f} {grpc_b:>11,.0f}"
            )
        return "\n".join(lines)


def _timed(fn: Callable[[], object], repeat: int) -> float:
    """Seconds per call of ``fn``, over ``repeat`` sequential calls."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def compare_rpc(calls: int = 300, bulk: int = 1000, rounds: int = 3, work_seconds: float = 0.0) -> RpcComparison:
    """Measure HTTP/JSON against gRPC for the same operation, on loopback, on this machine.

    Each round times ``calls`` sequential unary calls and one bulk call of ``bulk`` orders with each
    protocol, interleaved; the best round is kept. Bytes on the wire are counted separately, through
    a ``ByteCounter`` relay, over ``calls`` unary calls and one bulk call, after a warm-up call.
    """
    require_network()
    calls = require_int(calls, "calls", minimum=1, maximum=100_000)
    bulk = require_int(bulk, "bulk", minimum=1, maximum=MAX_ORDERS)
    rounds = require_int(rounds, "rounds", minimum=1, maximum=100)
    service = OrderService(work_seconds)
    with grpc_server(service) as grpc_port, http_server(service) as http_port:
        times: dict[str, list[float]] = {"http": [], "grpc": [], "http_bulk": [], "grpc_stream": []}
        with HttpClient(http_port) as http, GrpcClient(grpc_port) as rpc:
            assert http.get_order("o-1042") == rpc.get_order("o-1042")  # the same operation, warmed up
            for _ in range(rounds):
                times["http"].append(_timed(lambda: http.get_order("o-1042"), calls))
                times["grpc"].append(_timed(lambda: rpc.get_order("o-1042"), calls))
                times["http_bulk"].append(_timed(lambda: http.list_orders(bulk), 1))
                times["grpc_stream"].append(_timed(lambda: rpc.stream_orders(bulk), 1))
        wire = {}
        for name, port, client_type in (("http", http_port, HttpClient), ("grpc", grpc_port, GrpcClient)):
            with ByteCounter(port) as counter, client_type(counter.port) as client:
                client.get_order("o-1")  # connection set-up and the first headers are not per call
                _settle(counter)
                before = counter.total()
                for _ in range(calls):
                    client.get_order("o-1042")
                _settle(counter)
                wire[name] = (counter.total() - before) / calls
                before = counter.total()
                if isinstance(client, HttpClient):
                    client.list_orders(bulk)
                else:
                    client.stream_orders(bulk)
                _settle(counter)
                wire[name + "_bulk"] = counter.total() - before
    return RpcComparison(
        calls=calls,
        bulk=bulk,
        work_seconds=service.work_seconds,
        http_unary=min(times["http"]),
        grpc_unary=min(times["grpc"]),
        http_bulk=min(times["http_bulk"]),
        grpc_stream=min(times["grpc_stream"]),
        http_unary_bytes=wire["http"],
        grpc_unary_bytes=wire["grpc"],
        http_bulk_bytes=wire["http_bulk"],
        grpc_stream_bytes=wire["grpc_bulk"],
    )


def _settle(counter: ByteCounter, quiet: float = 0.02, limit: float = 5.0) -> None:
    """Wait until the relay has seen no bytes for ``quiet`` seconds (HTTP/2 sends small frames,
    e.g. window updates, just after a call returns)."""
    deadline = time.monotonic() + limit
    last = counter.total()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = counter.total()
        if now == last:
            return
        last = now
