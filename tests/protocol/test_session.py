"""The pure session state: ids, pending requests, login gating, loss and close."""

from __future__ import annotations

import pytest

from rxlivechat.exceptions import ProtocolError, SDKClosedError
from rxlivechat.protocol.connection import Session, State
from rxlivechat.protocol.frames import ErrorResponse, Push, Response
from rxlivechat.protocol.methods import ListChats, Login, LoginResult, Ping

LOGIN_OK = (
    b'{"request_id":"1","action":"login","type":"response","success":true,'
    b'"payload":{"customer":{"id":"c1","type":"customer"}}}'
)


def logged_in() -> Session:
    session = Session()
    session.connection_made()
    session.send(Login(token="Bearer t"))
    session.receive(LOGIN_OK)
    return session


def test_only_login_and_ping_before_login() -> None:
    session = Session()
    with pytest.raises(ProtocolError, match="not connected"):
        session.send(Ping())
    session.connection_made()
    session.send(Ping())
    with pytest.raises(ProtocolError, match="before login"):
        session.send(ListChats())
    assert session.state is State.CONNECTED


def test_login_reply_logs_in_and_decodes_into_the_result_type() -> None:
    session = Session()
    session.connection_made()
    request_id, _ = session.send(Login(token="Bearer t"))
    frame = session.receive(LOGIN_OK)
    assert isinstance(frame, Response)
    assert isinstance(frame.payload, LoginResult)
    assert frame.payload.customer.id == "c1"
    assert session.state is State.LOGGED_IN
    assert request_id not in session.pending


def test_failed_login_stays_connected() -> None:
    session = Session()
    session.connection_made()
    session.send(Login(token="Bearer bad"))
    frame = session.receive(
        b'{"request_id":"1","action":"login","type":"response","success":false,'
        b'"payload":{"error":{"type":"authentication","message":"no"}}}'
    )
    assert isinstance(frame, ErrorResponse)
    assert session.state is State.CONNECTED
    assert session.pending == {}


def test_ids_are_unique_across_reconnects() -> None:
    session = logged_in()
    first, _ = session.send(ListChats())
    assert session.connection_lost() == [first]
    assert session.state is State.NOT_CONNECTED
    session.connection_made()
    second, _ = session.send(Login(token="Bearer t"))
    assert second != first


def test_a_push_with_our_request_id_does_not_settle_the_request() -> None:
    session = logged_in()
    request_id, _ = session.send(ListChats())
    frame = session.receive(
        b'{"request_id":"2","action":"customer_side_storage_updated","type":"push",'
        b'"payload":{"customer_side_storage":{}}}'
    )
    assert isinstance(frame, Push)
    assert request_id in session.pending


def test_malformed_input_leaves_the_state_alone() -> None:
    session = logged_in()
    request_id, _ = session.send(ListChats())
    with pytest.raises(ProtocolError):
        session.receive(b"{nope")
    assert request_id in session.pending
    assert session.state is State.LOGGED_IN


def test_close_is_final_and_returns_the_pending() -> None:
    session = logged_in()
    request_id, _ = session.send(ListChats())
    assert session.close() == [request_id]
    assert session.state is State.CLOSED
    with pytest.raises(SDKClosedError):
        session.connection_made()
    with pytest.raises(SDKClosedError):
        session.send(Ping())
