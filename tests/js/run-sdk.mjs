// Runs the official @livechat/customer-sdk's core flow against a running sandbox
// and prints a JSON summary on stdout (tests/sandbox/test_js_sdk.py asserts it).
//
//   LIVECHAT_SANDBOX_API_URL=http://127.0.0.1:PORT \
//   LIVECHAT_SANDBOX_ORGANIZATION_ID=<uuid> node run-sdk.mjs
//
// (LIVECHAT_SANDBOX_ACCOUNTS_URL defaults to the API URL.) Every step is
// recorded with its outcome; the run stops at the first failed step. Anything
// the SDK throws outside a step's promise (an uncaught exception or unhandled
// rejection in its frame handling) and everything it logs with console.error
// or console.warn is collected in `problems`.

import { installBrowserShims } from "./browser-shims.mjs";

const ENV = "sandbox"; // the SDK's env: its hosts become api.sandbox.livechatinc.com...
const STEP_TIMEOUT_MS = 10_000;
// A widget developer's page: their dev server, another origin than the sandbox.
const PAGE_URL = "http://localhost:5173/products/42";

const apiUrl = process.env.LIVECHAT_SANDBOX_API_URL;
const organizationId = process.env.LIVECHAT_SANDBOX_ORGANIZATION_ID;
if (!apiUrl || !organizationId) {
  console.log("usage: LIVECHAT_SANDBOX_API_URL=… LIVECHAT_SANDBOX_ORGANIZATION_ID=… node run-sdk.mjs");
  process.exit(2);
}
const accountsUrl = process.env.LIVECHAT_SANDBOX_ACCOUNTS_URL || apiUrl;

const summary = { sdk: null, steps: [], problems: [], events: [], traffic: [] };
const problem = (kind, value) =>
  summary.problems.push({ kind, message: String(value?.stack ?? value) });
process.on("uncaughtException", (error) => problem("uncaughtException", error));
process.on("unhandledRejection", (reason) => problem("unhandledRejection", reason));
for (const level of ["error", "warn"]) {
  const original = console[level];
  console[level] = (...args) => {
    problem(`console.${level}`, args.map((a) => a?.stack ?? String(a)).join(" "));
    original.apply(console, args);
  };
}

const { jar } = installBrowserShims({
  env: ENV,
  apiUrl,
  accountsUrl,
  pageUrl: PAGE_URL,
  record: (kind, detail) => summary.traffic.push({ kind, ...detail }),
});
const CustomerSDK = await import("@livechat/customer-sdk");
const { createRequire } = await import("node:module");
summary.sdk = createRequire(import.meta.url)("@livechat/customer-sdk/package.json").version;

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class StepFailed extends Error {}

async function step(name, run) {
  try {
    const value = await withTimeout(Promise.resolve().then(run), name);
    summary.steps.push({ name, ok: true, value: value ?? null });
    return value;
  } catch (error) {
    summary.steps.push({
      name,
      ok: false,
      error: { code: error?.code ?? null, message: String(error?.message ?? error) },
    });
    throw new StepFailed(name);
  }
}

function waitForEvent(sdk, name) {
  return new Promise((resolve) => sdk.once(name, resolve));
}

let sdk;
try {
  sdk = CustomerSDK.init(
    { organizationId, clientId: "rxlivechat-js-harness" },
    ENV,
  );
  sdk.on("*", (name) => summary.events.push(name));
  const connected = waitForEvent(sdk, "connected");

  await step("connected", async () => {
    const { customer, availability } = await connected;
    return {
      customer_id: customer.id,
      chats_count: customer.statistics.chatsCount,
      availability,
    };
  });
  // The cookie grant again, as on a token refresh: the accounts cookies the
  // first grant set go back, and name the same customer.
  await step("getFreshToken", async () => {
    const token = await sdk.auth.getFreshToken();
    return { entity_id: token.entityId, token_type: token.tokenType, expires_in: token.expiresIn };
  });
  await step("getPredictedAgent", async () => {
    const { agent, queue } = await sdk.getPredictedAgent();
    return { name: agent.name, queue };
  });
  await step("listGroupStatuses", () => sdk.listGroupStatuses());
  const started = await step("startChat", async () => {
    const { chat } = await sdk.startChat({
      chat: { thread: { events: [{ type: "message", text: "Hello from the JS SDK" }] } },
    });
    return {
      chat_id: chat.id,
      thread_id: chat.thread.id,
      texts: chat.thread.events.map((e) => e.text),
    };
  });
  const chatId = started.chat_id;
  const threadId = started.thread_id;

  await step("sendEvent", async () => {
    const event = await sdk.sendEvent({
      chatId,
      event: { type: "message", text: "A second message", customId: "js-2" },
    });
    return { id: event.id, text: event.text, custom_id: event.customId, thread_id: event.threadId };
  });
  await step("listChats", async () => {
    const { chatsSummary, totalChats } = await sdk.listChats();
    return { total: totalChats, ids: chatsSummary.map((c) => c.id), active: chatsSummary.map((c) => c.active) };
  });
  await step("getChat", async () => {
    const got = await sdk.getChat({ chatId });
    return { id: got.id, thread_id: got.thread.id, texts: got.thread.events.map((e) => e.text) };
  });
  await step("listThreads", async () => {
    const { threads, nextPageId } = await sdk.listThreads({ chatId });
    return { ids: threads.map((t) => t.id), next_page_id: nextPageId };
  });
  await step("getChatHistory", async () => {
    const { value, done } = await sdk.getChatHistory({ chatId }).next();
    return { done, threads: value.threads.map((t) => t.events.length) };
  });
  await step("updateCustomer", () =>
    sdk.updateCustomer({ name: "Jay Script", email: "jay@example.com", sessionFields: { plan: "pro" } }),
  );
  await step("getCustomer", async () => {
    const customer = await sdk.getCustomer();
    return {
      name: customer.name,
      email: customer.email,
      session_fields: customer.sessionFields,
      chats_count: customer.statistics.chatsCount,
      threads_count: customer.statistics.threadsCount,
    };
  });
  await step("updateCustomerPage", () =>
    sdk.updateCustomerPage({ url: "https://shop.example/pricing", title: "Pricing" }),
  );
  await step("setSneakPeek", () => sdk.setSneakPeek({ chatId, sneakPeekText: "I am typ" }));
  await step("markEventsAsSeen", () =>
    sdk.markEventsAsSeen({ chatId, seenUpTo: new Date().toISOString() }),
  );
  await step("updateChatProperties", () =>
    sdk.updateChatProperties({ id: chatId, properties: { rating: { comment: "chat note" } } }),
  );
  await step("deleteChatProperties", () =>
    sdk.deleteChatProperties({ id: chatId, properties: { rating: ["comment"] } }),
  );
  await step("updateThreadProperties", () =>
    sdk.updateThreadProperties({
      chatId,
      threadId,
      properties: { routing: { transcript_email: "jay@example.com" } },
    }),
  );
  await step("deleteThreadProperties", () =>
    sdk.deleteThreadProperties({ chatId, threadId, properties: { routing: ["transcript_email"] } }),
  );
  await step("deactivateChat", () => sdk.deactivateChat({ id: chatId }));
  await step("resumeChat", async () => {
    const { chat: resumed } = await sdk.resumeChat({ chat: { id: chatId } });
    return { chat_id: resumed.id, thread_id: resumed.thread.id, active: resumed.thread.active };
  });
  await step("rateChat", () => sdk.rateChat({ chatId, rating: { score: 1, comment: "Great help" } }));
  await step("sendFile", async () => {
    const progress = [];
    const file = new File(["hello from node\n"], "hello.txt", { type: "text/plain" });
    const { url } = await sdk.uploadFile({ file, onProgress: (p) => progress.push(p) }).promise;
    const event = await sdk.sendEvent({ chatId, event: { type: "file", url } });
    return { url, progress, type: event.type, name: event.name, content_type: event.contentType };
  });
  // One more round trip, so the pushes the last requests caused (the rating's
  // system messages...) have reached the SDK's handlers before it is destroyed.
  await step("lastThread", async () => {
    const { thread } = await sdk.getChat({ chatId });
    return thread.events.map((e) => e.systemMessageType ?? e.type);
  });
  await step("destroy", async () => {
    sdk.destroy();
    const after = await sdk.getCustomer().then(
      () => "resolved",
      (error) => error.code,
    );
    return { call_after_destroy: after };
  });
} catch (error) {
  if (!(error instanceof StepFailed)) problem("harness", error);
  try {
    sdk?.destroy();
  } catch (destroyError) {
    problem("harness", destroyError);
  }
}

summary.cookies = jar.names(new URL(accountsUrl).origin);
process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(0));
