// The list of active alerts (or, in a replay, of the alerts at the replayed moment).
import { t } from "./i18n.js";
import { duration, when } from "./time.js";

export class AlertList {
  constructor(list, summary, count, regions, { onSelect }) {
    this.list = list;
    this.summary = summary;
    this.count = count;
    this.regions = regions;
    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-region]");
      if (button) onSelect(button.dataset.region);
    });
  }

  // `alerts` are of the selected type; `now` is the live clock or the replayed moment.
  render(alerts, now) {
    this.now = now;
    const sorted = [...alerts].sort((a, b) => b.startedMs - a.startedMs || a.region_id.localeCompare(b.region_id));
    this.count.textContent = String(sorted.length);
    this.summary.textContent = sorted.length ? t("alerts.summary", { n: sorted.length }) : t("alerts.none");
    const fragment = document.createDocumentFragment();
    for (const alert of sorted) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.region = alert.region_id;
      button.className = `alert-item level-${alert.level}`;
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.setAttribute("aria-hidden", "true");
      const text = document.createElement("span");
      text.className = "text";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = this.regions.name(alert.region_id);
      const where = document.createElement("span");
      where.className = "where";
      const oblast = this.regions.oblastOf(alert.region_id);
      const levelWord = t(`status.active.${alert.level}`);
      where.textContent = oblast === alert.region_id ? levelWord : `${levelWord} · ${this.regions.name(oblast)}`;
      const since = document.createElement("span");
      since.className = "since";
      const time = document.createElement("time");
      time.dateTime = new Date(alert.startedMs).toISOString();
      time.textContent = t("alerts.since", { time: when(alert.startedMs, now) });
      const length = document.createElement("span");
      length.className = "duration";
      length.dataset.started = String(alert.startedMs);
      length.textContent = duration(now - alert.startedMs);
      since.append(time, " · ", length);
      text.append(name, where, since);
      button.append(chip, text);
      item.append(button);
      fragment.append(item);
    }
    this.list.replaceChildren(fragment);
  }

  tick(now) {
    this.now = now;
    for (const el of this.list.querySelectorAll(".duration")) {
      el.textContent = duration(now - Number(el.dataset.started));
    }
  }
}
