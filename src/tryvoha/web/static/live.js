// The active alerts, kept current over Server-Sent Events.
//
// The stream is opened with `snapshot=true`: a new connection starts with the full set of
// active alerts as of a log position, then the events after it. When the browser reconnects
// by itself (the server's `retry:`) it sends `Last-Event-ID` and gets only what it missed.
// A snapshot replaces the set, and an event at or below the position already applied is
// skipped, so nothing is ever applied twice. If the browser gives up (the server answered
// an error, e.g. after losing its log), a new stream, with a new snapshot, is opened with
// backoff.
import { withToken } from "./api.js";
import { parseTime } from "./time.js";

const EVENTS = ["alert.raised", "alert.updated", "alert.lifted"];
const MAX_BACKOFF_MS = 30_000;

export function toAlert(data) {
  return {
    id: data.id,
    region_id: data.region_id,
    type: data.type,
    level: data.level,
    startedMs: parseTime(data.started_at),
    finishedMs: parseTime(data.finished_at),
    source: data.source,
    threat: data.threat,
    note: data.note,
  };
}

export class LiveAlerts {
  constructor({ onChange, onConnection, url = "/api/stream?snapshot=true" }) {
    this.url = url;
    this.onChange = onChange;
    this.onConnection = onConnection;
    this.active = new Map();
    this.lastSeq = -1;
    this.failures = 0;
    this.source = null;
  }

  start() {
    this.open();
  }

  open() {
    const source = new EventSource(withToken(this.url));
    this.source = source;
    this.onConnection(this.lastSeq < 0 ? "connecting" : "reconnecting");
    source.addEventListener("open", () => {
      this.failures = 0;
      this.onConnection("live");
    });
    source.addEventListener("snapshot", (message) => {
      const data = JSON.parse(message.data);
      this.active = new Map(data.alerts.map((a) => [a.id, toAlert(a)]));
      this.lastSeq = data.last_seq;
      this.onChange([]);
    });
    for (const kind of EVENTS) {
      source.addEventListener(kind, (message) => this.apply(JSON.parse(message.data)));
    }
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        this.failures += 1;
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures, 5));
        this.onConnection("offline");
        this.retry = setTimeout(() => this.open(), delay * (0.75 + Math.random() / 2));
      } else {
        this.onConnection("reconnecting");
      }
    });
  }

  apply(event) {
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    const alert = toAlert(event.alert);
    if (event.kind === "alert.lifted" || alert.finishedMs !== null) this.active.delete(alert.id);
    else this.active.set(alert.id, alert);
    this.onChange([event]);
  }

  alerts() {
    return [...this.active.values()];
  }

  stop() {
    clearTimeout(this.retry);
    this.source?.close();
  }
}
