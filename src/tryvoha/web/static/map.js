// The live map page: loads the regions and polygons, follows the alerts over SSE, and wires
// the map, the alert list, the region panel, search, replay and shelters together.
import { AlertList } from "./alerts.js";
import { getJson, HttpError } from "./api.js";
import { serverNow, syncClock } from "./clock.js";
import { initialLanguage, language, rememberLanguage, setLanguage, t } from "./i18n.js";
import { LiveAlerts } from "./live.js";
import { RegionPanel } from "./panel.js";
import { Regions } from "./regions.js";
import { Replay } from "./replay.js";
import { ShelterFinder } from "./shelters.js";
import { statusMap } from "./status.js";
import { fullDateTime } from "./time.js";
import { MapView } from "./view.js";

const TYPES = ["air_raid", "artillery_shelling", "urban_fights", "chemical", "nuclear"];
const ANNOUNCE_DELAY_MS = 1500;
const $ = (id) => document.getElementById(id);

class App {
  constructor(config) {
    this.config = config;
    this.type = "air_raid";
    this.loaded = new Map();
    this.announcements = { raised: [], lifted: [] };
  }

  async start() {
    setLanguage(initialLanguage());
    this.fillTypes();
    this.updateLangButton();
    this.live = new LiveAlerts({
      onChange: (events) => this.changed(events),
      onConnection: (state) => this.connection(state),
    });
    this.live.start();
    syncClock();
    let regionsDoc;
    let first;
    try {
      [regionsDoc, ...first] = await Promise.all([
        getJson(this.fileUrl("regions.json")),
        ...["oblast", "raion"].filter((l) => this.hasFile(l, 0)).map((l) => this.shapes(l, 0)),
      ]);
    } catch {
      $("map-loading").textContent = t("map.failed");
      return;
    }
    this.regions = new Regions(regionsDoc);
    this.build();
    for (const doc of first) this.view.setShapes(doc.level, doc.paths);
    $("map-loading").hidden = true;
    this.render();
    performance.mark("tryvoha:first-render");
    document.documentElement.dataset.map = "drawn";
    this.openFromHash();
    // Hromadas are the largest file: drawn right after the first paint, not before it.
    requestAnimationFrame(() => setTimeout(() => this.showTier(this.view.tier), 0));
    this.shelters.loadCount();
    setInterval(() => this.tick(), 1000);
  }

  // -- files ------------------------------------------------------------------------------

  fileUrl(name) {
    return `${this.config.map.base}/${name}`;
  }

  hasFile(level, tier) {
    return this.config.map.files.includes(`${level}-${tier}.json`);
  }

  shapes(level, tier) {
    const key = `${level}-${tier}`;
    if (!this.loaded.has(key)) {
      const pending = getJson(this.fileUrl(`${key}.json`));
      pending.catch(() => this.loaded.delete(key));
      this.loaded.set(key, pending);
    }
    return this.loaded.get(key);
  }

  // Draw every level at the sharpness the zoom calls for (hromadas included).
  async showTier(tier) {
    const levels = this.regions.levels.filter((level) => this.hasFile(level, tier));
    const docs = await Promise.all(levels.map((level) => this.shapes(level, tier).catch(() => null)));
    if (tier !== this.view.tier && tier !== 0) return;
    for (const doc of docs) if (doc) this.view.setShapes(doc.level, doc.paths);
    if (!document.documentElement.dataset.shapes) {
      document.documentElement.dataset.shapes = "all";
      this.render();
      performance.mark("tryvoha:all-drawn");
    }
  }

  // -- parts ------------------------------------------------------------------------------

  build() {
    this.view = new MapView($("map"), this.regions, {
      onPick: (id, point) => (id ? this.select(id, { point }) : this.panel.close()),
      onOblastKey: (id) => this.select(id, { zoom: true }),
      onTier: (tier) => this.showTier(tier),
      onView: () => this.drawScale(),
    });
    $("map").setAttribute("aria-label", t("map.label"));
    this.list = new AlertList($("alerts"), $("alerts-summary"), $("alerts-count"), this.regions, {
      onSelect: (id) => this.select(id, { zoom: true }),
    });
    this.shelters = new ShelterFinder(this.view, { known: $("shelters-known") });
    this.panel = new RegionPanel($("panel"), this.regions, {
      onSelect: (id) => this.select(id, { zoom: true }),
      onClose: () => {
        this.view.setHighlight(null);
        this.view.setMarkers([]);
        history.replaceState(null, "", location.pathname + location.search);
      },
      shelters: this.shelters,
    });
    this.replay = new Replay(
      {
        night: $("replay-night"),
        log: $("replay-log"),
        form: $("replay-form"),
        since: $("replay-since"),
        until: $("replay-until"),
        note: $("replay-note"),
        controls: $("replay-controls"),
        chart: $("replay-chart"),
        scrub: $("replay-scrub"),
        play: $("replay-play"),
        speed: $("replay-speed"),
        time: $("replay-time"),
        exits: [$("replay-exit"), $("replay-exit-banner")],
      },
      { onShow: () => this.render(), onExit: () => this.render() },
    );
    this.bindControls();
    this.bindSearch();
    this.bindTabs();
  }

  // A bar of a round length near 100 pixels: with no streets drawn, the only sense of size.
  drawScale() {
    if (!this.view) return;
    const metresPerPixel = (this.view.unitsPerPixel() * 111_195) / this.regions.projection.ky;
    const target = metresPerPixel * 100;
    const power = 10 ** Math.floor(Math.log10(target));
    const length = [1, 2, 5, 10].map((f) => f * power).filter((l) => l <= target).pop() || power;
    const scale = $("scale");
    scale.querySelector(".scale-line").style.width = `${Math.round(length / metresPerPixel)}px`;
    scale.querySelector(".scale-label").textContent =
      length >= 1000 ? `${length / 1000} ${t("unit.km")}` : `${length} ${t("unit.m")}`;
  }

  fillTypes() {
    const select = $("type");
    select.replaceChildren(
      ...TYPES.map((type) => {
        const option = document.createElement("option");
        option.value = type;
        option.textContent = t(`type.${type}`);
        return option;
      }),
    );
    select.value = this.type;
  }

  bindControls() {
    $("zoom-in").addEventListener("click", () => this.view.zoomBy(2));
    $("zoom-out").addEventListener("click", () => this.view.zoomBy(0.5));
    $("zoom-reset").addEventListener("click", () => this.view.reset());
    $("type").addEventListener("change", (event) => {
      this.type = event.target.value;
      this.render();
    });
    $("lang").addEventListener("click", () => {
      const next = language() === "uk" ? "en" : "uk";
      rememberLanguage(next);
      this.relabel(next);
    });
    $("shelters-me").addEventListener("click", () => this.shelters.locate($("shelters-result")));
    document.addEventListener("keydown", (event) => {
      const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement?.tagName);
      if (event.key === "/" && !typing) {
        event.preventDefault();
        $("search").focus();
      } else if (event.key === "Escape" && !event.defaultPrevented && this.panel.isOpen) {
        this.panel.close();
      }
    });
  }

  relabel(lang) {
    setLanguage(lang);
    this.fillTypes();
    this.updateLangButton();
    $("map").setAttribute("aria-label", t("map.label"));
    this.connection(this.connectionState);
    this.drawScale();
    this.panel.relabel();
    this.shelters.relabel();
    this.replay.relabel();
    this.render();
  }

  updateLangButton() {
    const button = $("lang");
    const other = language() === "uk" ? "en" : "uk";
    button.textContent = other === "uk" ? "УКР" : "EN";
    button.lang = other;
    button.setAttribute("aria-label", t("lang.other"));
  }

  bindTabs() {
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    const choose = (tab) => {
      for (const other of tabs) {
        const selected = other === tab;
        other.setAttribute("aria-selected", String(selected));
        other.tabIndex = selected ? 0 : -1;
        $(other.getAttribute("aria-controls")).hidden = !selected;
      }
    };
    tabs.forEach((tab, index) => {
      tab.addEventListener("click", () => choose(tab));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = tabs[(index + step + tabs.length) % tabs.length];
        choose(next);
        next.focus();
        event.preventDefault();
      });
    });
  }

  bindSearch() {
    const input = $("search");
    const box = $("search-results");
    let results = [];
    let active = -1;
    // Other names wait until someone searches: the first paint does not need them.
    const loadAliases = () => {
      if (this.aliases || !this.config.map.files.includes("aliases.json")) return;
      this.aliases = getJson(this.fileUrl("aliases.json"))
        .then((doc) => {
          this.regions.addAliases(doc);
          if (input.value.trim()) input.dispatchEvent(new Event("input"));
        })
        .catch(() => {
          this.aliases = null;
        });
    };
    input.addEventListener("focus", loadAliases);
    const close = () => {
      box.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const mark = (index) => {
      active = index;
      for (const [i, option] of [...box.children].entries()) {
        option.setAttribute("aria-selected", String(i === index));
      }
      if (index >= 0) input.setAttribute("aria-activedescendant", `search-option-${index}`);
    };
    const choose = (index) => {
      const region = results[index];
      if (!region) return;
      close();
      input.value = this.regions.name(region.id);
      this.select(region.id, { zoom: true });
    };
    input.addEventListener("input", () => {
      results = this.regions.search(input.value);
      if (!input.value.trim()) return close();
      const options = results.map((region, index) => {
        const option = document.createElement("li");
        option.id = `search-option-${index}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.region = region.id;
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = this.regions.name(region.id);
        const where = document.createElement("span");
        where.className = "where";
        const oblast = this.regions.oblastOf(region.id);
        where.textContent =
          oblast === region.id ? t(`level.${region.level}`) : `${t(`level.${region.level}`)} · ${this.regions.name(oblast)}`;
        option.append(name, where);
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => choose(index));
        return option;
      });
      if (!options.length) {
        const none = document.createElement("li");
        none.className = "none";
        none.textContent = t("search.none");
        options.push(none);
      }
      box.replaceChildren(...options);
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
      mark(results.length ? 0 : -1);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" && results.length) mark((active + 1) % results.length);
      else if (event.key === "ArrowUp" && results.length) mark((active - 1 + results.length) % results.length);
      else if (event.key === "Enter") choose(Math.max(active, 0));
      else if (event.key === "Escape") close();
      else return;
      event.preventDefault();
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
  }

  // -- selection ----------------------------------------------------------------------------

  select(id, { point = null, zoom = false } = {}) {
    if (!this.regions.get(id)) return;
    const drawable = this.regions.drawable(id);
    this.view.setHighlight(drawable);
    if (zoom && drawable) this.view.fitRegion(drawable);
    if (!point) this.view.setMarkers([]);
    history.replaceState(null, "", `#r=${encodeURIComponent(id)}`);
    this.panel.open(id, { point });
    this.render();
  }

  openFromHash() {
    const match = /^#r=(.+)$/.exec(location.hash);
    if (match) this.select(decodeURIComponent(match[1]), { zoom: true });
  }

  // -- state --------------------------------------------------------------------------------

  changed(events) {
    for (const event of events) {
      if (event.alert.type !== this.type) continue;
      const bucket = event.kind === "alert.lifted" ? "lifted" : event.kind === "alert.raised" ? "raised" : null;
      if (bucket) this.announcements[bucket].push(event.alert.region_id);
    }
    if (events.length && !this.announceTimer) {
      this.announceTimer = setTimeout(() => this.announce(), ANNOUNCE_DELAY_MS);
    }
    this.schedule();
  }

  announce() {
    this.announceTimer = null;
    if (!this.regions) return;
    const lines = [];
    for (const bucket of ["raised", "lifted"]) {
      const ids = this.announcements[bucket];
      if (!ids.length) continue;
      const names = ids.slice(0, 3).map((id) => this.regions.name(id));
      if (ids.length > 3) names.push(t("announce.more", { n: ids.length - 3 }));
      lines.push(t(`announce.${bucket}`, { names: names.join(", ") }));
      this.announcements[bucket] = [];
    }
    $("announcer").textContent = lines.join(". ");
  }

  connection(state) {
    this.connectionState = state;
    const box = $("conn");
    box.dataset.state = state;
    box.querySelector(".conn-text").textContent = t(`conn.${state}`);
    if (state === "offline") this.checkAccess();
  }

  async checkAccess() {
    try {
      await getJson("/api/alerts/active");
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) this.connection("noaccess");
    }
  }

  schedule() {
    if (this.frame || !this.regions) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  current() {
    if (this.replay.active) return { now: this.replay.time, alerts: this.replay.alertsAt(this.replay.time) };
    return { now: serverNow(), alerts: this.live.alerts() };
  }

  render() {
    if (!this.regions) return;
    const { now, alerts } = this.current();
    const replaying = this.replay.active;
    const statuses = statusMap(this.regions, alerts, this.type);
    this.view.setStatuses(statuses, (id) => this.describe(id, statuses));
    const ofType = alerts.filter((a) => a.type === this.type);
    this.list.render(ofType, now);
    this.panel.render(alerts, statuses, this.type, now);
    const stamp = fullDateTime(now);
    $("alerts-heading").textContent = replaying ? t("alerts.replayHeading", { time: stamp }) : t("alerts.heading");
    $("replay-banner").hidden = !replaying;
    $("replay-banner-time").textContent = replaying ? stamp : "";
    document.body.classList.toggle("replaying", replaying);
    if (replaying) {
      const regionsUnder = new Set(ofType.map((a) => a.region_id)).size;
      $("replay-state").textContent = t("replay.state", { n: regionsUnder });
    }
    if (this.live.lastSeq >= 0) document.documentElement.dataset.live = String(this.live.lastSeq);
  }

  describe(id, statuses) {
    const state = statuses.get(id);
    const status = state ? t(`status.${state.status}.${state.level}`) : t("status.none");
    return `${this.regions.name(id)}: ${status}`;
  }

  tick() {
    if (this.replay.active) return;
    const now = serverNow();
    this.list.tick(now);
    this.panel.tick(now);
  }
}

const config = JSON.parse(document.getElementById("tryvoha-config").textContent);
const app = new App(config);
// For people automating the page (and its tests): where a place is on screen.
window.tryvoha = {
  app,
  screenPoint(lat, lon) {
    const [x, y] = app.view.project(lon, lat);
    return app.view.toScreen(x, y);
  },
};
app.start();
