"""The widget's configuration, its phrases, goals (docs/protocol.md §2.6)."""

from __future__ import annotations

from typing import Any, TypeAlias

from ..base import EmptyResult, Method, Model
from ..models import (
    FormDefinition,
)
from .fields import (
    GroupId,
    HttpUrl,
    Id,
    SessionFieldsIn,
)


class CheckGoals(Method[EmptyResult]):
    """Check goals for a customer who cannot chat now (Web API only).

    Meant for offline customers when the license's customer limit is reached.

    Args:
        session_fields: single-key maps, e.g. ``[{"plan": "pro"}]``.
        group_id: the group.
        page_url: the page the customer is on.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad argument.

    Example:
        >>> await sdk.check_goals([{"plan": "pro"}], 0,
        "https://shop.example.com/thanks") EmptyResult()
    """

    action = "check_goals"
    rtm = False

    session_fields: SessionFieldsIn
    group_id: GroupId
    page_url: HttpUrl


class DynamicLivechatConfiguration(Model):
    """The ``livechat`` part of ``get_dynamic_configuration``'s reply."""

    group_id: int | None = None
    client_limit_exceeded: bool | None = None
    domain_allowed: bool | None = None
    online_group_ids: list[int] | None = None
    config_version: str | None = None
    localization_version: str | None = None
    language: str | None = None


class GetDynamicConfigurationResult(Model):
    """The reply of ``get_dynamic_configuration``."""

    organization_id: str | None = None
    default_widget: str | None = None
    livechat_active: bool | None = None
    livechat: DynamicLivechatConfiguration | None = None


class GetDynamicConfiguration(Method[GetDynamicConfigurationResult]):
    """The widget's dynamic configuration (Web API ``GET``).

    Args:
        group_id: the group (the customer's by default).
        url: the page the widget is on.
        channel_type: the channel, e.g. ``"code"``.
        test: ask for the test configuration.

    Returns:
        An observable of ``organization_id``, ``default_widget``,
        ``livechat_active`` and ``livechat`` (``config_version``,
        ``localization_version``, ``language``... for the calls below).

    Raises:
        InvalidArgumentError: a bad argument.

    Example:
        >>> dynamic = await sdk.get_dynamic_configuration(group_id=0)
        >>> dynamic.livechat_active
        True
    """

    action = "get_dynamic_configuration"
    rtm = False
    web = "GET"

    group_id: GroupId | None = None
    url: Id | None = None
    channel_type: Id | None = None
    test: bool | None = None


class ConfigurationButton(Model):
    """A chat button of ``get_configuration``'s reply."""

    id: str
    type: str | None = None
    online_value: str | None = None
    offline_value: str | None = None


class GetConfigurationResult(Model):
    """The reply of ``get_configuration``; the maps are undocumented dicts."""

    buttons: list[ConfigurationButton] | None = None
    ticket_form: FormDefinition | None = None
    prechat_form: FormDefinition | None = None
    integrations: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None


class GetConfiguration(Method[GetConfigurationResult]):
    """The widget's configuration of a group (Web API ``GET``).

    Args:
        group_id: the group.
        version: ``livechat.config_version`` of the dynamic configuration.

    Returns:
        An observable of ``buttons``, the forms, ``integrations`` and
        ``properties`` (``group`` and ``license``).

    Raises:
        InvalidArgumentError: a bad argument.

    Example:
        >>> dynamic = await sdk.get_dynamic_configuration()
        >>> version = dynamic.livechat.config_version
        >>> config = await sdk.get_configuration(0, version)
    """

    action = "get_configuration"
    rtm = False
    web = "GET"

    group_id: GroupId
    version: Id


GetLocalizationResult: TypeAlias = dict[str, str]
"""The reply of ``get_localization``: phrase key → text."""


class GetLocalization(Method[GetLocalizationResult]):
    """The widget's phrases in a language (Web API ``GET``).

    Args:
        group_id: the group.
        language: a language code, e.g. ``"en"``.
        version: ``livechat.localization_version`` of the dynamic configuration.

    Returns:
        An observable of ``{"Phrase_key": "text"}``.

    Raises:
        InvalidArgumentError: a bad argument.

    Example:
        >>> live = (await sdk.get_dynamic_configuration()).livechat
        >>> phrases = await sdk.get_localization(
        ...     0, live.language, live.localization_version
        ... )
    """

    action = "get_localization"
    result_type = GetLocalizationResult
    rtm = False
    web = "GET"

    group_id: GroupId
    language: Id
    version: Id
