"""The organization's staff: the agents and groups a sandbox starts with.

A real organization has people online, so a fresh :class:`~.server.Sandbox` has
one agent online and accepting chats in the default group (0):
``get_predicted_agent`` and ``request_welcome_message`` succeed as they would in
production. ``Sandbox(agents=[])`` empties the roster (then routing answers
``group_unavailable``); ``Sandbox(groups=...)`` configures the groups, their
statuses and the pages that route a customer to them (``update_customer_page``).

Example:
    >>> Sandbox(                                               # doctest: +SKIP
    ...     agents=["Jane", RosterAgent("Bot", is_bot=True, group_ids=(1,))],
    ...     groups=[RosterGroup(1, "Sales", pages=("https://shop.example/",))],
    ... )
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .store import GroupRecord, SandboxState

__all__ = [
    "DEFAULT_AGENTS",
    "GROUP_STATUSES",
    "RosterAgent",
    "RosterGroup",
    "staff",
]

GROUP_STATUSES = frozenset({"online", "online_for_queue", "offline"})
"""The statuses a group can have (``list_group_statuses``)."""


@dataclass(frozen=True)
class RosterAgent:
    """An agent the sandbox starts with.

    Attributes:
        name: the display name (what :meth:`Sandbox.agent` looks agents up by).
        job_title: shown with the agent.
        avatar: an avatar URL.
        is_bot: a bot rather than a person.
        group_ids: the groups the agent works in (0: the default group).
        available: online and accepting chats (routing may predict them).
    """

    name: str
    job_title: str = "Support Agent"
    avatar: str | None = None
    is_bot: bool = False
    group_ids: tuple[int, ...] = (0,)
    available: bool = True


@dataclass(frozen=True)
class RosterGroup:
    """A group the sandbox starts with.

    Attributes:
        id: the group id (0 is the default group every organization has).
        name: the group's name.
        status: ``online``, ``online_for_queue`` or ``offline``.
        language: the widget language (``get_dynamic_configuration``).
        pages: URL prefixes: a customer whose page (``update_customer_page``)
            starts with one is assigned to this group.
    """

    id: int
    name: str
    status: str = "online"
    language: str = "en"
    pages: tuple[str, ...] = ()


DEFAULT_AGENTS = (RosterAgent("Sam Taylor"),)
"""The roster of a fresh sandbox: one agent online in the default group."""


def staff(
    store: SandboxState,
    agents: Iterable[str | RosterAgent],
    groups: Iterable[RosterGroup] = (),
) -> None:
    """Put the roster into an empty store.

    The default group 0 ("General", online) is kept unless ``groups`` gives its
    own group 0.

    Raises:
        ValueError: a status that does not exist, a group id given twice, or an
            agent in a group that does not exist.
    """
    seen: set[int] = set()
    for group in groups:
        if group.status not in GROUP_STATUSES:
            raise ValueError(f"group {group.id}: unknown status {group.status!r}")
        if group.id in seen or group.id < 0:
            raise ValueError(f"group id {group.id} is negative or given twice")
        seen.add(group.id)
        store.groups[group.id] = GroupRecord(
            id=group.id,
            name=group.name,
            status=group.status,
            language=group.language,
            pages=group.pages,
        )
    for agent in agents:
        spec = RosterAgent(agent) if isinstance(agent, str) else agent
        missing = set(spec.group_ids) - set(store.groups)
        if missing:
            raise ValueError(f"agent {spec.name!r}: no group {sorted(missing)}")
        record = store.new_agent(
            spec.name,
            job_title=spec.job_title,
            avatar=spec.avatar,
            is_bot=spec.is_bot,
            group_ids=spec.group_ids,
        )
        record.available = spec.available
