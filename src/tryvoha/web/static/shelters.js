// Nearest shelters to the browser's location or a point picked on the map.
import { getJson, query } from "./api.js";
import { language, t } from "./i18n.js";

const COUNT = 5;
const MAX_KM = 20;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function distanceText(metres) {
  return metres < 1000
    ? `${metres} ${t("unit.m")}`
    : `${(metres / 1000).toFixed(1)} ${t("unit.km")}`;
}

export class ShelterFinder {
  constructor(view, { known }) {
    this.view = view;
    this.known = known;
    this.shown = [];
  }

  async loadCount() {
    try {
      const data = await getJson(`/api/shelters${query({ limit: 1 })}`);
      this.total = data.total;
    } catch {
      this.total = null;
    }
    this.renderCount();
  }

  renderCount() {
    if (this.total === null || this.total === undefined) this.known.textContent = "";
    else this.known.textContent = this.total ? t("shelters.known", { n: this.total }) : t("shelters.noneKnown");
  }

  // Look up and list the shelters nearest `point` in `container`, and mark them on the map.
  async findNear(point, container, { fit = false } = {}) {
    const request = {};
    this.request = request;
    container.replaceChildren(el("p", "hint", t("replay.loading")));
    let data;
    try {
      data = await getJson(
        `/api/shelters/nearest${query({ lat: point.lat.toFixed(6), lon: point.lon.toFixed(6), n: COUNT, max_m: MAX_KM * 1000 })}`,
      );
    } catch {
      if (this.request === request) container.replaceChildren(el("p", "note", t("shelters.failed")));
      return;
    }
    if (this.request !== request) return;
    const entry = { point, shelters: data.shelters, container };
    this.shown = this.shown.filter((s) => s.container !== container && s.container.isConnected);
    this.shown.push(entry);
    this.render(entry);
    // The nearest shelter is drawn on top, the point itself underneath them all.
    this.view.setMarkers([
      ...data.shelters.map((s, index) => ({
        kind: "shelter",
        lat: s.lat,
        lon: s.lon,
        number: index + 1,
        label: this.name(s),
      })),
      { kind: "point", lat: point.lat, lon: point.lon },
    ]);
    if (fit) this.view.fitPoints([point, ...data.shelters.slice(0, 3)]);
  }

  name(shelter) {
    return language() === "en" ? shelter.name_en : shelter.name_uk;
  }

  render({ point, shelters, container }) {
    if (!shelters.length) {
      const message = this.total === 0 ? t("shelters.noneKnown") : t("shelters.none", { km: MAX_KM });
      container.replaceChildren(el("p", "note", message));
      return;
    }
    const list = el("ol", "shelter-list");
    for (const shelter of shelters) {
      const item = el("li");
      const button = el("button", "shelter");
      button.type = "button";
      button.dataset.shelterId = shelter.id;
      button.append(
        el("span", "name", this.name(shelter)),
        el("span", "distance", `${distanceText(shelter.distance_m)} · ${t("shelters.walk", { m: shelter.walking_minutes })}`),
      );
      button.addEventListener("click", () => this.view.fitPoints([point, shelter]));
      item.append(button);
      list.append(item);
    }
    const from = el("p", "hint", t("shelters.point", { lat: point.lat.toFixed(4), lon: point.lon.toFixed(4) }));
    container.replaceChildren(from, list, el("p", "hint", t("shelters.note")));
  }

  locate(container) {
    if (!("geolocation" in navigator)) {
      container.replaceChildren(el("p", "note", t("shelters.unavailable")));
      return;
    }
    container.replaceChildren(el("p", "hint", t("shelters.locating")));
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const point = { lat: position.coords.latitude, lon: position.coords.longitude };
        this.findNear(point, container, { fit: true });
      },
      (error) => {
        const key = error.code === error.PERMISSION_DENIED ? "shelters.denied" : "shelters.unavailable";
        container.replaceChildren(el("p", "note", t(key)));
      },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
    );
  }

  relabel() {
    this.renderCount();
    this.shown = this.shown.filter((s) => s.container.isConnected);
    for (const entry of this.shown) this.render(entry);
  }
}
