// The browser globals @livechat/customer-sdk 4.0.2 needs, for node 20.
//
// Read from its dist code (node_modules/@livechat/*/dist), each shim and why:
//
// * `WebSocket` (websocket-manager): node 20 has no global WebSocket, so the
//   `ws` package stands in. Browsers send an `Origin` header on the handshake;
//   so does this one (the page's origin).
// * `XMLHttpRequest` (customer-auth posts the cookie grant with an inlined
//   `unfetch`; file-upload posts the multipart `upload_file`): a small XHR on
//   node's `fetch`, with what a browser adds to a cross-origin request: the
//   `Origin` and `Referer` headers, a per-origin cookie jar used only when
//   `withCredentials` is set (`__lc_cid`/`__lc_cst` on the accounts origin),
//   the CORS preflight for non-simple requests, and the CORS check of every
//   reply (a refused reply is a network error, as in a browser). Upload
//   progress comes as one event once the body is sent (fetch has no upload
//   progress).
// * `window.location` (customer-auth builds `redirect_uri` from it): the page
//   the widget would live on. Nothing else of `window` is defined, so the SDK
//   uses its in-memory storage (isomorphic-storage tests `window.localStorage`
//   and falls back) and skips the online/offline listeners (platform-client).
// * URLs: the SDK derives its hosts from `env` (`https://api.<env>.livechatinc.com`,
//   `https://accounts.<env>.livechatinc.com`, `wss://…`) with no option to change
//   them, so the two shims above rewrite exactly those origins to the sandbox.
//   Any other host is refused: the harness never reaches the network.
//
// `fetch`, `FormData`, `Blob` and `File` are node 20 globals already. The SDK's
// code is never patched.

import { WebSocket as NodeWebSocket } from "ws";

const SAFELISTED_HEADERS = new Set([
  "accept",
  "accept-language",
  "content-language",
  "content-type",
]);
const SIMPLE_METHODS = new Set(["GET", "HEAD", "POST"]);

/** Cookies by origin, as a browser keeps them (attributes are not modelled). */
class CookieJar {
  constructor() {
    this.byOrigin = new Map();
  }

  header(origin) {
    const cookies = this.byOrigin.get(origin);
    if (!cookies || cookies.size === 0) return null;
    return [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  store(origin, setCookies) {
    const cookies = this.byOrigin.get(origin) ?? new Map();
    for (const line of setCookies) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      if (at > 0) cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    this.byOrigin.set(origin, cookies);
  }

  names(origin) {
    return [...(this.byOrigin.get(origin)?.keys() ?? [])];
  }
}

/**
 * Install the shims.
 *
 * @param {object} options
 * @param {string} options.env the SDK's `env` (the host part to rewrite)
 * @param {string} options.apiUrl the sandbox's API base URL (`http://127.0.0.1:PORT`)
 * @param {string} options.accountsUrl the sandbox's accounts base URL
 * @param {string} options.pageUrl the page the widget runs on
 * @param {(kind: string, detail: object) => void} options.record traffic log
 * @returns {{jar: CookieJar, rewrite: (url: string) => string}}
 */
export function installBrowserShims({ env, apiUrl, accountsUrl, pageUrl, record }) {
  const page = new URL(pageUrl);
  const api = new URL(apiUrl);
  const targets = new Map([
    [`https://api.${env}.livechatinc.com`, api.origin],
    [`wss://api.${env}.livechatinc.com`, `${api.protocol === "https:" ? "wss" : "ws"}://${api.host}`],
    [`https://accounts.${env}.livechatinc.com`, new URL(accountsUrl).origin],
  ]);
  const rewrite = (url) => {
    const parsed = new URL(url);
    const target = targets.get(parsed.origin);
    if (target === undefined) throw new Error(`the harness refuses ${parsed.origin}`);
    return target + parsed.pathname + parsed.search;
  };
  const jar = new CookieJar();

  globalThis.window = { location: page };

  globalThis.WebSocket = class BrowserWebSocket extends NodeWebSocket {
    constructor(url, protocols) {
      const target = rewrite(url);
      super(target, protocols, { origin: page.origin });
      record("websocket", { url: target });
      this.addEventListener("message", ({ data }) => {
        const frame = JSON.parse(String(data));
        record("frame", {
          action: frame.action,
          type: frame.type,
          success: frame.success,
          request_id: frame.request_id,
          version: frame.version,
        });
      });
    }

    send(data) {
      const frame = JSON.parse(String(data));
      record("request", {
        action: frame.action,
        version: frame.version,
        request_id: frame.request_id,
        pushes: frame.payload?.pushes,
      });
      super.send(data);
    }
  };

  globalThis.XMLHttpRequest = class BrowserXMLHttpRequest {
    constructor() {
      this.readyState = 0;
      this.status = 0;
      this.statusText = "";
      this.response = "";
      this.responseText = "";
      this.responseURL = "";
      this.withCredentials = false;
      this.upload = { onprogress: null };
      this.onload = this.onerror = this.onabort = null;
      this._headers = {};
      this._responseHeaders = [];
      this._controller = new AbortController();
    }

    open(method, url) {
      this._method = method.toUpperCase();
      this._url = rewrite(url);
      this.readyState = 1;
    }

    setRequestHeader(name, value) {
      this._headers[name] = value;
    }

    getAllResponseHeaders() {
      return this._responseHeaders.map(([k, v]) => `${k}: ${v}`).join("\r\n");
    }

    getResponseHeader(name) {
      const found = this._responseHeaders.find(([k]) => k === name.toLowerCase());
      return found ? found[1] : null;
    }

    abort() {
      this._aborted = true;
      this._controller.abort();
    }

    send(body = null) {
      this._send(body).then(
        () => this.onload?.(),
        (error) => (this._aborted ? this.onabort?.() : this.onerror?.(error)),
      );
    }

    async _send(body) {
      const target = new URL(this._url);
      const crossOrigin = target.origin !== page.origin;
      const credentials = this.withCredentials || !crossOrigin;
      const headers = { ...this._headers };
      if (crossOrigin) headers.Origin = page.origin;
      headers.Referer = page.href;
      const cookie = credentials ? jar.header(target.origin) : null;
      if (cookie) headers.Cookie = cookie;
      const unsafe = Object.keys(this._headers)
        .map((name) => name.toLowerCase())
        .filter((name) => !SAFELISTED_HEADERS.has(name));
      if (crossOrigin && (unsafe.length || !SIMPLE_METHODS.has(this._method))) {
        await this._preflight(target, unsafe, credentials);
      }
      const response = await fetch(target, {
        method: this._method,
        headers,
        body,
        signal: this._controller.signal,
        redirect: "manual",
      });
      if (credentials) jar.store(target.origin, response.headers.getSetCookie());
      if (crossOrigin) checkCors(response, page.origin, credentials, "reply");
      const text = await response.text();
      record("http", {
        method: this._method,
        url: target.pathname,
        status: response.status,
        origin: headers.Origin ?? null,
        cookies: cookie ? cookie.split("; ").map((c) => c.split("=")[0]) : [],
      });
      if (body !== null && this.upload.onprogress) {
        const size = body instanceof FormData ? 1 : String(body).length;
        this.upload.onprogress({ lengthComputable: true, loaded: size, total: size });
      }
      this.status = response.status;
      this.statusText = response.statusText;
      this.responseURL = response.url;
      this.response = this.responseText = text;
      this._responseHeaders = [...response.headers];
      this.readyState = 4;
    }

    async _preflight(target, unsafe, credentials) {
      const headers = {
        Origin: page.origin,
        "Access-Control-Request-Method": this._method,
      };
      if (unsafe.length) headers["Access-Control-Request-Headers"] = unsafe.sort().join(",");
      const response = await fetch(target, {
        method: "OPTIONS",
        headers,
        signal: this._controller.signal,
      });
      record("http", { method: "OPTIONS", url: target.pathname, status: response.status });
      if (!response.ok) throw new TypeError(`CORS preflight answered ${response.status}`);
      checkCors(response, page.origin, credentials, "preflight");
      const allowed = (response.headers.get("access-control-allow-headers") ?? "")
        .toLowerCase()
        .split(",")
        .map((h) => h.trim());
      const missing = unsafe.filter((h) => !allowed.includes(h));
      if (missing.length) throw new TypeError(`CORS preflight refused headers ${missing}`);
    }
  };

  return { jar, rewrite };
}

function checkCors(response, origin, credentials, what) {
  const allowOrigin = response.headers.get("access-control-allow-origin");
  const allowCredentials = response.headers.get("access-control-allow-credentials");
  const originOk = allowOrigin === origin || (!credentials && allowOrigin === "*");
  if (!originOk || (credentials && allowCredentials !== "true")) {
    throw new TypeError(`CORS ${what} refused (Access-Control-Allow-Origin: ${allowOrigin})`);
  }
}
