// The server's JSON API, same origin only.

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A reader token, for a server whose reads are private (TRYVOHA_PUBLIC_READ=false): the
// page is opened as `/#access_token=<token>`. The fragment never reaches the server or its
// logs; the token is kept for this tab only and taken out of the address bar at once.
const TOKEN_KEY = "tryvoha.access_token";

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get("access_token");
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    fragment.delete("access_token");
    const rest = fragment.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export const accessToken = takeToken();

// For what cannot send a header (EventSource): the token as `access_token` in the query.
export function withToken(url) {
  if (!accessToken) return url;
  return `${url}${url.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(accessToken)}`;
}

export async function getJson(path, { signal } = {}) {
  const headers = { Accept: "application/json" };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  const response = await fetch(path, { signal, headers });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json()).message || message;
    } catch {
      // Not JSON: the status says enough.
    }
    throw new HttpError(response.status, message);
  }
  return response.json();
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
