"""The pure session state: ids, pending requests, login gating, loss and close."""

from __future__ import annotations

from typing import Any

import pytest

from rxlivechat.exceptions import ProtocolError, SDKClosedError
from rxlivechat.protocol.base import Method
from rxlivechat.protocol.frames import ErrorResponse, Push, Response
from rxlivechat.protocol.methods import (
    ListChats,
    ListChatsResult,
    Login,
    LoginResult,
    Ping,
)
from rxlivechat.protocol.session import Session, State

LOGIN_OK = (
    b'{"request_id":"1","action":"login","type":"response","success":true,'
    b'"payload":{"customer":{"id":"c1","type":"customer"}}}'
)


def send(session: Session[Any], method: Method[Any]) -> tuple[str, bytes]:
    """Send with the method's class as its ticket."""
    return session.send(method, type(method))


def logged_in() -> Session[Any]:
    session: Session[Any] = Session()
    session.connection_made()
    send(session, Login(token="Bearer t"))
    session.receive(LOGIN_OK)
    return session


def test_only_login_and_ping_before_login() -> None:
    session: Session[Any] = Session()
    with pytest.raises(ProtocolError, match="not connected"):
        send(session, Ping())
    session.connection_made()
    send(session, Ping())
    with pytest.raises(ProtocolError, match="before login"):
        send(session, ListChats())
    assert session.state is State.CONNECTED


def test_login_reply_logs_in_and_decodes_into_the_result_type() -> None:
    session: Session[Any] = Session()
    session.connection_made()
    request_id, _ = send(session, Login(token="Bearer t"))
    frame, _ = session.receive(LOGIN_OK)
    assert isinstance(frame, Response)
    assert isinstance(frame.payload, LoginResult)
    assert frame.payload.customer.id == "c1"
    assert session.state is State.LOGGED_IN
    assert request_id not in session.in_flight


def test_failed_login_stays_connected() -> None:
    session: Session[Any] = Session()
    session.connection_made()
    send(session, Login(token="Bearer bad"))
    frame, _ = session.receive(
        b'{"request_id":"1","action":"login","type":"response","success":false,'
        b'"payload":{"error":{"type":"authentication","message":"no"}}}'
    )
    assert isinstance(frame, ErrorResponse)
    assert session.state is State.CONNECTED
    assert session.in_flight == {}


def test_ids_are_unique_across_reconnects() -> None:
    session = logged_in()
    first, _ = send(session, ListChats())
    assert session.connection_lost() == [ListChats]
    assert session.state is State.NOT_CONNECTED
    session.connection_made()
    second, _ = send(session, Login(token="Bearer t"))
    assert second != first


def test_a_push_with_our_request_id_does_not_settle_the_request() -> None:
    session = logged_in()
    request_id, _ = send(session, ListChats())
    frame, _ = session.receive(
        b'{"request_id":"2","action":"customer_side_storage_updated","type":"push",'
        b'"payload":{"customer_side_storage":{}}}'
    )
    assert isinstance(frame, Push)
    assert request_id in session.in_flight


def test_malformed_input_leaves_the_state_alone() -> None:
    session = logged_in()
    request_id, _ = send(session, ListChats())
    with pytest.raises(ProtocolError):
        session.receive(b"{nope")
    assert request_id in session.in_flight
    assert session.state is State.LOGGED_IN


def test_close_is_final_and_returns_the_pending() -> None:
    session = logged_in()
    request_id, _ = send(session, ListChats())
    assert session.close() == [ListChats]
    assert request_id not in session.in_flight
    assert session.state is State.CLOSED
    with pytest.raises(SDKClosedError):
        session.connection_made()
    with pytest.raises(SDKClosedError):
        send(session, Ping())


def test_a_reply_comes_back_with_the_ticket_it_settles() -> None:
    session = logged_in()
    ticket = _Ticket()
    request_id, _ = session.send(ListChats(), ticket)
    frame, settled = session.receive(
        b'{"request_id":"%s","action":"list_chats","type":"response","success":true,'
        b'"payload":{"chats_summary":[],"total_chats":0}}' % request_id.encode()
    )
    assert settled is ticket
    assert isinstance(frame, Response)
    assert isinstance(frame.payload, ListChatsResult)
    assert session.in_flight == {}


def test_a_push_with_our_request_id_comes_with_the_ticket_still_in_flight() -> None:
    session = logged_in()
    ticket = _Ticket()
    request_id, _ = session.send(ListChats(), ticket)
    frame, concerned = session.receive(
        b'{"request_id":"%s","action":"customer_side_storage_updated","type":"push",'
        b'"payload":{"customer_side_storage":{}}}' % request_id.encode()
    )
    assert isinstance(frame, Push)
    assert concerned is ticket
    assert session.in_flight == {request_id: ticket}


class _Ticket:
    result_type = ListChatsResult
