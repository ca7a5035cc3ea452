"""server_error: one typed class per wire type, tolerant of both readings."""

from __future__ import annotations

import pytest

from rxlivechat.exceptions import (
    ChatAlreadyActiveError,
    ChatLimitReachedError,
    CustomerSessionFieldsLimitReachedError,
    LimitReachedError,
    ServerError,
    ValidationError,
    server_error,
)


@pytest.mark.parametrize(
    ("action", "wire", "expected", "generic"),
    [
        # customer-sdk/index.mdx lists CHAT_LIMIT_REACHED, CHAT_ALREADY_ACTIVE and
        # CUSTOMER_SESSION_FIELDS_LIMIT_REACHED among the server's codes, which the
        # JS SDK makes by upper-casing the wire type; the API's error table has only
        # limit_reached and validation. Either reading gives the same class.
        ("start_chat", "chat_limit_reached", ChatLimitReachedError, LimitReachedError),
        ("start_chat", "limit_reached", ChatLimitReachedError, LimitReachedError),
        (
            "update_customer",
            "customer_session_fields_limit_reached",
            CustomerSessionFieldsLimitReachedError,
            LimitReachedError,
        ),
        (
            "set_customer_session_fields",
            "limit_reached",
            CustomerSessionFieldsLimitReachedError,
            LimitReachedError,
        ),
        ("resume_chat", "chat_already_active", ChatAlreadyActiveError, ValidationError),
    ],
)
def test_both_readings_raise_the_specific_class(
    action: str, wire: str, expected: type[ServerError], generic: type[ServerError]
) -> None:
    error = server_error(wire, "m", action=action)
    assert type(error) is expected
    assert isinstance(error, generic)
    assert error.error_type == wire  # the wire type is kept as sent


def test_a_generic_type_elsewhere_stays_generic() -> None:
    assert type(server_error("limit_reached", action="upload_file")) is (
        LimitReachedError
    )
    assert type(server_error("validation", action="resume_chat")) is ValidationError
    assert type(server_error("no_such_type")) is ServerError
