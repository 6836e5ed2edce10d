"""Chapter 03's real servers: gRPC and HTTP/JSON serve the same operation; the hand-written protobuf
encoder writes exactly what the protobuf library writes; threads and asyncio wait for a real slow
dependency. Outcomes only: no assertion on wall time (speed lives in the lab and the chapter)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.communication import JSON, ORDER_PROTOBUF, payload_sizes
from patterns.communication.concurrency import (
    compare_waiting,
    report_table,
    slow_dependency,
    wait_with_asyncio,
    wait_with_threads,
)
from patterns.communication.rpc import (
    ByteCounter,
    GrpcClient,
    HttpClient,
    OrderService,
    compare_rpc,
    grpc_server,
    http_server,
    load_protos,
    make_order,
)
from patterns.communication.wire import ORDER, ORDER_REQUEST, ORDERS_REQUEST, varint
from patterns.compat import BROWSER_MODE_ENV
from tests.helpers import wait_until

grpc = pytest.importorskip("grpc")
pytest.importorskip("grpc_tools")

texts = st.text(max_size=30)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
items = st.fixed_dictionaries({"sku": texts, "qty": int32s, "price_cents": ints})
orders = st.fixed_dictionaries(
    {
        "event_id": texts,
        "type": texts,
        "order_id": texts,
        "customer_id": texts,
        "total_cents": ints,
        "currency": texts,
        "items": st.lists(items, max_size=5),
        "occurred_at": texts,
    }
)


@settings(max_examples=200, deadline=None)
@given(orders)
def test_the_hand_written_encoder_writes_what_protobuf_writes(order: dict) -> None:
    protos, _ = load_protos()
    message = protos.Order(**{**order, "items": [protos.LineItem(**i) for i in order["items"]]})
    assert ORDER.encode(order) == message.SerializeToString()
    assert ORDER.decode(message.SerializeToString()) == order


def test_requests_and_varints_match_protobuf() -> None:
    protos, _ = load_protos()
    assert ORDER_REQUEST.encode({"order_id": "o-1042"}) == protos.OrderRequest(order_id="o-1042").SerializeToString()
    assert ORDERS_REQUEST.encode({"count": 1000}) == protos.OrdersRequest(count=1000).SerializeToString()
    assert (varint(1), varint(300), len(varint(-1))) == (b"\x01", b"\xac\x02", 10)


def test_protobuf_leaves_names_and_defaults_out() -> None:
    order = make_order(1042)
    sizes = payload_sizes(order, [JSON, ORDER_PROTOBUF])
    assert sizes["protobuf"] < sizes["json"] / 2
    assert ORDER.encode({"order_id": "", "total_cents": 0}) == b""
    with pytest.raises(ValueError, match="no field"):
        ORDER.encode({"orderid": "x"})


def test_grpc_and_http_serve_the_same_orders() -> None:
    service = OrderService()
    with (
        grpc_server(service) as grpc_port,
        http_server(service) as http_port,
        GrpcClient(grpc_port) as rpc,
        HttpClient(http_port) as http,
    ):
        assert rpc.get_order("o-7") == http.get_order("o-7") == make_order(7)
        assert rpc.stream_orders(25) == http.list_orders(25) == [make_order(i) for i in range(1, 26)]
        with pytest.raises(KeyError):
            http.get_order("nope")
        with pytest.raises(grpc.RpcError) as info:
            rpc.get_order("nope")
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_byte_counter_sees_at_least_the_payload() -> None:
    service = OrderService()
    with http_server(service) as port, ByteCounter(port) as counter, HttpClient(counter.port) as http:
        http.get_order("o-1042")
        body = len(JSON.encode(make_order(1042)))
        wait_until(lambda: counter.received >= body)
        assert counter.sent > 0


def test_compare_rpc_reports_every_figure() -> None:
    report = compare_rpc(calls=5, bulk=10, rounds=1)
    figures = [report.http_unary, report.grpc_unary, report.http_bulk, report.grpc_stream]
    assert all(f > 0 for f in figures)
    assert report.http_unary_bytes > len(JSON.encode(make_order(1042)))
    assert report.grpc_unary_bytes > len(ORDER.encode(make_order(1042)))
    assert "unary" in report.table() and "bulk, 10 orders" in report.table()


def test_a_thread_pool_caps_the_calls_in_flight() -> None:
    with slow_dependency(0.05) as port:
        pooled = wait_with_threads(port, 12, pool=3)
        each = wait_with_threads(port, 12)
        coroutines = wait_with_asyncio(port, 12)
    assert pooled.max_in_flight <= 3
    assert 1 <= each.max_in_flight <= 12 and 1 <= coroutines.max_in_flight <= 12
    assert all(r.calls == 12 and r.throughput > 0 for r in (pooled, each, coroutines))
    assert "asyncio" in report_table([pooled, each, coroutines])


def test_compare_waiting_runs_the_three_styles() -> None:
    reports = compare_waiting(calls=8, delay=0.02, pool=2)
    assert [r.style for r in reports] == ["a pool of 2 threads", "a thread per call", "asyncio, one coroutine per call"]


def test_no_sockets_in_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BROWSER_MODE_ENV, "1")
    with pytest.raises(RuntimeError, match="TCP sockets"):
        compare_rpc(calls=1)
    with pytest.raises(RuntimeError, match="TCP sockets"), slow_dependency(0.1):
        pass
