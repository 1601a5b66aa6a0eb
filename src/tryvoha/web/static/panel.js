// The region panel: names and place in the tree, status and since when, the threat the
// engine expects, nearest shelters to a picked point, recent alerts and statistics.
import { getJson, query } from "./api.js";
import { serverNow } from "./clock.js";
import { language, t } from "./i18n.js";
import { covering, inside } from "./status.js";
import { duration, parseTime, when } from "./time.js";

const HISTORY_LIMIT = 8;
const STATS_DAYS = 30;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class RegionPanel {
  constructor(root, regions, { onSelect, onClose, shelters }) {
    this.root = root;
    this.regions = regions;
    this.onSelect = onSelect;
    this.onClose = onClose;
    this.shelters = shelters;
    this.id = null;
    this.parts = {
      path: root.querySelector("#panel-path"),
      title: root.querySelector("#panel-title"),
      subtitle: root.querySelector("#panel-subtitle"),
      status: root.querySelector("#panel-status"),
      threat: root.querySelector("#panel-threat"),
      shelters: root.querySelector("#panel-shelters"),
      stats: root.querySelector("#panel-stats"),
      history: root.querySelector("#panel-history"),
    };
    root.querySelector("#panel-close").addEventListener("click", () => this.close());
    root.addEventListener("click", (event) => {
      const link = event.target.closest("button[data-region]");
      if (link) this.onSelect(link.dataset.region);
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  open(id, { point = null, focus = true } = {}) {
    this.returnFocus = this.isOpen ? this.returnFocus : document.activeElement;
    this.id = id;
    this.point = point;
    this.root.hidden = false;
    this.root.dataset.region = id;
    this.renderNames();
    this.loadHistory();
    this.loadStats();
    this.loadShelters();
    if (focus) this.parts.title.focus({ preventScroll: true });
  }

  close() {
    if (!this.isOpen) return;
    this.root.hidden = true;
    this.id = null;
    this.abort?.abort();
    this.onClose();
    if (this.returnFocus?.isConnected) this.returnFocus.focus({ preventScroll: true });
  }

  renderNames() {
    const region = this.regions.get(this.id);
    const lang = language();
    this.parts.title.textContent = this.regions.name(this.id);
    // The other language's name; both already say what kind of unit it is.
    this.parts.subtitle.textContent = lang === "en" ? region.uk : region.en;
    this.parts.subtitle.lang = lang === "en" ? "uk" : "en";
    const crumbs = this.regions.ancestors(this.id).reverse();
    this.parts.path.replaceChildren(
      ...crumbs.map((id) => {
        const button = el("button", "crumb", this.regions.name(id));
        button.type = "button";
        button.dataset.region = id;
        return button;
      }),
    );
  }

  // Called on every change of the alerts shown (live or replayed).
  render(alerts, statuses, type, now) {
    if (!this.isOpen) return;
    this.now = now;
    this.alerts = alerts;
    this.renderStatus(alerts, statuses, type, now);
    this.renderThreat(alerts, now);
  }

  renderStatus(alerts, statuses, type, now) {
    const box = this.parts.status;
    const state = statuses.get(this.id);
    const nodes = [];
    const headline = el("p", "headline");
    box.dataset.status = state ? state.status : "none";
    box.dataset.level = state ? state.level : "";
    if (!state) {
      headline.textContent = t("status.none");
      nodes.push(headline);
    } else if (state.status === "active") {
      const reasons = covering(this.regions, alerts, this.id, type);
      const first = reasons[0];
      headline.textContent = t(`status.active.${state.level}`);
      nodes.push(headline);
      if (first) {
        const since = el("p", "since");
        const length = el("span", "duration", duration(now - first.startedMs));
        length.dataset.started = String(first.startedMs);
        const [before, after] = t("status.since", { time: when(first.startedMs, now), duration: "\u0000" }).split("\u0000");
        since.append(before, length, after ?? "");
        nodes.push(since);
        const declared = reasons.filter((a) => a.region_id !== this.id);
        if (declared.length) {
          const on = el("p", "on");
          on.append(t("status.on", { name: "" }));
          declared.forEach((a, index) => {
            const link = el("button", "link", this.regions.name(a.region_id));
            link.type = "button";
            link.dataset.region = a.region_id;
            if (index) on.append(", ");
            on.append(link);
          });
          nodes.push(on);
        }
      }
    } else {
      const below = inside(this.regions, alerts, this.id, type);
      headline.textContent = t(`status.partial.${state.level}`);
      const count = el("p", "since", t("status.inside", { n: below.length }));
      const list = el("ul", "inside");
      for (const alert of below.slice(0, 12)) {
        const item = el("li");
        const link = el("button", `link level-${alert.level}`, this.regions.name(alert.region_id));
        link.type = "button";
        link.dataset.region = alert.region_id;
        item.append(link);
        list.append(item);
      }
      nodes.push(headline, count, list);
    }
    const others = covering(this.regions, alerts, this.id).filter((a) => a.type !== type);
    if (others.length) {
      const more = el("p", "others");
      more.textContent = `${t("status.other")}: ${[...new Set(others.map((a) => t(`type.${a.type}`)))].join(", ")}`;
      nodes.push(more);
    }
    box.replaceChildren(...nodes);
  }

  // Durations and the threat's countdown move on with the clock.
  tick(now) {
    if (!this.isOpen) return;
    for (const node of this.parts.status.querySelectorAll(".duration")) {
      node.textContent = duration(now - Number(node.dataset.started));
    }
    if (!this.parts.threat.hidden) this.renderThreat(this.alerts || [], now);
  }

  renderThreat(alerts, now) {
    const box = this.parts.threat;
    const withThreat = covering(this.regions, alerts, this.id).find((a) => a.threat);
    if (!withThreat) {
      box.hidden = true;
      return;
    }
    const threat = withThreat.threat;
    const nodes = [el("h3", "", t("threat.heading")), el("p", "class", t(`threat.${threat.class}`))];
    const arrival = parseTime(threat.expected_arrival);
    if (arrival !== null) {
      const relative =
        arrival >= now
          ? t("threat.in", { duration: duration(arrival - now) })
          : t("threat.passed", { duration: duration(now - arrival) });
      nodes.push(el("p", "arrival", t("threat.arrival", { time: when(arrival, now), relative })));
    }
    if (withThreat.source === "engine") nodes.push(el("p", "hint", t("threat.engine")));
    box.replaceChildren(...nodes);
    box.hidden = false;
  }

  async loadHistory() {
    const id = this.id;
    const list = this.parts.history.querySelector(".body");
    list.replaceChildren();
    try {
      const data = await getJson(`/api/alerts${query({ region: id, covering: "true", limit: HISTORY_LIMIT })}`);
      if (this.id !== id) return;
      this.history = data.alerts;
      this.renderHistory();
    } catch {
      if (this.id !== id) return;
      list.replaceChildren(el("li", "hint", t("panel.historyFailed")));
    }
  }

  renderHistory() {
    const list = this.parts.history.querySelector(".body");
    if (!this.history) return;
    if (!this.history.length) {
      list.replaceChildren(el("li", "hint", t("panel.historyNone")));
      return;
    }
    const now = serverNow();
    list.replaceChildren(
      ...this.history.map((alert) => {
        const started = parseTime(alert.started_at);
        const finished = parseTime(alert.finished_at);
        const item = el("li", `level-${alert.level}`);
        const span = finished === null ? t("panel.ongoing") : duration(finished - started);
        const where = alert.region_id === this.id ? "" : ` · ${this.regions.name(alert.region_id)}`;
        item.append(
          el("span", "chip"),
          el("span", "when", when(started, now)),
          el("span", "what", `${t(`type.${alert.type}`)} · ${span}${where}`),
        );
        return item;
      }),
    );
  }

  async loadStats() {
    const id = this.id;
    const section = this.parts.stats;
    section.hidden = true;
    const since = new Date(serverNow() - STATS_DAYS * 86_400_000).toISOString();
    let data;
    try {
      data = await getJson(`/api/stats/region/${encodeURIComponent(id)}${query({ since })}`);
    } catch {
      // Statistics are optional: a server without them (404) or a failed query shows none.
      return;
    }
    if (this.id !== id || typeof data.count !== "number") return;
    this.stats = data;
    this.renderStats();
  }

  renderStats() {
    const data = this.stats;
    const section = this.parts.stats;
    if (!data) return;
    const rows = [["stats.count", String(data.count)]];
    if (typeof data.total_seconds === "number") rows.push(["stats.total", duration(data.total_seconds * 1000)]);
    if (typeof data.longest_seconds === "number") rows.push(["stats.longest", duration(data.longest_seconds * 1000)]);
    if (typeof data.share === "number") rows.push(["stats.share", `${(data.share * 100).toFixed(1)} %`]);
    if (typeof data.nights_with_alerts === "number") rows.push(["stats.nights", String(data.nights_with_alerts)]);
    section.querySelector(".body").replaceChildren(
      ...rows.flatMap(([key, value]) => [el("dt", "", t(key)), el("dd", "", value)]),
    );
    section.hidden = false;
  }

  async loadShelters() {
    const section = this.parts.shelters;
    if (!this.point) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    await this.shelters.findNear(this.point, section.querySelector(".body"));
  }

  // A language switch: everything with words is drawn again.
  relabel() {
    if (!this.isOpen) return;
    this.renderNames();
    this.renderHistory();
    this.renderStats();
  }
}
