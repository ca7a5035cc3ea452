"""RFC 6455 client framing, Sans-I/O: the handshake and frames as bytes."""

from __future__ import annotations

import struct

import pytest

from rxlivechat.engine import websocket as ws
from rxlivechat.exceptions import ProtocolError

from .hostile import server_frame


def unmask(frame: bytes) -> tuple[int, bytes]:
    """What a server reads from one client frame: (opcode, payload)."""
    first, second = frame[0], frame[1]
    assert first & 0x80, "a final frame"
    assert second & 0x80, "clients must mask (RFC 6455 §5.3)"
    size, at = second & 0x7F, 2
    if size == 126:
        size, at = struct.unpack("!H", frame[2:4])[0], 4
    elif size == 127:
        size, at = struct.unpack("!Q", frame[2:10])[0], 10
    key, payload = frame[at : at + 4], frame[at + 4 :]
    assert len(payload) == size
    return first & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_all(reader: ws.FrameReader, *chunks: bytes) -> list[tuple[int, bytes]]:
    return [item for chunk in chunks for item in reader.feed(chunk)]


# The handshake ---------------------------------------------------------------------


def test_the_accept_key_is_the_rfcs_example() -> None:
    assert ws.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_the_request_names_the_target_host_and_key() -> None:
    key = ws.new_key()
    request = ws.handshake_request("ws://127.0.0.1:8080/v3.6/rtm?org=x", key, "ua/1")
    lines = request.decode().split("\r\n")
    assert lines[0] == "GET /v3.6/rtm?org=x HTTP/1.1"
    assert "Host: 127.0.0.1:8080" in lines
    assert f"Sec-WebSocket-Key: {key}" in lines
    assert "Sec-WebSocket-Version: 13" in lines
    assert request.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("wss://api.livechatinc.com/ws", "api.livechatinc.com"),  # default port
        ("ws://example.com:80/ws", "example.com"),
        ("wss://example.com:8443/ws", "example.com:8443"),
        ("ws://[::1]:9000/ws", "[::1]:9000"),
    ],
)
def test_the_host_header_drops_the_default_port(url: str, host: str) -> None:
    assert f"Host: {host}\r\n".encode() in ws.handshake_request(url, "k", "ua")


def reply(key: str, *extra: str, status: str = "101 Switching Protocols") -> bytes:
    return "\r\n".join(
        [
            f"HTTP/1.1 {status}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {ws.accept_key(key)}",
            *extra,
        ]
    ).encode()


def test_a_proper_reply_is_accepted() -> None:
    key = ws.new_key()
    ws.parse_handshake_reply(reply(key, "Date: today"), key)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0", "403 Forbidden"),
        (b"SSH-2.0-OpenSSH", "not an HTTP reply"),
        (b"HTTP/1.1 abc Nope", "not an HTTP status"),
    ],
)
def test_a_refusal_names_what_the_server_said(head: bytes, message: str) -> None:
    with pytest.raises(ws.HandshakeError, match=message):
        ws.parse_handshake_reply(head, ws.new_key())


def test_a_refusal_keeps_the_status() -> None:
    with pytest.raises(ws.HandshakeError) as refused:
        ws.parse_handshake_reply(b"HTTP/1.1 503 Busy", ws.new_key())
    assert refused.value.status == 503


def test_a_reply_for_another_key_is_refused() -> None:
    with pytest.raises(ws.HandshakeError, match="Sec-WebSocket-Accept"):
        ws.parse_handshake_reply(reply(ws.new_key()), ws.new_key())


def test_an_extension_nobody_asked_for_is_refused() -> None:
    key = ws.new_key()
    head = reply(key, "Sec-WebSocket-Extensions: permessage-deflate")
    with pytest.raises(ws.HandshakeError, match="extension"):
        ws.parse_handshake_reply(head, key)


# Frames the client sends -------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 5, 125, 126, 65535, 65536, 200_003])
def test_every_length_form_masks_and_round_trips(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    frame = ws.encode_frame(ws.TEXT, payload)
    assert unmask(frame) == (ws.TEXT, payload)


def test_each_frame_has_a_fresh_mask() -> None:
    payload = b"x" * 64
    assert ws.encode_frame(ws.TEXT, payload) != ws.encode_frame(ws.TEXT, payload)


def test_a_close_payload_is_the_code_then_the_reason() -> None:
    assert ws.close_payload(1000, "bye") == b"\x03\xe8bye"


# Frames the server sends -------------------------------------------------------------


def test_whole_frames_in_one_chunk_come_out_in_order() -> None:
    frames = b"".join(server_frame(ws.TEXT, b"m%d" % i) for i in range(50))
    got = read_all(ws.FrameReader(1024), frames)
    assert got == [(ws.TEXT, b"m%d" % i) for i in range(50)]


def test_frames_split_at_every_byte_come_out_whole() -> None:
    frames = (
        server_frame(ws.TEXT, b"a" * 130)  # 16-bit length
        + server_frame(ws.BINARY, b"b" * 70_000)  # 64-bit length
        + server_frame(ws.TEXT, b"")
    )
    reader = ws.FrameReader(1 << 20)
    got = read_all(reader, *(frames[i : i + 1] for i in range(len(frames))))
    assert got == [(ws.TEXT, b"a" * 130), (ws.BINARY, b"b" * 70_000), (ws.TEXT, b"")]


def test_a_fragmented_message_is_joined_around_a_ping() -> None:
    frames = (
        server_frame(ws.TEXT, b"hel", final=False)
        + server_frame(ws.PING, b"are you there")
        + server_frame(ws.CONTINUATION, b"lo ", final=False)
        + server_frame(ws.CONTINUATION, b"world")
    )
    got = read_all(ws.FrameReader(1024), frames[:7], frames[7:])
    assert got == [(ws.PING, b"are you there"), (ws.TEXT, b"hello world")]


def test_close_and_pong_are_reported() -> None:
    frames = server_frame(ws.PONG, b"") + server_frame(ws.CLOSE, b"\x03\xe8")
    got = read_all(ws.FrameReader(1024), frames)
    assert got == [(ws.PONG, b""), (ws.CLOSE, b"\x03\xe8")]


def test_a_message_over_the_limit_is_refused_from_its_header() -> None:
    reader = ws.FrameReader(max_size=1000)
    header = struct.pack("!BBQ", 0x80 | ws.TEXT, 127, 10**12)  # a terabyte
    with pytest.raises(ProtocolError, match="over 1000 bytes"):
        read_all(reader, header)


def test_fragments_over_the_limit_together_are_refused() -> None:
    reader = ws.FrameReader(max_size=100)
    first = server_frame(ws.TEXT, b"x" * 60, final=False)
    second = server_frame(ws.CONTINUATION, b"x" * 60)
    with pytest.raises(ProtocolError, match="over 100 bytes"):
        read_all(reader, first, second)


def test_empty_continuation_frames_count_against_the_size() -> None:
    # Payload bytes alone: endless empty frames held millions of b"" at size 0.
    reader = ws.FrameReader(max_size=1000)
    read_all(reader, server_frame(ws.TEXT, b"{", final=False))
    empty = server_frame(ws.CONTINUATION, b"", final=False)
    with pytest.raises(ProtocolError, match="over 1000 bytes"):
        reader.feed(empty * 1000)
    assert len(reader._fragments) <= 1000 // ws.FRAME_OVERHEAD


def test_a_message_of_too_many_frames_is_refused_whatever_its_size() -> None:
    reader = ws.FrameReader(max_size=1 << 40)  # no byte limit to speak of
    read_all(reader, server_frame(ws.TEXT, b"{", final=False))
    endless = server_frame(ws.CONTINUATION, b"", final=False) * (ws.MAX_FRAGMENTS + 1)
    with pytest.raises(ProtocolError, match=f"over {ws.MAX_FRAGMENTS} frames"):
        reader.feed(endless)
    assert len(reader._fragments) == ws.MAX_FRAGMENTS


def test_a_message_in_many_small_frames_is_whole_within_its_budget() -> None:
    frames = 1000
    parts = [b"%03d" % (i % 1000) for i in range(frames)]
    budget = frames * (3 + ws.FRAME_OVERHEAD)
    stream = server_frame(ws.TEXT, parts[0], final=False) + b"".join(
        server_frame(ws.CONTINUATION, part, final=i == frames - 1)
        for i, part in enumerate(parts[1:], 1)
    )
    got = read_all(ws.FrameReader(max_size=budget), stream)
    assert got == [(ws.TEXT, b"".join(parts))]
    with pytest.raises(ProtocolError, match=f"over {budget - 1} bytes"):
        read_all(ws.FrameReader(max_size=budget - 1), stream)


def test_control_frames_between_fragments_are_not_charged() -> None:
    reader = ws.FrameReader(max_size=200)
    pings = server_frame(ws.PING, b"p" * 125) * 1000
    got = read_all(
        reader,
        server_frame(ws.TEXT, b"a", final=False),
        pings,
        server_frame(ws.CONTINUATION, b"b"),
    )
    assert got[-1] == (ws.TEXT, b"ab")
    assert len(got) == 1001


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (bytes([0x80 | 0x40 | ws.TEXT, 1]) + b"x", "reserved bit"),
        (bytes([0x80 | ws.TEXT, 0x80 | 1]) + b"keyx", "masked"),
        (bytes([0x80 | 0x3, 0]), "opcode"),
        (server_frame(ws.PING, b"p", final=False), "control frame"),
        (server_frame(ws.PING, b"p" * 126), "control frame"),
        (server_frame(ws.CONTINUATION, b"x"), "continuation"),
        (
            server_frame(ws.TEXT, b"a", final=False) + server_frame(ws.TEXT, b"b"),
            "before the last one ended",
        ),
    ],
)
def test_broken_frames_are_protocol_errors(frame: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        read_all(ws.FrameReader(1024), frame)


def test_messages_go_to_deliver_as_parsed_and_controls_come_back() -> None:
    delivered: list[bytes] = []
    reader = ws.FrameReader(1024, delivered.append)
    frames = (
        server_frame(ws.TEXT, b"one")
        + server_frame(ws.PING, b"p")
        + server_frame(ws.TEXT, b"t", final=False)
        + server_frame(ws.CONTINUATION, b"wo")
        + server_frame(ws.BINARY, b"three")
    )
    assert read_all(reader, frames[:9], frames[9:]) == [(ws.PING, b"p")]
    assert delivered == [b"one", b"two", b"three"]


def test_nothing_after_a_close_frame_is_read() -> None:
    delivered: list[bytes] = []
    frames = (
        server_frame(ws.TEXT, b"before")
        + server_frame(ws.CLOSE, b"\x03\xe8")
        + server_frame(ws.TEXT, b"after")
    )
    got = read_all(ws.FrameReader(1024, delivered.append), frames)
    assert got == [(ws.CLOSE, b"\x03\xe8")]
    assert delivered == [b"before"]


def test_a_deliver_that_raises_stops_the_read() -> None:
    def deliver(message: bytes) -> None:
        raise RuntimeError(message.decode())

    reader = ws.FrameReader(1024, deliver)
    with pytest.raises(RuntimeError, match="first"):
        reader.feed(server_frame(ws.TEXT, b"first") + server_frame(ws.TEXT, b"next"))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536])
def test_encoded_frames_unmask_to_their_payload(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    assert unmask(ws.encode_frame(ws.TEXT, payload)) == (ws.TEXT, payload)
