// The replay timeline: load the alert intervals of a window, scrub or play through it, and
// hand the map the alerts active at the chosen moment.
import { getJson, query } from "./api.js";
import { t } from "./i18n.js";
import { dateTime, fromKyivInput, fullDateTime, parseTime, toIso, toKyivInput } from "./time.js";

// The demo night: 3 July 2025, 18:00 Kyiv time, to 4 July 2025, 09:00.
export const NIGHT = { since: "2025-07-03T15:00:00Z", until: "2025-07-04T06:00:00Z" };
const CHART_SAMPLES = 240;
const FRAME_CAP_MS = 100;

export class Replay {
  constructor(ui, { onShow, onExit }) {
    this.ui = ui;
    this.onShow = onShow;
    this.onExit = onExit;
    this.intervals = [];
    this.active = false;
    this.playing = false;
    ui.night.addEventListener("click", () => this.loadNight());
    ui.log.addEventListener("click", () => this.load({}, ""));
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const since = fromKyivInput(ui.since.value);
      const until = fromKyivInput(ui.until.value);
      if (since !== null && until !== null) this.load({ since: toIso(since), until: toIso(until) }, "");
    });
    ui.scrub.addEventListener("input", () => {
      this.pause();
      this.seek(Number(ui.scrub.value));
    });
    ui.play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    for (const button of ui.exits) button.addEventListener("click", () => this.exit());
  }

  async loadNight() {
    const found = await this.load(NIGHT, "");
    if (found && found.intervals.length === 0) await this.load({}, t("replay.nightMissing"));
  }

  async load(window, note) {
    this.pause();
    this.ui.note.textContent = t("replay.loading");
    let data;
    try {
      data = await getJson(`/api/replay${query(window)}`);
    } catch (error) {
      this.ui.note.textContent = t("replay.failed", { error: error.message });
      return null;
    }
    this.since = parseTime(data.since);
    this.until = parseTime(data.until);
    this.intervals = data.intervals.map((i) => ({
      region_id: i.region_id,
      type: i.type,
      level: i.level,
      startedMs: parseTime(i.started_at),
      finishedMs: parseTime(i.finished_at),
      source: i.source,
    }));
    this.truncated = data.truncated;
    this.baseNote = note;
    this.describe();
    this.ui.since.value = toKyivInput(this.since);
    this.ui.until.value = toKyivInput(this.until);
    const span = this.until - this.since;
    // Arrow keys move a second through a short window, a minute through a night.
    const step = span <= 30 * 60_000 ? 1000 : span <= 3 * 3_600_000 ? 10_000 : 60_000;
    this.ui.scrub.min = String(this.since);
    this.ui.scrub.max = String(this.until);
    this.ui.scrub.step = String(step);
    this.ui.controls.hidden = false;
    this.active = true;
    this.drawChart();
    this.seek(this.firstInteresting());
    return data;
  }

  describe() {
    const parts = [];
    if (this.baseNote) parts.push(this.baseNote);
    if (!this.intervals.length) parts.push(t("replay.empty"));
    else {
      parts.push(
        t("replay.loaded", {
          n: this.intervals.length,
          since: dateTime(this.since),
          until: dateTime(this.until),
        }),
      );
    }
    if (this.truncated) parts.push(t("replay.truncated", { n: this.intervals.length }));
    this.ui.note.textContent = parts.join(" ");
  }

  // Start where something is happening: the first alert's start, or the window's.
  firstInteresting() {
    const starts = this.intervals.map((i) => i.startedMs).filter((s) => s >= this.since);
    return starts.length ? Math.min(...starts) : this.since;
  }

  alertsAt(ms) {
    return this.intervals.filter((i) => i.startedMs <= ms && (i.finishedMs === null || ms < i.finishedMs));
  }

  seek(ms) {
    this.time = Math.min(this.until, Math.max(this.since, ms));
    this.ui.scrub.value = String(this.time);
    const label = fullDateTime(this.time);
    this.ui.scrub.setAttribute("aria-valuetext", label);
    this.ui.time.textContent = label;
    this.ui.time.dataset.ms = String(this.time);
    this.onShow(this.time);
  }

  play() {
    if (!this.active) return;
    if (this.time >= this.until) this.seek(this.since);
    this.playing = true;
    this.ui.play.textContent = t("replay.pause");
    this.ui.play.setAttribute("aria-pressed", "true");
    let last = performance.now();
    const frame = (now) => {
      if (!this.playing) return;
      const elapsed = Math.min(FRAME_CAP_MS, now - last);
      last = now;
      this.seek(this.time + elapsed * Number(this.ui.speed.value));
      if (this.time >= this.until) this.pause();
      else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  pause() {
    this.playing = false;
    this.ui.play.textContent = t("replay.play");
    this.ui.play.setAttribute("aria-pressed", "false");
  }

  exit() {
    this.pause();
    this.active = false;
    this.ui.controls.hidden = true;
    this.ui.note.textContent = "";
    this.onExit();
  }

  // How many regions were under alert along the window, drawn above the scrubber.
  drawChart() {
    const path = this.ui.chart.querySelector("path");
    const span = this.until - this.since;
    const counts = [];
    for (let i = 0; i <= CHART_SAMPLES; i += 1) {
      const at = this.since + (span * i) / CHART_SAMPLES;
      counts.push(new Set(this.alertsAt(at).map((a) => a.region_id)).size);
    }
    const top = Math.max(1, ...counts);
    const points = counts.map((c, i) => `${((i / CHART_SAMPLES) * 400).toFixed(1)} ${(40 - (c / top) * 38).toFixed(1)}`);
    path.setAttribute("d", `M0 40L${points.join("L")}L400 40Z`);
  }

  relabel() {
    if (!this.active) return;
    this.describe();
    this.ui.play.textContent = this.playing ? t("replay.pause") : t("replay.play");
    this.seek(this.time);
  }
}
