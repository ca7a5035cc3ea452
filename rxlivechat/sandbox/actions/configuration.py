"""The organization's configuration as a customer reads it: groups, forms, routing."""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

from ...exceptions import GroupNotFoundError, ValidationError
from ...protocol import methods as m
from ...protocol.base import EmptyResult
from ..records import CustomerRecord
from .backend import Backend, copy_properties
from .base import Outcome, ok
from .checks import is_http_url, session_fields
from .registry import handles


@handles(m.ListGroupStatuses)
def list_group_statuses(
    backend: Backend, customer: CustomerRecord, req: m.ListGroupStatuses
) -> Outcome[m.ListGroupStatusesResult]:
    """The status of every group, or of the groups asked for."""
    groups = backend.store.groups
    if req.all:
        chosen = list(groups.values())
    elif req.group_ids is not None:
        chosen = [groups[i] for i in req.group_ids if i in groups]
    else:
        raise ValidationError("Either all or group_ids is required")
    return Outcome(
        m.ListGroupStatusesResult(groups_status={str(g.id): g.status for g in chosen})
    )


@handles(m.GetForm)
def get_form(
    backend: Backend, customer: CustomerRecord, req: m.GetForm
) -> Outcome[m.GetFormResult]:
    """A group's prechat, postchat or ticket form (``enabled`` false when off)."""
    if req.type not in _FORM_TYPES:
        raise ValidationError("type must be prechat, postchat or ticket")
    if backend.store.group(req.group_id) is None:
        raise GroupNotFoundError("Group not found")
    form = backend.store.form(req.group_id, req.type)
    return Outcome(m.GetFormResult(enabled=form is not None, form=form))


@handles(m.GetPredictedAgent)
def get_predicted_agent(
    backend: Backend, customer: CustomerRecord, req: m.GetPredictedAgent
) -> Outcome[m.GetPredictedAgentResult]:
    """The agent routing would pick now, and whether the chat would queue."""
    agent, queue = backend.predict(customer, req.group_id)
    return Outcome(m.GetPredictedAgentResult(agent=agent, queue=queue))


@handles(m.GetUrlInfo)
def get_url_info(
    backend: Backend, customer: CustomerRecord, req: m.GetUrlInfo
) -> Outcome[m.GetUrlInfoResult]:
    """A preview of a URL, built from the URL itself (no network)."""
    if not is_http_url(req.url):
        raise ValidationError("url must be an http(s) URL")
    host = urlsplit(req.url).hostname or req.url
    # No network: a deterministic preview built from the URL itbackend.
    return Outcome(
        m.GetUrlInfoResult(
            url=req.url,
            title=host,
            description=f"Preview of {req.url}",
            image_url=f"https://cdn.livechat-static.com/api/preview/{host}.png",
            image_original_url=f"https://{host}/favicon.png",
            image_width=200,
            image_height=200,
        )
    )


@handles(m.CheckGoals)
def check_goals(
    backend: Backend, customer: CustomerRecord, req: m.CheckGoals
) -> Outcome[EmptyResult]:
    """Goals are not modelled: the request is checked, nothing happens."""
    if backend.store.group(req.group_id) is None:
        raise GroupNotFoundError("Group not found")
    session_fields(req.session_fields)
    return ok()


@handles(m.GetDynamicConfiguration)
def get_dynamic_configuration(
    backend: Backend, customer: CustomerRecord, req: m.GetDynamicConfiguration
) -> Outcome[m.GetDynamicConfigurationResult]:
    """What the widget needs before it starts (online groups, versions)."""
    group = backend.group(
        req.group_id if req.group_id is not None else customer.group_id
    )
    return Outcome(
        m.GetDynamicConfigurationResult(
            organization_id=backend.store.organization_id,
            default_widget="livechat",
            livechat_active=True,
            livechat=m.DynamicLivechatConfiguration(
                group_id=group.id,
                client_limit_exceeded=False,
                domain_allowed=True,
                online_group_ids=[
                    g.id for g in backend.store.groups.values() if g.status != "offline"
                ],
                config_version=f"{group.id}.0.1",
                localization_version="1",
                language=group.language,
            ),
        )
    )


@handles(m.GetConfiguration)
def get_configuration(
    backend: Backend, customer: CustomerRecord, req: m.GetConfiguration
) -> Outcome[m.GetConfigurationResult]:
    """A group's widget configuration: forms and properties."""
    group = backend.group(req.group_id)
    prechat = backend.store.form(group.id, "prechat")
    ticket = backend.store.form(group.id, "ticket")
    return Outcome(
        m.GetConfigurationResult(
            buttons=[],
            prechat_form=None if prechat is None else msgspec.to_builtins(prechat),
            ticket_form=None if ticket is None else msgspec.to_builtins(ticket),
            integrations={},
            properties={
                "group": copy_properties(group.properties),
                "license": copy_properties(backend.store.license_properties),
            },
        )
    )


@handles(m.GetLocalization)
def get_localization(
    backend: Backend, customer: CustomerRecord, req: m.GetLocalization
) -> Outcome[dict[str, str]]:
    """The widget's phrases (the same for every group and language)."""
    backend.group(req.group_id)
    return Outcome(dict(_PHRASES))


_FORM_TYPES = frozenset({"prechat", "postchat", "ticket"})


_PHRASES = {
    "Agents_currently_not_available": "Our agents are not available at the moment.",
    "Chat_session_closed": "Chat session has been closed.",
    "Embedded_minimize_window": "Minimize window",
    "Embedded_textarea_placeholder": "Write a message...",
    "Welcome_title": "Chat with us",
}
