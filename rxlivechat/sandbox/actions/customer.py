"""The customer and their session: login, their data and page."""

from __future__ import annotations

from typing import Any

from ...exceptions import GroupNotFoundError, ValidationError
from ...protocol import methods as m
from ...protocol.base import EmptyResult
from ...protocol.models import GroupStatus
from ...protocol.pushes import CustomerSideStorageUpdated, CustomerUpdated
from ..records import CustomerRecord
from .backend import Backend
from .base import Outcome, Outgoing, ok
from .checks import (
    check_customer_size,
    is_http_url,
    merged_session_fields,
    session_fields,
)
from .registry import handles


@handles(m.Login)
def login(
    backend: Backend, customer: CustomerRecord, req: m.Login
) -> Outcome[m.LoginResult]:
    """Log the customer in on a socket: their data, chats and greeting."""
    store = backend.store
    changes: dict[str, Any] = {}
    if req.customer is not None:
        data = req.customer
        if data.session_fields is not None:
            changes["session_fields"] = session_fields(data.session_fields)
        for name in ("name", "email", "avatar", "address"):
            value = getattr(data, name)
            if value is not None:
                changes[name] = value
    if req.customer_page is not None:
        changes["page_url"] = req.customer_page.url
        changes["page_title"] = req.customer_page.title
    if req.customer_side_storage is not None:
        changes["customer_side_storage"] = dict(req.customer_side_storage)
    check_customer_size(backend, customer, changes)
    if req.customer is not None:
        for name in ("session_fields", "name", "email", "avatar", "address"):
            if name in changes:
                setattr(customer, name, changes[name])
    if req.group_id is not None:
        if store.group(req.group_id) is None:
            raise GroupNotFoundError("Group not found")
        customer.group_id = req.group_id
    if req.customer_page is not None:
        customer.page_url = req.customer_page.url
        customer.page_title = req.customer_page.title
        customer.page_views_count += 1
    customer.visits_count += 1
    if req.customer_side_storage is not None:
        customer.customer_side_storage = dict(req.customer_side_storage)
    customer.customer_side_storage["customer_visits"] = str(customer.visits_count)
    chats = store.customer_chats(customer.id)
    greeting = store.shown_greeting(customer.id)
    online = [g.id for g in store.groups.values() if g.status != "offline"]
    result = m.LoginResult(
        customer=store.customer_model(customer, statistics=True),
        has_active_thread=any(c.active for c in chats),
        chats=[
            m.LoginChat(
                chat_id=c.id, has_unread_events=store.has_unread(c, customer.id)
            )
            for c in reversed(chats)
        ],
        greeting=None if greeting is None else store.show_greeting(greeting),
        priv_dynamic_config={
            "online_groups_ids": online,
            "customer_groups": {
                "monitoring": {
                    "id": customer.group_id,
                    "static_config_url": f"/licence/{store.organization_id}/"
                    f"get_static_config.{customer.group_id}.js",
                    "language_config_url": f"/licence/{store.organization_id}/"
                    f"v2/localization.en.{customer.group_id}.js",
                }
            },
        },
    )
    storage = CustomerSideStorageUpdated(
        customer_side_storage=dict(customer.customer_side_storage)
    )
    return Outcome(result, [Outgoing(storage, frozenset({customer.id}))])


@handles(m.UpdateCustomer)
def update_customer(
    backend: Backend, customer: CustomerRecord, req: m.UpdateCustomer
) -> Outcome[EmptyResult]:
    """Change the customer's data (session fields merge)."""
    changed: dict[str, Any] = {}
    if req.session_fields is not None:
        # customer-sdk/index.mdx (updateCustomer): "total amount of session
        # fields would have been exceeded after requested update": they merge.
        changed["session_fields"] = session_fields(
            merged_session_fields(customer.session_fields, req.session_fields)
        )
    # phone_number and name_is_default are not in the v3.6 request table;
    # lc-sdk-python sends them, so they are kept (docs/sandbox-choices.md).
    for name in ("name", "email", "avatar", "phone_number", "address"):
        value = getattr(req, name)
        if value is not None:
            changed[name] = value
    if req.omnichannel is not None:
        changed["omnichannel"] = _omnichannel(req.omnichannel)
    if not changed and req.name_is_default is None:
        raise ValidationError("At least one customer field is required")
    check_customer_size(backend, customer, changed)
    for name, value in changed.items():
        setattr(customer, name, value)
    if not changed:
        return ok()
    push = CustomerUpdated(id=customer.id, **changed)
    return ok([Outgoing(push, backend.customer_audience(customer))])


@handles(m.UpdateCustomerPage)
def update_customer_page(
    backend: Backend, customer: CustomerRecord, req: m.UpdateCustomerPage
) -> Outcome[m.UpdateCustomerPageResult]:
    """The page the customer is on (it may route them to a group)."""
    if not is_http_url(req.url):
        raise ValidationError("url must be an http(s) URL")
    check_customer_size(
        backend, customer, {"page_url": req.url, "page_title": req.title}
    )
    customer.page_url = req.url
    customer.page_title = req.title
    customer.page_views_count += 1
    # A page can route the customer to another group (the groups' pages);
    # the reply names the new group only when the assignment changed.
    routed = next(
        (
            g
            for _, g in sorted(backend.store.groups.items())
            if any(req.url.startswith(page) for page in g.pages)
        ),
        None,
    )
    if routed is None or routed.id == customer.group_id:
        return Outcome(m.UpdateCustomerPageResult())
    customer.group_id = routed.id
    status = GroupStatus(id=routed.id, status=routed.status)
    return Outcome(m.UpdateCustomerPageResult(groups=[status]))


@handles(m.ActivateCustomerPage)
def activate_customer_page(
    backend: Backend, customer: CustomerRecord, req: m.ActivateCustomerPage
) -> Outcome[EmptyResult]:
    """The customer's page is in the foreground."""
    customer.page_active = True
    return ok()


@handles(m.DeactivateCustomerPage)
def deactivate_customer_page(
    backend: Backend, customer: CustomerRecord, req: m.DeactivateCustomerPage
) -> Outcome[EmptyResult]:
    """The customer's page went to the background."""
    customer.page_active = False
    return ok()


@handles(m.SetCustomerSessionFields)
def set_customer_session_fields(
    backend: Backend, customer: CustomerRecord, req: m.SetCustomerSessionFields
) -> Outcome[EmptyResult]:
    """Replace the customer's session fields."""
    # No customer_updated push: the 3.1/3.2 changelog says it stopped (§9.4).
    fields = session_fields(req.session_fields)
    check_customer_size(backend, customer, {"session_fields": fields})
    customer.session_fields = fields
    return ok()


@handles(m.GetCustomer)
def get_customer(
    backend: Backend, customer: CustomerRecord, req: m.GetCustomer
) -> Outcome[m.GetCustomerResult]:
    """The customer, with the statistics the JS SDK reads."""
    # The docs' sample shows none, but the JS SDK reads statistics.chats_count
    # here (and the SDK v4 docs list them): the same counters as login's.
    return Outcome(backend.store.customer_model(customer, statistics=True))


@handles(m.RequestEmailVerification)
def request_email_verification(
    backend: Backend, customer: CustomerRecord, req: m.RequestEmailVerification
) -> Outcome[EmptyResult]:
    """Record the request (the sandbox sends no e-mail)."""
    if not is_http_url(req.callback_uri):
        raise ValidationError("callback_uri must be an http(s) URL")
    # No e-mail and no callback: the sandbox only records the request.
    kept = backend.store.email_verifications
    kept.append((customer.id, req.callback_uri))
    del kept[: -backend.store.bounds.email_verifications]  # the latest only
    return ok()


def _omnichannel(value: m.Omnichannel) -> dict[str, Any]:
    """The request's snake_case identities as the Customer shows them (§4.4)."""
    result: dict[str, Any] = {}
    fb = value.fbmessenger
    if fb is not None:
        record = {
            "ID": fb.id,
            "Name": fb.name,
            "FirstName": fb.first_name,
            "LastName": fb.last_name,
            "ProfilePicURL": fb.profile_pic,
            "Gender": fb.gender,
            "Locale": fb.locale,
            "IsVerifiedUser": fb.is_verified_user,
        }
        result["fb_messenger"] = [{k: v for k, v in record.items() if v is not None}]
    if value.twilio is not None:
        phone = value.twilio.phone_number
        result["twilio"] = [{phone: {"phone_number": phone}}]
    return result
