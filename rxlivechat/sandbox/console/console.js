// The agent console of the rxlivechat sandbox: plain JavaScript, no build step.
//
// The page talks to its own origin only: the live feed on the
// WebSocket api/ws ({type: "state"} first, then {type: "chat"} for each change),
// and POST api/chats/<id>/<action> for what the person does. Every text from the
// server goes into the page as text (textContent), never as HTML.
"use strict";

const TYPING_IDLE_MS = 3000;

const view = {
  state: null,        // the last ConsoleState
  chats: new Map(),   // chat id -> ConsoleChat
  selected: null,     // the open chat's id
  typingIn: null,     // the chat we told we are typing in
  typingTimer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function customerName(chat) {
  const c = chat.customer;
  return c.name || c.email || `Customer ${c.id.slice(0, 6)}`;
}

function timeOf(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function statusOf(chat) {
  if (!chat.active) return ["closed", "closed"];
  return chat.joined ? ["active", "active"] : ["waiting", "not joined"];
}

// Talking to the sandbox ---------------------------------------------------------------

async function act(chatId, action, body = {}) {
  if (!chatId) return null;
  const response = await fetch(`api/chats/${encodeURIComponent(chatId)}/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const reply = await response.json();
  if (!response.ok) {
    showError(reply.error ? `${reply.error.type}: ${reply.error.message}` : response.statusText);
    return null;
  }
  showError(null);
  upsert(reply);
  return reply;
}

function connect(delay = 500) {
  const url = new URL("api/ws", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  socket.addEventListener("open", () => {
    delay = 500;
    setLink("live", "live");
  });
  socket.addEventListener("message", (message) => {
    const update = JSON.parse(message.data);
    if (update.type === "state") {
      view.state = update.state;
      view.chats = new Map(update.state.chats.map((chat) => [chat.id, chat]));
      renderAll();
    } else if (update.type === "chat") {
      upsert(update.chat);
    }
  });
  socket.addEventListener("close", () => {
    setLink("offline", "offline, reconnecting…");
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  });
}

// Rendering ----------------------------------------------------------------------------

function upsert(chat) {
  view.chats.set(chat.id, chat);
  renderChatList();
  if (chat.id === view.selected) renderConversation();
}

function renderAll() {
  const me = view.state.agent;
  $("me").textContent = `You are ${me.name}`;
  renderTransferTargets();
  renderChatList();
  renderConversation();
}

function sortedChats() {
  // Open chats first, then the latest activity first.
  return [...view.chats.values()].sort((a, b) =>
    (b.active - a.active) || (b.updated_at || "").localeCompare(a.updated_at || ""));
}

function renderChatList() {
  const list = $("chats");
  const chats = sortedChats();
  list.replaceChildren(...chats.map(chatItem));
  $("chat-count").textContent = chats.length ? `(${chats.length})` : "";
  $("no-chats").hidden = chats.length > 0;
}

function chatItem(chat) {
  const item = el("li", "chat-item");
  item.dataset.chatId = chat.id;
  item.setAttribute("role", "option");
  item.setAttribute("aria-selected", String(chat.id === view.selected));
  const [badgeClass, badgeText] = statusOf(chat);
  item.append(el("span", "name", customerName(chat)), el("span", `badge ${badgeClass}`, badgeText));
  if (chat.sneak_peek) {
    item.append(el("span", "peek", `typing: ${chat.sneak_peek}`));
  } else {
    const last = chat.events.filter((e) => e.author !== "system").at(-1);
    item.append(el("span", "preview", last ? last.text : "no messages yet"));
  }
  item.addEventListener("click", () => select(chat.id));
  return item;
}

function select(chatId) {
  if (view.selected && view.selected !== chatId) stopTyping();
  view.selected = chatId;
  showError(null);
  renderChatList();
  renderConversation();
  $("reply").focus();
}

function renderConversation() {
  const chat = view.selected && view.chats.get(view.selected);
  $("conversation").hidden = !chat;
  $("nothing-selected").hidden = Boolean(chat);
  if (!chat) return;

  $("chat-title").textContent = customerName(chat);
  const [statusClass, statusText] = statusOf(chat);
  $("chat-status").className = `badge ${statusClass}`;
  $("chat-status").textContent = statusText;
  const c = chat.customer;
  const agents = chat.agents.length ? `agents: ${chat.agents.join(", ")}` : "no agent";
  const details = [c.email, c.page_title || c.page_url, agents, `chat ${chat.id}`];
  $("chat-details").textContent = details.filter(Boolean).join(" · ");
  $("chat-details").title = c.page_url || "";

  $("join").hidden = !chat.active || chat.joined;
  for (const id of ["transfer", "transfer-target", "close", "send", "reply"]) {
    $(id).disabled = !chat.active;
  }
  $("reply").placeholder = chat.active
    ? "Type a reply… (Enter sends, Shift+Enter: new line)"
    : "This chat is closed.";

  const events = $("events");
  const atBottom = events.scrollHeight - events.scrollTop - events.clientHeight < 40;
  events.replaceChildren(...chat.events.map(eventItem));
  if (atBottom || events.dataset.chatId !== chat.id) events.scrollTop = events.scrollHeight;
  events.dataset.chatId = chat.id;

  const peek = $("sneak-peek");
  peek.hidden = !chat.sneak_peek;
  peek.textContent = chat.sneak_peek ? `${customerName(chat)} is typing: ${chat.sneak_peek}` : "";
}

function eventItem(event) {
  const item = el("li", `event ${event.author}`);
  item.dataset.eventId = event.id;
  if (event.author !== "system") {
    const who = event.author === "me" ? "You" : event.author_name || event.author;
    item.append(el("span", "meta", `${who} · ${timeOf(event.created_at)}`));
  }
  const bubble = el("div", "bubble");
  if (event.url && /^https?:\/\//.test(event.url)) {
    const link = el("a", null, event.text);
    link.href = event.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    bubble.append(link);
  } else {
    bubble.textContent = event.text;
  }
  item.append(bubble);
  return item;
}

function renderTransferTargets() {
  const select = $("transfer-target");
  const options = [
    ...view.state.groups.map((g) => [`group:${g.id}`, `Group: ${g.name}`]),
    ...view.state.agents.map((a) => [`agent:${a.id}`, `Agent: ${a.name}`]),
  ];
  select.replaceChildren(...options.map(([value, label]) => {
    const option = el("option", null, label);
    option.value = value;
    return option;
  }));
}

function setLink(state, text) {
  const link = $("link");
  link.dataset.state = state;
  link.textContent = text;
}

function showError(text) {
  $("error").hidden = !text;
  $("error").textContent = text || "";
}

// What the person does -----------------------------------------------------------------

async function send() {
  const box = $("reply");
  const text = box.value.trim();
  if (!text) return;
  box.disabled = true;
  stopTyping();
  const sent = await act(view.selected, "message", { text });
  box.disabled = false;
  if (sent) box.value = "";
  box.focus();
}

function typing() {
  const chat = view.chats.get(view.selected);
  if (!chat || !chat.active) return;
  if (view.typingIn !== chat.id) {
    view.typingIn = chat.id;
    act(chat.id, "typing", { is_typing: true });
  }
  clearTimeout(view.typingTimer);
  view.typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(view.typingTimer);
  const chatId = view.typingIn;
  view.typingIn = null;
  const chat = chatId && view.chats.get(chatId);
  if (chat && chat.active) act(chatId, "typing", { is_typing: false });
}

function transfer() {
  const [kind, id] = $("transfer-target").value.split(/:(.*)/s);
  act(view.selected, "transfer", kind === "group" ? { group_id: Number(id) } : { agent_id: id });
}

document.addEventListener("DOMContentLoaded", () => {
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  $("reply").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  });
  $("reply").addEventListener("input", typing);
  $("join").addEventListener("click", () => act(view.selected, "join"));
  $("transfer").addEventListener("click", transfer);
  $("close").addEventListener("click", () => act(view.selected, "close"));
  connect();
});
