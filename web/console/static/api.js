// The console's HTTP API (/console/api/...): JSON in and out, the session cookie
// sent by the browser, and the session's CSRF token in X-CSRF-Token on every
// request that changes something.

const BASE = "/console/api/";

let csrf = "";

export function setCSRF(token) {
  csrf = typeof token === "string" ? token : "";
}

// ApiError is a failed call: status 0 when the server could not be reached; code and
// message from the server's {"error":{"code","message"}}; body the whole answer (409
// already_claimed carries "agent" and "agent_name").
export class ApiError extends Error {
  constructor(status, code, message, body, retryAfter) {
    super(message || code || "request failed");
    this.status = status;
    this.code = code || "";
    this.body = body || {};
    this.retryAfter = retryAfter || 0;
  }
}

// onUnauthorized is called when a call other than login and me answers 401: the
// session ended (it expired, or the server restarted).
let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  let r;
  try {
    r = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "offline", "The server can't be reached.");
  }
  let data = null;
  if (r.status !== 204) {
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
  }
  if (!r.ok) {
    const err = data && typeof data === "object" && data.error && typeof data.error === "object" ? data.error : {};
    const retry = Number(r.headers.get("Retry-After")) || 0;
    const e = new ApiError(r.status, typeof err.code === "string" ? err.code : "", typeof err.message === "string" ? err.message : "", data, retry);
    if (r.status === 401 && path !== "login" && path !== "me") onUnauthorized();
    throw e;
  }
  return data && typeof data === "object" ? data : {};
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body === undefined ? {} : body);
export const put = (path, body) => call("PUT", path, body);
export const del = (path) => call("DELETE", path);

export const conv = (id) => "conversations/" + encodeURIComponent(id);
