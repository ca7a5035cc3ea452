"""The staff a sandbox starts with: one agent online by default; agents and groups
configurable (``Sandbox(agents=..., groups=...)``)."""

from __future__ import annotations

import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.sandbox import RosterAgent, RosterGroup, Sandbox

from .conftest import Connect


async def test_a_fresh_sandbox_has_an_agent_online(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    predicted = await rtm.call(m.GetPredictedAgent())
    assert predicted.agent.name == "Sam Taylor"
    assert predicted.queue is False
    welcome = await rtm.call(m.RequestWelcomeMessage())
    assert welcome.predicted_agent.id == predicted.agent.id
    # The roster agent is a scripted agent on first use, like any other.
    assert sandbox.agent("Sam Taylor").id == predicted.agent.id


async def test_an_empty_roster_has_no_one_to_route_to(connect: Connect) -> None:
    async with Sandbox(agents=[]) as sandbox:
        rtm = await connect(sandbox)
        for method in (m.GetPredictedAgent(), m.RequestWelcomeMessage()):
            error = await rtm.error(method)
            assert error.error.type == "group_unavailable"


async def test_agents_and_groups_are_configurable(connect: Connect) -> None:
    async with Sandbox(
        agents=[
            "Jane",
            RosterAgent("Away", available=False),
            RosterAgent("Sales bot", is_bot=True, group_ids=(2,)),
        ],
        groups=[
            RosterGroup(1, "Support", status="offline"),
            RosterGroup(2, "Sales", status="online_for_queue", language="de"),
        ],
    ) as sandbox:
        rtm = await connect(sandbox)
        statuses = await rtm.call(m.ListGroupStatuses(all=True))
        assert statuses.groups_status == {
            "0": "online",
            "1": "offline",
            "2": "online_for_queue",
        }
        predicted = await rtm.call(m.GetPredictedAgent())
        assert predicted.agent.name == "Jane"
        sales = await rtm.call(m.GetPredictedAgent(group_id=2))
        assert (sales.agent.name, sales.agent.is_bot, sales.queue) == (
            "Sales bot",
            True,
            True,
        )
        offline = await rtm.error(m.GetPredictedAgent(group_id=1))
        assert offline.error.type == "group_offline"
        assert sandbox.store.groups[2].language == "de"


async def test_a_group_0_given_replaces_the_default_one() -> None:
    async with Sandbox(groups=[RosterGroup(0, "Front desk", status="offline")]) as s:
        assert s.store.groups[0].name == "Front desk"
        assert s.store.groups[0].status == "offline"


@pytest.mark.parametrize(
    ("agents", "groups", "message"),
    [
        ([], [RosterGroup(1, "A", status="busy")], "unknown status"),
        ([], [RosterGroup(1, "A"), RosterGroup(1, "B")], "given twice"),
        ([RosterAgent("Lost", group_ids=(7,))], [], "no group"),
    ],
)
def test_a_roster_that_cannot_exist_is_refused(
    agents: list[RosterAgent], groups: list[RosterGroup], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Sandbox(agents=agents, groups=groups)
