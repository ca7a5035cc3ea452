"""The Customer Chat API versions the sandbox serves side by side: 3.5 and 3.6.

The official JS Customer SDK 4.0.2 speaks 3.5 (``/v3.5/customer/rtm/ws``, login
``"version": "3.5"``, ``"pushes": {"3.5": [...]}``); our SDK and lc-sdk-python
speak 3.6. What differs between the two, from the v3.6 changelog of the docs:

* actions new in 3.6: ``delete_event``, ``request_welcome_message``,
  ``send_greeting_button_clicked`` (a 3.5 request for them is ``validation``:
  an unknown action, as for any action the version lacks);
* pushes new in 3.6: ``event_deleted``, ``incoming_event_preview``,
  ``incoming_thinking_indicator``, ``incoming_welcome_message`` (never sent in
  3.5, unless the login subscribed to them under ``"3.6"``);
* replies: ``update_customer_page`` carries ``groups`` only in 3.6, and
  ``get_dynamic_configuration`` has the flat 3.5 shape in 3.5;
* 3.5 responses carry the ``Legacy: YYYY-MM-DD`` header (the legacy stage's end).

Kept the same in both (the sandbox's choice, ``docs/sandbox-choices.md``): the
new 3.6 fields of shared structures (customer ``phone_number``, ``omnichannel``,
``address``; rich message ``ecommerce``; postback ``button_type``...), which a
3.5 client ignores.

Rules: pure (no I/O); a request's version is its own ``version`` or its
connection's, and may not be lower than the connection's (docs/protocol.md §1.4); each
push is stamped with the version it is delivered in (§1.5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import UnsupportedVersionError
from ..protocol import methods as m

__all__ = [
    "LEGACY_UNTIL",
    "SUPPORTED_VERSIONS",
    "Subscription",
    "adapt_result",
    "knows_action",
    "knows_push",
    "request_version",
]

SUPPORTED_VERSIONS = ("3.5", "3.6")
"""The versions served, oldest first."""

LEGACY_UNTIL = {"3.5": "2027-02-07"}
"""The ``Legacy`` header of each legacy version (no date in the docs: a placeholder)."""

_NEW_IN_3_6_ACTIONS = frozenset(
    {"delete_event", "request_welcome_message", "send_greeting_button_clicked"}
)
_NEW_IN_3_6_PUSHES = frozenset(
    {
        "event_deleted",
        "incoming_event_preview",
        "incoming_thinking_indicator",
        "incoming_welcome_message",
    }
)


def _rank(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def knows_action(version: str, action: str) -> bool:
    """Whether ``action`` exists in ``version``."""
    return version != "3.5" or action not in _NEW_IN_3_6_ACTIONS


def knows_push(version: str, push: str) -> bool:
    """Whether the push ``push`` exists in ``version``."""
    return version != "3.5" or push not in _NEW_IN_3_6_PUSHES


def request_version(requested: str | None, connection: str) -> str:
    """The version a request runs in: its own, or its connection's.

    Raises:
        UnsupportedVersionError: a version the sandbox does not serve, or one
            lower than the connection's (§1.4).
    """
    if requested is None:
        return connection
    if requested not in SUPPORTED_VERSIONS or _rank(requested) < _rank(connection):
        raise UnsupportedVersionError("Cannot call unsupported API versions.")
    return requested


def adapt_result(action: str, result: Any, version: str) -> Any:
    """A 3.6 result in the shape ``version`` documents for ``action``."""
    if version != "3.5":
        return result
    if isinstance(result, m.UpdateCustomerPageResult):
        return m.UpdateCustomerPageResult()  # `groups` is new in 3.6
    if isinstance(result, m.GetDynamicConfigurationResult):
        livechat = result.livechat or m.DynamicLivechatConfiguration()
        return {  # the flat 3.5 shape (v3.5 Web reference)
            "group_id": livechat.group_id,
            "organization_id": result.organization_id,
            "client_limit_exceeded": livechat.client_limit_exceeded,
            "domain_allowed": livechat.domain_allowed,
            "online_group_ids": livechat.online_group_ids,
            "config_version": livechat.config_version,
            "localization_version": livechat.localization_version,
            "language": livechat.language,
        }
    return result


class Subscription:
    """Which pushes a connection gets, and the version each is stamped with.

    Without a ``pushes`` field at login, a connection gets every push of its own
    version (§1.5). With one, it gets the pushes listed (``"all"``: every push
    of that version) in the version they are listed under; a push listed under
    two versions comes in the higher one. A name a version does not have (the
    JS SDK 4.0.2 still lists ``customer_page_updated``) is accepted and never
    sent.

    Args:
        version: the connection's version.
        pushes: the login's ``pushes`` field, if any; versions the sandbox
            does not serve are ignored.
    """

    def __init__(
        self, version: str, pushes: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.version = version
        """The connection's version."""
        self._every: list[str] = [] if pushes is not None else [version]
        self._listed: dict[str, str] = {}
        lists = dict(pushes or {})
        for listed_in in sorted(lists, key=_rank):
            if listed_in not in SUPPORTED_VERSIONS:
                continue  # the docs' own sample lists "3.7" (a preview): ignored
            for name in lists[listed_in]:
                if name == "all":
                    self._every.append(listed_in)
                else:
                    self._listed[name] = listed_in

    def version_of(self, push: str) -> str | None:
        """The version to deliver ``push`` in; ``None``: not subscribed."""
        candidates = [v for v in self._every if knows_push(v, push)]
        listed = self._listed.get(push)
        if listed is not None and knows_push(listed, push):
            candidates.append(listed)
        return max(candidates, key=_rank) if candidates else None
