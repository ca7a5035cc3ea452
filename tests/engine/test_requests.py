"""Correlation and flow control, without sockets: a recording socket stands in
for aiohttp, and replies are real frames fed through the real codec and session."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from rxlivechat.engine.pending import MAX_EARLY_PUSHES, Pending
from rxlivechat.engine.requests import Requests
from rxlivechat.exceptions import (
    ConnectionLost,
    NotFoundError,
    ProtocolError,
    RequestTimeoutError,
    SDKClosedError,
)
from rxlivechat.protocol.methods import DeactivateChat, GetCustomer, Login, SendEvent
from rxlivechat.protocol.models import Message
from rxlivechat.protocol.session import Session

from .hostile import error_reply, ok_reply


class RecordingSocket:
    """Collects what the SDK would write to the WebSocket."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.paused = False  # the peer reads all (Socket's flow control)
        self.resumed: Any = None

    def send(self, data: bytes) -> None:
        self.sent.append(json.loads(data))


class Outcomes:
    def __init__(self) -> None:
        self.results: list[Any] = []
        self.errors: list[Exception] = []

    def on_result(self, result: Any, _: Any) -> None:
        self.results.append(result)

    def on_error(self, exc: Exception) -> None:
        self.errors.append(exc)


class CountingDict(dict[str, Any]):
    """A dict that counts every lookup the correlation makes."""

    operations = 0

    def pop(self, *args: Any) -> Any:
        CountingDict.operations += 1
        return super().pop(*args)

    def get(self, *args: Any) -> Any:
        CountingDict.operations += 1
        return super().get(*args)

    def __getitem__(self, key: str) -> Any:
        CountingDict.operations += 1
        return super().__getitem__(key)


def logged_in(
    max_in_flight: int = 10, timeout: float = 5.0
) -> tuple[Requests, Session[Pending], RecordingSocket]:
    session: Session[Pending] = Session()
    requests = Requests(session, timeout=timeout, max_in_flight=max_in_flight)
    socket = RecordingSocket()
    log_in(requests, session, socket)
    socket.sent.clear()
    return requests, session, socket


def log_in(
    requests: Requests, session: Session[Pending], socket: RecordingSocket
) -> None:
    """Open the session on ``socket``, log in and answer it: the gate opens."""
    requests.connection_made(socket)  # type: ignore[arg-type]
    outcomes = Outcomes()
    requests.submit(
        Login(token="t"), outcomes.on_result, outcomes.on_error, urgent=True
    )
    reply(
        requests,
        session,
        socket.sent[-1],
        {"customer": {"id": "c", "type": "customer"}},
    )


def reply(
    requests: Requests,
    session: Session[Pending],
    request: dict[str, Any],
    payload: Any,
) -> None:
    requests.receive(json.dumps(ok_reply(request, payload)))


def fail(
    requests: Requests, session: Session[Pending], request: dict[str, Any], kind: str
) -> None:
    requests.receive(json.dumps(error_reply(request, kind, "m")))


async def test_at_most_ten_in_flight_the_rest_wait_in_order() -> None:
    requests, session, socket = logged_in()
    outcomes = Outcomes()
    for _ in range(25):
        requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    assert len(socket.sent) == 10
    assert (requests.in_flight, requests.waiting) == (10, 15)
    while socket.sent:
        request = socket.sent.pop(0)
        reply(
            requests,
            session,
            request,
            {"id": request["request_id"], "type": "customer"},
        )
        assert requests.in_flight <= 10
    assert [r.id for r in outcomes.results] == [str(i) for i in range(2, 27)]
    assert outcomes.errors == []


async def test_nothing_but_login_goes_out_before_login() -> None:
    session: Session[Pending] = Session()
    requests = Requests(session, timeout=5)
    socket = RecordingSocket()
    requests.connection_made(socket)  # type: ignore[arg-type]
    outcomes = Outcomes()
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    assert socket.sent == []
    requests.submit(
        Login(token="t"), outcomes.on_result, outcomes.on_error, urgent=True
    )
    assert [r["action"] for r in socket.sent] == ["login"]


async def test_server_error_becomes_its_exception() -> None:
    requests, session, socket = logged_in()
    outcomes = Outcomes()
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    fail(requests, session, socket.sent[0], "not_found")
    (error,) = outcomes.errors
    assert isinstance(error, NotFoundError)
    assert (error.action, error.request_id) == (
        "get_customer",
        socket.sent[0]["request_id"],
    )


async def test_a_timeout_settles_but_the_slot_waits_for_the_reply() -> None:
    requests, session, socket = logged_in(max_in_flight=1, timeout=0.05)
    outcomes = Outcomes()
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error, timeout=5)
    await asyncio.sleep(0.1)
    assert [type(e) for e in outcomes.errors] == [RequestTimeoutError]
    # The server still counts the first as pending: its slot stays taken, so
    # the second is not sent into a PendingRequestsLimitReached refusal.
    assert len(socket.sent) == 1
    assert (requests.in_flight, requests.waiting) == (1, 1)
    reply(requests, session, socket.sent[0], {"id": "late", "type": "customer"})
    assert outcomes.results == []  # a late reply to an abandoned request is dropped
    assert len(socket.sent) == 2  # ...and frees the slot: the second goes out


async def test_a_cancelled_request_frees_its_slot_on_a_drop() -> None:
    requests, session, socket = logged_in(max_in_flight=1)
    outcomes = Outcomes()
    first = requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    requests.abandon(first)
    assert (requests.in_flight, requests.waiting) == (1, 1)
    requests.connection_lost()
    assert requests.in_flight == 0
    log_in(requests, session, socket)
    assert [r["action"] for r in socket.sent[-2:]] == ["login", "get_customer"]
    assert outcomes.errors == []


async def test_abandoned_requests_never_call_back() -> None:
    requests, session, socket = logged_in()
    outcomes = Outcomes()
    queued = [
        requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
        for _ in range(12)
    ]
    for pending in queued:
        requests.abandon(pending)
    for request in socket.sent:
        reply(requests, session, request, {"id": "x", "type": "customer"})
    assert (outcomes.results, outcomes.errors) == ([], [])
    assert (requests.in_flight, requests.waiting) == (0, 0)


async def test_a_drop_requeues_safe_requests_and_fails_the_others() -> None:
    requests, session, socket = logged_in()
    outcomes = Outcomes()
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    requests.submit(DeactivateChat(id="C"), outcomes.on_result, outcomes.on_error)
    requests.connection_lost()
    assert [type(e) for e in outcomes.errors] == [ConnectionLost]
    assert "may or may not" in str(outcomes.errors[0])
    assert requests.waiting == 1
    # After the next login, the safe request is written again, with a new id.
    new_socket = RecordingSocket()
    log_in(requests, session, new_socket)
    assert [r["action"] for r in new_socket.sent] == ["login", "get_customer"]
    assert new_socket.sent[1]["request_id"] != socket.sent[0]["request_id"]


def thread_with(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "threads": [
            {
                "id": "T1",
                "created_at": "2026-12-01T10:00:00.000000Z",
                "active": True,
                "user_ids": ["c"],
                "events": list(events),
            }
        ],
        "found_threads": 1,
    }


@pytest.mark.parametrize("applied", [True, False])
async def test_a_dropped_send_event_is_looked_up_not_failed(applied: bool) -> None:
    requests, session, socket = logged_in()
    outcomes = Outcomes()
    message = Message(text="x")
    pending = requests.submit(
        SendEvent(chat_id="C", event=message), outcomes.on_result, outcomes.on_error
    )
    (sent,) = socket.sent
    custom_id = sent["payload"]["event"]["custom_id"]
    assert custom_id  # on a copy: the caller's event is unchanged
    assert message.custom_id is None
    requests.connection_lost()
    await asyncio.sleep(0)  # the lookup starts, and waits for the login
    assert outcomes.errors == []
    assert pending.uncertain
    new_socket = RecordingSocket()
    log_in(requests, session, new_socket)
    await asyncio.sleep(0)
    lookup = new_socket.sent[-1]
    assert lookup["action"] == "list_threads"
    assert lookup["payload"]["chat_id"] == "C"
    stored = {
        "id": "E1",
        "type": "message",
        "text": "x",
        "custom_id": custom_id,
        "created_at": "2026-12-01T10:00:01.000000Z",
        "author_id": "c",
    }
    reply(requests, session, lookup, thread_with(stored) if applied else thread_with())
    for _ in range(3):
        await asyncio.sleep(0)
    if applied:  # settled with the event found: our copy of its push comes with it
        assert [r.event_id for r in outcomes.results] == ["E1"]
        assert new_socket.sent[-1]["action"] == "list_threads"
    else:  # absent: sent again, with the same custom_id
        again = new_socket.sent[-1]
        assert again["action"] == "send_event"
        assert again["payload"]["event"]["custom_id"] == custom_id
        reply(requests, session, again, {"event_id": "E2"})
        assert [r.event_id for r in outcomes.results] == ["E2"]
    assert outcomes.errors == []


async def test_a_retry_waits_for_the_earlier_try_before_looking_up() -> None:
    requests, session, socket = logged_in()
    outcomes = Outcomes()
    method = SendEvent(chat_id="C", event=Message(text="x"))
    first = requests.submit(method, outcomes.on_result, outcomes.on_error)
    requests.abandon(first)  # as a timeout does; the request is still on the socket
    requests.submit(method, outcomes.on_result, outcomes.on_error)  # the retry
    for _ in range(3):
        await asyncio.sleep(0)
    assert [r["action"] for r in socket.sent] == ["send_event"]  # no lookup yet
    reply(requests, session, socket.sent[0], {"event_id": "E1"})
    for _ in range(3):
        await asyncio.sleep(0)
    lookup = socket.sent[-1]
    assert lookup["action"] == "list_threads"
    stored = {
        "id": "E1",
        "type": "message",
        "text": "x",
        "custom_id": socket.sent[0]["payload"]["event"]["custom_id"],
        "created_at": "2026-12-01T10:00:01.000000Z",
        "author_id": "c",
    }
    reply(requests, session, lookup, thread_with(stored))
    for _ in range(3):
        await asyncio.sleep(0)
    assert [r.event_id for r in outcomes.results] == ["E1"]
    assert [r["action"] for r in socket.sent] == ["send_event", "list_threads"]


async def test_a_lookup_that_outlives_the_request_fails_it_as_unconfirmed() -> None:
    requests, _, socket = logged_in(timeout=0.2)
    outcomes = Outcomes()
    requests.submit(
        SendEvent(chat_id="C", event=Message(text="x")),
        outcomes.on_result,
        outcomes.on_error,
    )
    requests.connection_lost()  # and no login again
    await asyncio.sleep(0.5)
    (error,) = outcomes.errors
    assert isinstance(error, RequestTimeoutError)
    assert "not sent again" in str(error)
    assert len(socket.sent) == 1


async def test_close_fails_everything() -> None:
    requests, _, _ = logged_in(max_in_flight=2)
    outcomes = Outcomes()
    for _ in range(5):
        requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    requests.halt(SDKClosedError("bye"))
    assert [type(e) for e in outcomes.errors] == [SDKClosedError] * 5


@pytest.mark.parametrize("in_flight", [1, 1000])
async def test_correlation_cost_does_not_grow_with_requests_in_flight(
    in_flight: int,
) -> None:
    requests, session, socket = logged_in(max_in_flight=2000)
    session._in_flight = CountingDict()
    outcomes = Outcomes()
    for _ in range(in_flight):
        requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    # A push, and a reply: the frames every request pays for.
    CountingDict.operations = 0
    requests.receive(
        b'{"action":"incoming_multicast","type":"push","payload":{"content":1}}'
    )
    reply(requests, session, socket.sent[-1], {"id": "c", "type": "customer"})
    # One lookup types the reply, one pop settles it: whatever the count.
    assert CountingDict.operations == 2
    assert len(outcomes.results) == 1


def push_for(request_id: str, event_id: str) -> bytes:
    return json.dumps(
        {
            "request_id": request_id,
            "action": "incoming_event",
            "type": "push",
            "payload": {
                "chat_id": "C",
                "thread_id": "T",
                "event": {"id": event_id, "type": "message", "text": "x"},
            },
        }
    ).encode()


async def test_a_push_before_the_reply_is_kept_with_the_request() -> None:
    requests, session, socket = logged_in()
    seen: list[Any] = []
    requests.submit(
        SendEvent(chat_id="C", event=Message(text="x")),
        lambda result, pending: seen.append(pending.pushes),
        seen.append,
    )
    request_id = socket.sent[0]["request_id"]
    requests.receive(push_for(request_id, "T_1"))
    reply(requests, session, socket.sent[0], {"event_id": "T_1"})
    ((push,),) = seen
    assert push.payload.event.id == "T_1"


async def test_a_push_after_the_reply_is_caught_by_await_echo() -> None:
    requests, session, socket = logged_in()
    caught: list[Any] = []
    gave_up: list[bool] = []

    def on_result(result: Any, pending: Any) -> None:
        assert pending.pushes == []
        requests.await_echo(
            pending.request_id,
            lambda push: push.payload.event.id,
            caught.append,
            lambda: gave_up.append(True),
        )

    requests.submit(SendEvent(chat_id="C", event=Message(text="x")), on_result, print)
    request_id = socket.sent[0]["request_id"]
    reply(requests, session, socket.sent[0], {"event_id": "T_1"})
    requests.receive(push_for("other", "T_9"))  # not ours
    requests.receive(push_for(request_id, "T_1"))
    assert (caught, gave_up) == (["T_1"], [])


async def test_await_echo_gives_up_on_timeout_and_on_a_drop() -> None:
    requests, _, _ = logged_in()
    gave_up: list[str] = []
    requests.await_echo(
        "1", lambda p: p, print, lambda: gave_up.append("timeout"), timeout=0.01
    )
    requests.await_echo("2", lambda p: p, print, lambda: gave_up.append("drop"))
    cancelled = requests.await_echo(
        "3", lambda p: p, print, lambda: gave_up.append("x")
    )
    cancelled()
    await asyncio.sleep(0.05)
    requests.connection_lost()
    assert gave_up == ["timeout", "drop"]


async def test_a_safe_request_is_re_sent_once_only() -> None:
    requests, session, socket = logged_in()
    outcomes = Outcomes()
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    for drop in range(2):
        requests.connection_lost()
        log_in(requests, session, socket)
        if drop == 0:
            assert socket.sent[-1]["action"] == "get_customer"  # re-sent
    assert [type(e) for e in outcomes.errors] == [ConnectionLost]  # not twice


async def test_pushes_before_a_reply_are_bounded() -> None:
    requests, session, socket = logged_in()
    seen: list[Any] = []
    requests.submit(
        SendEvent(chat_id="C", event=Message(text="x")),
        lambda result, pending: seen.append(len(pending.pushes)),
        seen.append,
    )
    request_id = socket.sent[0]["request_id"]
    for n in range(1000):  # a server flooding copies of what the request caused
        requests.receive(push_for(request_id, f"T_{n}"))
    reply(requests, session, socket.sent[0], {"event_id": "T_1"})
    assert seen == [MAX_EARLY_PUSHES]


async def test_a_reply_that_does_not_decode_fails_its_request_at_once() -> None:
    requests, _, socket = logged_in()
    outcomes = Outcomes()
    requests.submit(GetCustomer(), outcomes.on_result, outcomes.on_error)
    bad = ok_reply(socket.sent[0], {"id": 42})  # get_customer's: id is a str
    with pytest.raises(ProtocolError):
        requests.receive(json.dumps(bad))
    assert [type(e) for e in outcomes.errors] == [ProtocolError]
    assert requests.in_flight == 0
