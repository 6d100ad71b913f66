// The REST API client: JSON over fetch, the bearer token in sessionStorage.
//
// The token never goes into a URL (query strings end up in logs and in the
// browser history); it lives in this tab's sessionStorage only, so closing
// the tab forgets it.

const TOKEN_KEY = "cloudlink.console.token";

/** An error answer of the API: its HTTP status and the stable error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor() {
    this.token = sessionStorage.getItem(TOKEN_KEY);
    this.onSignedOut = () => {};
  }

  get signedIn() {
    return this.token !== null;
  }

  /** Signs in; returns the login answer (token, expiry, account). */
  async login(fields) {
    const answer = await this.request("POST", "/api/auth/login", { body: fields, anonymous: true });
    this.token = answer.token;
    sessionStorage.setItem(TOKEN_KEY, answer.token);
    return answer;
  }

  async logout() {
    try {
      if (this.token !== null) await this.request("POST", "/api/auth/logout");
    } finally {
      this.forget();
    }
  }

  forget() {
    this.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }

  post(path, body) {
    return this.request("POST", path, { body });
  }

  patch(path, body) {
    return this.request("PATCH", path, { body });
  }

  put(path, body) {
    return this.request("PUT", path, { body });
  }

  delete(path) {
    return this.request("DELETE", path);
  }

  /** One request; the parsed JSON answer, null for 204, ApiError otherwise. */
  async request(method, path, { body, query, anonymous = false } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") {
        url.searchParams.set(name, String(value));
      }
    }
    const headers = { Accept: "application/json" };
    if (!anonymous && this.token !== null) headers.Authorization = `Bearer ${this.token}`;
    const init = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (response.status === 204) return null;
    let payload = null;
    if ((response.headers.get("Content-Type") ?? "").startsWith("application/json")) {
      payload = await response.json();
    }
    if (!response.ok) {
      const error = payload?.error ?? {};
      if (response.status === 401 && !anonymous) {
        this.forget();
        this.onSignedOut();
      }
      throw new ApiError(
        response.status,
        error.code ?? "http_error",
        error.message ?? `${response.status} ${response.statusText}`,
      );
    }
    return payload;
  }
}

/** A path segment, percent-encoded. */
export function segment(value) {
  return encodeURIComponent(String(value));
}
