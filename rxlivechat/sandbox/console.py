"""The agent console: a web page, served by the sandbox, where a person plays an agent.

Open ``<api_url>/console/`` in a browser: the chats of the organization on the left,
the conversation on the right, live (the customer's messages and sneak peeks), and a
reply box, transfer and close. The page is three static files shipped in the package
(``console/index.html``, ``console.js``, ``console.css``: no build step, no CDN);
this module is its backend, a sub-application mounted on the sandbox's app:

=========================================  ========================================
``GET /console/``                          the page (and its two static files)
``POST /console/api/state``                everything the page shows, as JSON
``GET /console/api/ws``                    the live feed: ``state``, then ``chat``
``POST /console/api/chats/<id>/<action>``  ``message``, ``typing``, ``join``,
                                           ``transfer``, ``close`` (JSON bodies)
=========================================  ========================================

The console plays one :class:`~.agents.ScriptedAgent`, so what the person does
reaches customers exactly as a scripted agent's actions do. It is "accepting
chats": it joins every active chat of its groups, as LiveChat's routing assigns
chats to an available agent. It watches the agent's pushes
(:attr:`ScriptedAgent.pushes <.agents.ScriptedAgent.pushes>`) without taking
them from its inbox, so test code may script the same agent at the same time.

Nothing happens until the console is first used (the page loads, or the API is
called): a sandbox nobody opens the console of has no extra agent and no extra task.

Only same-origin requests are served (``Origin``, when sent, must be the sandbox's
own; ``Host`` must be a loopback name). Whatever starts the console or acts
(``api/state``, ``api/ws``, the actions) needs the page's own ``Origin``, a
``Sec-Fetch-Site`` of ``same-origin`` when sent, and is never a plain GET, so an
``<img>`` or a link on another site cannot turn it on; actions need a JSON body.
The page allows nothing but its own origin (Content-Security-Policy): another
site open in the same browser cannot drive the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.resources
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

import msgspec
from aiohttp import WSCloseCode, web

from ..exceptions import NotFoundError, ServerError, ValidationError
from ..protocol.base import Model, PushPayload
from ..protocol.models import (
    Custom,
    Event,
    File,
    FilledForm,
    Form,
    Message,
    RichMessage,
    SystemEvent,
    SystemMessage,
    UnknownEvent,
)
from ..protocol.pushes import IncomingChat
from .agents import ScriptedAgent
from .records import ChatRecord, CustomerRecord
from .store import SandboxState

__all__ = [
    "CONSOLE_PATH",
    "Console",
    "ConsoleHost",
    "ConsoleChat",
    "ConsoleCustomer",
    "ConsoleEvent",
    "ConsoleState",
    "ConsoleUser",
]

logger = logging.getLogger("rxlivechat.sandbox")

CONSOLE_PATH = "/console"
"""Where the sandbox mounts the console (its page is at ``/console/``)."""

DEFAULT_AGENT_NAME = "Console Agent"

_STATIC = {
    "index.html": "text/html",
    "console.js": "text/javascript",
    "console.css": "text/css",
}

_HEADERS = {
    # The page loads and talks to its own origin only, and is never framed.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# What the page gets -----------------------------------------------------------------


class ConsoleUser(msgspec.Struct):
    """An agent or a group, as a transfer target."""

    id: str
    name: str


class ConsoleCustomer(msgspec.Struct):
    """Who the customer of a chat is, and where they are."""

    id: str
    name: str | None
    email: str | None
    page_url: str | None
    page_title: str | None


class ConsoleEvent(msgspec.Struct):
    """One event of a chat, reduced to what a person reads.

    ``author`` is ``customer``, ``me`` (the console's agent), ``agent`` (another
    agent) or ``system``; ``text`` is a readable rendering of any event type.
    """

    id: str
    thread_id: str
    type: str
    author: str
    author_name: str | None
    text: str
    created_at: datetime.datetime | None
    url: str | None = None


class ConsoleChat(msgspec.Struct):
    """A chat as the console shows it: every thread's events, oldest first.

    ``joined``: the console's agent is in the chat. ``sneak_peek``: what the
    customer is typing (their last sneak peek since their last message).
    """

    id: str
    customer: ConsoleCustomer
    active: bool
    joined: bool
    agents: list[str]
    group_ids: list[int]
    events: list[ConsoleEvent]
    sneak_peek: str | None
    updated_at: datetime.datetime | None


class ConsoleState(msgspec.Struct):
    """Everything the page shows; open chats first, then the latest activity first."""

    organization_id: str
    agent: ConsoleUser
    agents: list[ConsoleUser]
    """The other agents (transfer targets)."""
    groups: list[ConsoleUser]
    chats: list[ConsoleChat]


class _Text(msgspec.Struct):
    text: str


class _Typing(msgspec.Struct):
    is_typing: bool


class _Transfer(msgspec.Struct):
    group_id: int | None = None
    agent_id: str | None = None


class _Empty(msgspec.Struct):
    pass


class _Error(msgspec.Struct):
    type: str
    message: str


class _ErrorBody(msgspec.Struct):
    error: _Error


class _Update(msgspec.Struct, tag_field="type", tag="chat"):
    chat: ConsoleChat


class _Snapshot(msgspec.Struct, tag_field="type", tag="state"):
    state: ConsoleState


class ConsoleHost(Protocol):
    """What the console needs of its sandbox (the Sandbox is one)."""

    @property
    def api_url(self) -> str:
        """The sandbox's base URL (the page's URL starts with it)."""
        ...

    @property
    def store(self) -> SandboxState:
        """The state the page shows."""
        ...

    def agent(self, name: str) -> ScriptedAgent:
        """The scripted agent the person plays."""
        ...

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run the watcher as a tracked task."""
        ...


# The console --------------------------------------------------------------------------


class Console:
    """The agent console of a sandbox (the sandbox makes one: ``sandbox.console``).

    Args:
        sandbox: the sandbox it is part of.
        agent_name: the agent the person plays (by name; created if needed);
            ``None`` plays the organization's first agent, or a new
            ``"Console Agent"`` when there is none.
        poll_interval: how often (seconds) the agent's new pushes are looked at.
    """

    def __init__(
        self,
        sandbox: ConsoleHost,
        *,
        agent_name: str | None = None,
        poll_interval: float = 0.05,
    ) -> None:
        self._sandbox = sandbox
        self.agent_name = agent_name
        """The agent to play; set it before the console is first used."""
        self._agent: ScriptedAgent | None = None
        self._poll_interval = poll_interval
        self._sockets: dict[web.WebSocketResponse, asyncio.Lock] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The page's URL, e.g. ``http://127.0.0.1:8080/console/``."""
        return f"{self._sandbox.api_url}{CONSOLE_PATH}/"

    @property
    def agent(self) -> ScriptedAgent:
        """The agent the person plays (created on first use)."""
        if self._agent is None:
            store = self._sandbox.store
            name = self.agent_name
            if name is None:
                first = next(iter(store.agents.values()), None)
                name = first.name if first is not None else DEFAULT_AGENT_NAME
            self._agent = self._sandbox.agent(name)
        return self._agent

    def state(self) -> ConsoleState:
        """What the page shows now (activates the console)."""
        self._activate()
        agent = self.agent
        store = self._sandbox.store
        chats = [self.chat(chat_id) for chat_id in store.chats]
        chats.sort(key=lambda c: (c.active, c.updated_at or _EPOCH), reverse=True)
        return ConsoleState(
            organization_id=store.organization_id,
            agent=ConsoleUser(agent.id, agent.name),
            agents=[
                ConsoleUser(a.id, a.name)
                for a in store.agents.values()
                if a.id != agent.id
            ],
            groups=[ConsoleUser(str(g.id), g.name) for g in store.groups.values()],
            chats=chats,
        )

    def chat(self, chat_id: str) -> ConsoleChat:
        """One chat as the page shows it.

        Raises:
            NotFoundError: no such chat.
        """
        store = self._sandbox.store
        record = store.chats.get(chat_id)
        if record is None:
            raise NotFoundError("Chat not found")
        customer = store.customers.get(record.customer_id) or CustomerRecord(
            id=record.customer_id
        )
        events = [
            self._event(record, thread.id, event)
            for thread in record.threads
            for event in thread.events
            if event.id not in thread.deleted
        ]
        return ConsoleChat(
            id=record.id,
            customer=ConsoleCustomer(
                id=customer.id,
                name=customer.name,
                email=customer.email,
                page_url=customer.page_url,
                page_title=customer.page_title,
            ),
            active=record.active,
            joined=self.agent.id in record.present,
            agents=[
                store.agents[a].name
                for a in sorted(record.present)
                if a in store.agents
            ],
            group_ids=list(record.access.group_ids),
            events=events,
            sneak_peek=_sneak_peek(record),
            updated_at=events[-1].created_at if events else None,
        )

    def app(
        self, wrap: Callable[[Handler], Handler] = lambda handler: handler
    ) -> web.Application:
        """A new sub-application serving the page and its API (one per start).

        Args:
            wrap: what the sandbox puts around every handler (its own checks).
        """
        app = web.Application()

        def route(method: str, path: str, handler: Handler, *, acts: bool) -> None:
            app.router.add_route(method, path, wrap(_same_origin(handler, acts=acts)))

        route("GET", "", self._redirect, acts=False)
        route("GET", "/", self._static, acts=False)
        for name in _STATIC:
            route("GET", f"/{name}", self._static, acts=False)
        route("POST", "/api/state", self._get_state, acts=True)
        route("GET", "/api/ws", self._feed, acts=True)
        route("POST", "/api/chats/{chat_id}/{action}", self._act, acts=True)
        app.on_shutdown.append(self._close_sockets)
        return app

    # Acting -----------------------------------------------------------------------

    async def act(self, chat_id: str, action: str, body: bytes = b"{}") -> ConsoleChat:
        """Do what the page asked in a chat; returns the chat after it.

        Args:
            chat_id: the chat.
            action: ``message`` (``{"text"}``), ``typing`` (``{"is_typing"}``),
                ``join``, ``transfer`` (``{"group_id"}`` or ``{"agent_id"}``),
                ``close``.
            body: the request's JSON body.

        Raises:
            ServerError: the action is refused (unknown, bad body, inactive chat).
        """
        self._activate()
        perform = {
            "message": self._message,
            "typing": self._typing,
            "join": self._join,
            "transfer": self._transfer,
            "close": self._close,
        }.get(action)
        if perform is None:
            raise NotFoundError(f"Unknown console action: {action}")
        self.chat(chat_id)  # NotFoundError before anything is decoded
        await perform(chat_id, body)
        self._changed(chat_id)
        return self.chat(chat_id)

    async def _message(self, chat_id: str, body: bytes) -> None:
        text = _decode(body, _Text).text
        if not text.strip():
            raise ValidationError("The message is empty")
        await self.agent.send_message(chat_id, text)

    async def _typing(self, chat_id: str, body: bytes) -> None:
        await self.agent.typing(chat_id, _decode(body, _Typing).is_typing)

    async def _join(self, chat_id: str, body: bytes) -> None:
        _decode(body, _Empty)
        await self.agent.join(chat_id)

    async def _transfer(self, chat_id: str, body: bytes) -> None:
        target = _decode(body, _Transfer)
        if (target.group_id is None) == (target.agent_id is None):
            raise ValidationError("Transfer to one group_id or one agent_id")
        await self.agent.transfer(
            chat_id,
            group_ids=None if target.group_id is None else [target.group_id],
            agent_ids=None if target.agent_id is None else [target.agent_id],
        )

    async def _close(self, chat_id: str, body: bytes) -> None:
        _decode(body, _Empty)
        await self.agent.deactivate(chat_id)

    # Watching the agent -------------------------------------------------------------

    def _activate(self) -> None:
        """Start watching the agent (again after a restart ended the watcher)."""
        if self._watcher is None or self._watcher.done():
            self._watcher = self._sandbox.spawn(self._watch())

    async def _watch(self) -> None:
        agent = self.agent
        read = agent.received
        await self._accept_waiting_chats()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()
            # agent.pushes keeps the latest ones only: count from its end.
            unseen = min(agent.received - read, len(agent.pushes))
            new = agent.pushes[len(agent.pushes) - unseen :]
            read = agent.received
            try:
                await self._show(push for _, push in new)
            except Exception:  # one bad update must not end the feed
                logger.exception("sandbox console: an update failed")

    async def _show(self, pushes: Iterable[PushPayload | Model]) -> None:
        """Take new chats, then send every changed chat to every page."""
        for push in pushes:
            if isinstance(push, IncomingChat):
                await self._accept(push.chat.id)
            chat_id = getattr(push, "chat_id", None)
            if isinstance(chat_id, str):
                self._dirty.add(chat_id)
        dirty, self._dirty = self._dirty, set()
        for chat_id in sorted(dirty):
            if chat_id in self._sandbox.store.chats:
                await self._broadcast(_Update(self.chat(chat_id)))

    async def _accept_waiting_chats(self) -> None:
        groups = set(self._sandbox.store.agents[self.agent.id].group_ids)
        for chat in list(self._sandbox.store.chats.values()):
            chat_groups = set(chat.access.group_ids)
            if 0 in chat_groups or chat_groups & groups:
                await self._accept(chat.id)

    async def _accept(self, chat_id: str) -> None:
        """Join an active chat the agent is not in (routing assigns it)."""
        chat = self._sandbox.store.chats.get(chat_id)
        if chat is not None and chat.active and self.agent.id not in chat.present:
            await self.agent.join(chat_id)
        self._changed(chat_id)

    def _changed(self, chat_id: str) -> None:
        self._dirty.add(chat_id)
        self._wake.set()

    async def _broadcast(self, message: msgspec.Struct) -> None:
        data = msgspec.json.encode(message).decode()
        for ws in list(self._sockets):
            await self._send(ws, data)

    async def _send(self, ws: web.WebSocketResponse, data: str) -> None:
        lock = self._sockets.get(ws)
        if lock is None or ws.closed:
            return
        async with lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(data)

    # HTTP -----------------------------------------------------------------------------

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{CONSOLE_PATH}/")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.path.rpartition("/")[2] or "index.html"
        resource = importlib.resources.files(__package__) / "console" / name
        return web.Response(body=resource.read_bytes(), content_type=_STATIC[name])

    async def _get_state(self, request: web.Request) -> web.StreamResponse:
        return _json(self.state())

    async def _act(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _error(415, "validation", "Send a JSON body")
        body = await request.read()
        try:
            chat = await self.act(
                request.match_info["chat_id"], request.match_info["action"], body
            )
        except ServerError as exc:
            status = 404 if isinstance(exc, NotFoundError) else 400
            return _error(status, exc.error_type, exc.message)
        return _json(chat)

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
        await ws.prepare(request)
        snapshot = msgspec.json.encode(_Snapshot(self.state())).decode()
        self._sockets[ws] = asyncio.Lock()
        try:
            await self._send(ws, snapshot)
            async for _ in ws:
                pass  # the page only listens; its actions are POSTs
        finally:
            self._sockets.pop(ws, None)
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutting down")

    # Rendering ----------------------------------------------------------------------

    def _event(self, chat: ChatRecord, thread_id: str, event: Event) -> ConsoleEvent:
        store = self._sandbox.store
        author_id = event.author_id
        if author_id is not None and author_id == chat.customer_id:
            # Before the system check: a customer may send a system_message
            # (docs/sandbox-choices.md), shown as theirs, never as the system's.
            author = "customer"
            customer = store.customers.get(author_id)
            name = customer.name if customer is not None else None
        elif author_id is None or isinstance(event, SystemMessage | SystemEvent):
            author, name = "system", None
        else:
            author = "me" if author_id == self.agent.id else "agent"
            agent = store.agents.get(author_id)
            name = agent.name if agent is not None else None
        return ConsoleEvent(
            id=event.id or "",
            thread_id=thread_id,
            type=event.type,
            author=author,
            author_name=name,
            text=_describe(event),
            created_at=event.created_at,
            url=event.url if isinstance(event, File) else None,
        )


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _same_origin(handler: Handler, *, acts: bool) -> Handler:
    """``handler`` for the sandbox's own pages only.

    Always: a loopback ``Host`` (no DNS rebinding) and, when an ``Origin`` is
    sent, the sandbox's own. For a route that ``acts`` (changes state): an
    ``Origin`` is required too (browsers send one on every POST and WebSocket
    handshake; an ``<img>`` or a link sends none), and a ``Sec-Fetch-Site``,
    when sent, must be ``same-origin``.
    """

    async def checked(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        own = f"{request.scheme}://{request.host}"
        if request.url.host not in _LOOPBACK_HOSTS:
            return _error(403, "authorization", "Unknown Host")
        if origin is not None and origin != own:
            return _error(403, "authorization", "Cross-origin requests are refused")
        if acts and origin is None:
            return _error(403, "authorization", "Send the page's Origin")
        site = request.headers.get("Sec-Fetch-Site")
        if acts and site is not None and site != "same-origin":
            return _error(403, "authorization", "Cross-site requests are refused")
        response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            response.headers.update(_HEADERS)
        return response

    return checked


def _sneak_peek(chat: ChatRecord) -> str | None:
    """The customer's latest sneak peek, unless a message of theirs came after it."""
    thread = chat.last_thread
    if thread is None or not thread.active or not chat.sneak_peeks:
        return None
    peek = chat.sneak_peeks[-1]
    if peek.thread_id != thread.id:
        return None
    for event in reversed(thread.events):
        if event.author_id == chat.customer_id and event.created_at is not None:
            if event.created_at >= peek.sent_at:
                return None
            break
    return peek.text or None


def _describe(event: Event) -> str:
    """A one-line, human rendering of any event."""
    if isinstance(event, Message):
        return event.text
    if isinstance(event, SystemMessage):
        return event.text or event.system_message_type
    if isinstance(event, File):
        return event.name or event.url
    if isinstance(event, RichMessage):
        parts: list[str] = []
        for element in event.elements or ():
            parts += [p for p in (element.title, element.subtitle) if p]
            parts += [f"[{b.text}]" for b in element.buttons or () if b.text]
        return " ".join(parts) or event.template_id
    if isinstance(event, FilledForm):
        answers = []
        for field in event.fields:
            answer = field.answer
            if answer is not None and not isinstance(answer, str):
                answer = answer.label or answer.id
            if answer:
                answers.append(f"{field.label or field.id} {answer}")
        return "; ".join(answers) or f"form {event.form_id}"
    if isinstance(event, Form):
        return f"form {event.form_id}"
    if isinstance(event, Custom):
        return "custom event"
    if isinstance(event, SystemEvent):
        return event.subtype or "system event"
    assert isinstance(event, UnknownEvent)  # the last type of the union
    return f"{event.original_type} event"


def _decode(body: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body or b"{}", type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValidationError(str(exc)) from None


def _json(value: Any) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(value), content_type="application/json"
    )


def _error(status: int, kind: str, message: str) -> web.Response:
    response = _json(_ErrorBody(_Error(kind, message)))
    response.set_status(status)
    return response
