// The SVG map: one path per region and level, coloured through data attributes, with pan,
// zoom (mouse, touch, keyboard) and sharper polygons fetched as the zoom grows.

const SVG = "http://www.w3.org/2000/svg";
const MIN_ZOOM = 1;
const MAX_ZOOM = 512;
const MARGIN = 0.03;
const DRAG_PX = 5;
const FILL_LEVELS = ["oblast", "raion", "hromada", "city"];

function element(name, attributes = {}) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
  return el;
}

export class MapView {
  constructor(svg, regions, { onPick, onOblastKey, onTier, onView }) {
    this.svg = svg;
    this.regions = regions;
    this.onPick = onPick;
    this.onOblastKey = onOblastKey;
    this.onTier = onTier;
    this.onView = onView;
    const p = regions.projection;
    const mx = p.width * MARGIN;
    const my = p.height * MARGIN;
    this.home = { x: -mx, y: -my, w: p.width + 2 * mx, h: p.height + 2 * my };
    this.view = { ...this.home };
    this.tier = 0;
    this.paths = new Map();
    this.statuses = new Map();
    this.layers = {};
    for (const level of FILL_LEVELS) {
      this.layers[level] = element("g", { class: `fill fill-${level}`, "aria-hidden": "true" });
      svg.append(this.layers[level]);
    }
    this.layers.raionLines = element("g", { class: "lines lines-raion", "aria-hidden": "true" });
    this.layers.oblastLines = element("g", { class: "lines lines-oblast" });
    this.layers.marks = element("g", { class: "marks", "aria-hidden": "true" });
    svg.append(this.layers.raionLines, this.layers.oblastLines, this.layers.marks);
    this.highlight = element("path", { class: "highlight" });
    this.markers = [];
    this.layers.marks.append(this.highlight);
    this.applyView();
    this.bindPointer();
    this.bindKeys();
    new ResizeObserver(() => this.applyView()).observe(svg);
  }

  // -- shapes ---------------------------------------------------------------------------

  // `paths` is [[id, d], ...], largest first: later paths are drawn over earlier ones.
  setShapes(level, paths) {
    const layer = this.layers[level];
    if (!layer) return;
    const fragment = document.createDocumentFragment();
    for (const [id, d] of paths) {
      let entry = this.paths.get(id);
      if (!entry) {
        entry = { fill: element("path", { "data-id": id, "data-status": "none" }) };
        fragment.append(entry.fill);
        if (level === "oblast") entry.line = this.addOblastLine(id);
        if (level === "raion") {
          entry.line = element("path", { "data-id": id });
          this.layers.raionLines.append(entry.line);
        }
        this.paths.set(id, entry);
        this.paint(id, this.statuses.get(id));
      }
      entry.fill.setAttribute("d", d);
      if (entry.line) entry.line.setAttribute("d", d);
    }
    layer.append(fragment);
    if (this.highlightId) this.setHighlight(this.highlightId);
  }

  addOblastLine(id) {
    const line = element("path", { "data-id": id, tabindex: "0", role: "button" });
    line.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        event.stopPropagation();
        this.onOblastKey(id);
      }
    });
    this.layers.oblastLines.append(line);
    return line;
  }

  has(id) {
    return this.paths.has(id);
  }

  // -- colours --------------------------------------------------------------------------

  setStatuses(statuses, describe) {
    const previous = this.statuses;
    this.statuses = statuses;
    const changed = new Set([...previous.keys(), ...statuses.keys()]);
    for (const id of changed) {
      const before = previous.get(id);
      const after = statuses.get(id);
      if (before?.status === after?.status && before?.level === after?.level) continue;
      this.paint(id, after);
    }
    for (const [id, entry] of this.paths) {
      if (entry.line?.getAttribute("role")) entry.line.setAttribute("aria-label", describe(id));
    }
  }

  paint(id, state) {
    const entry = this.paths.get(id);
    if (!entry) return;
    entry.fill.setAttribute("data-status", state ? state.status : "none");
    if (state) entry.fill.setAttribute("data-level", state.level);
    else entry.fill.removeAttribute("data-level");
  }

  setHighlight(id) {
    this.highlightId = id;
    const entry = id ? this.paths.get(id) : null;
    if (entry) this.highlight.setAttribute("d", entry.fill.getAttribute("d"));
    else this.highlight.removeAttribute("d");
  }

  // Shelters (numbered as in their list) and picked points, the same size on screen at
  // any zoom.
  setMarkers(markers) {
    for (const old of this.markers) old.remove();
    this.markers = markers.map((m) => {
      const [x, y] = this.project(m.lon, m.lat);
      const group = element("g", { class: `marker marker-${m.kind}` });
      group.dataset.x = String(x);
      group.dataset.y = String(y);
      group.append(element("circle", { cx: 0, cy: 0, r: m.kind === "point" ? 7 : 10 }));
      if (m.number) {
        const number = element("text", { x: 0, y: 0, "text-anchor": "middle", dy: "0.35em" });
        number.textContent = String(m.number);
        group.append(number);
      }
      if (m.label) {
        const title = element("title");
        title.textContent = m.label;
        group.append(title);
      }
      // Each marker goes under the ones before it, so the first is on top.
      this.layers.marks.insertBefore(group, this.highlight.nextSibling);
      return group;
    });
    this.sizeMarkers();
  }

  sizeMarkers() {
    const unit = this.unitsPerPixel();
    for (const group of this.markers) {
      group.setAttribute("transform", `translate(${group.dataset.x} ${group.dataset.y}) scale(${unit})`);
    }
  }

  // -- projection -----------------------------------------------------------------------

  project(lon, lat) {
    const p = this.regions.projection;
    return [(lon - p.lon0) * p.kx, (p.lat0 - lat) * p.ky];
  }

  unproject(x, y) {
    const p = this.regions.projection;
    return [x / p.kx + p.lon0, p.lat0 - y / p.ky];
  }

  toPlane(clientX, clientY) {
    const matrix = this.svg.getScreenCTM();
    if (!matrix) return [0, 0];
    const point = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    return [point.x, point.y];
  }

  toScreen(x, y) {
    const matrix = this.svg.getScreenCTM();
    const point = new DOMPoint(x, y).matrixTransform(matrix);
    return { x: point.x, y: point.y };
  }

  unitsPerPixel() {
    const matrix = this.svg.getScreenCTM();
    return matrix && matrix.a ? 1 / matrix.a : this.view.w / 1000;
  }

  // -- view -----------------------------------------------------------------------------

  get zoom() {
    return this.home.w / this.view.w;
  }

  applyView() {
    const { x, y, w, h } = this.view;
    this.svg.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
    const zoom = this.zoom;
    this.svg.dataset.zoom = zoom >= 6 ? "near" : zoom >= 2.5 ? "mid" : "far";
    let tier = 0;
    this.regions.tiers.forEach((from, index) => {
      if (zoom >= from) tier = index;
    });
    if (tier !== this.tier) {
      this.tier = tier;
      this.onTier(tier);
    }
    this.sizeMarkers();
    this.sizePatterns();
    if (this.onView) this.onView();
  }

  // Hatching stays the same on screen at any zoom.
  sizePatterns() {
    const unit = this.unitsPerPixel();
    for (const pattern of this.svg.querySelectorAll("pattern")) {
      pattern.setAttribute("patternTransform", `rotate(45) scale(${unit})`);
    }
  }

  scheduleView() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.applyView();
    });
  }

  // Zoom by `factor` keeping the plane point (px, py) where it is on screen.
  zoomAt(factor, px, py) {
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoom * factor));
    const w = this.home.w / zoom;
    const h = this.home.h / zoom;
    const fx = (px - this.view.x) / this.view.w;
    const fy = (py - this.view.y) / this.view.h;
    this.view = this.clamp({ x: px - fx * w, y: py - fy * h, w, h });
    this.scheduleView();
  }

  zoomBy(factor) {
    const { x, y, w, h } = this.view;
    this.zoomAt(factor, x + w / 2, y + h / 2);
  }

  panBy(dx, dy) {
    this.view = this.clamp({ ...this.view, x: this.view.x + dx, y: this.view.y + dy });
    this.scheduleView();
  }

  reset() {
    this.view = { ...this.home };
    this.scheduleView();
  }

  // Show a plane box (x, y, w, h) with some room around it.
  fit(box, room = 1.3) {
    const w = Math.max(box.w * room, this.home.w / MAX_ZOOM);
    const h = Math.max(box.h * room, this.home.h / MAX_ZOOM);
    const rect = this.svg.getBoundingClientRect();
    const aspect = rect.width && rect.height ? rect.width / rect.height : this.home.w / this.home.h;
    const scale = Math.max(w / this.home.w, h / this.home.h, (h * aspect) / this.home.w);
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, 1 / scale));
    const vw = this.home.w / zoom;
    const vh = this.home.h / zoom;
    const cx = box.x + box.w / 2;
    const cy = box.y + box.h / 2;
    this.view = this.clamp({ x: cx - vw / 2, y: cy - vh / 2, w: vw, h: vh });
    this.applyView();
  }

  fitRegion(id) {
    const entry = this.paths.get(id);
    if (!entry) return false;
    const box = entry.fill.getBBox();
    this.fit({ x: box.x, y: box.y, w: box.width, h: box.height });
    return true;
  }

  // Show every point, and at least `minKm` around them: a few streets' worth of context.
  fitPoints(points, minKm = 3) {
    const xy = points.map((p) => this.project(p.lon, p.lat));
    const xs = xy.map((p) => p[0]);
    const ys = xy.map((p) => p[1]);
    const least = minKm / 111.2 * this.regions.projection.ky;
    const w = Math.max(Math.max(...xs) - Math.min(...xs), least);
    const h = Math.max(Math.max(...ys) - Math.min(...ys), least);
    const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
    const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
    this.fit({ x: cx - w / 2, y: cy - h / 2, w, h }, 1.4);
  }

  clamp(view) {
    // Keep the view's centre over the country.
    const cx = Math.min(this.home.x + this.home.w, Math.max(this.home.x, view.x + view.w / 2));
    const cy = Math.min(this.home.y + this.home.h, Math.max(this.home.y, view.y + view.h / 2));
    return { x: cx - view.w / 2, y: cy - view.h / 2, w: view.w, h: view.h };
  }

  // -- input ----------------------------------------------------------------------------

  bindPointer() {
    const svg = this.svg;
    const pointers = new Map();
    let drag = null;
    let pinch = null;
    svg.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      svg.setPointerCapture(event.pointerId);
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pointers.size === 1) {
        drag = { x: event.clientX, y: event.clientY, moved: false, target: event.target };
      } else if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y) };
        drag = null;
      }
    });
    svg.addEventListener("pointermove", (event) => {
      if (!pointers.has(event.pointerId)) return;
      const last = pointers.get(event.pointerId);
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pinch && pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const distance = Math.hypot(a.x - b.x, a.y - b.y);
        if (pinch.distance > 0) {
          const [px, py] = this.toPlane((a.x + b.x) / 2, (a.y + b.y) / 2);
          this.zoomAt(distance / pinch.distance, px, py);
        }
        pinch.distance = distance;
        return;
      }
      if (!drag) return;
      if (!drag.moved && Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_PX) return;
      drag.moved = true;
      svg.classList.add("dragging");
      const unit = this.unitsPerPixel();
      this.panBy((last.x - event.clientX) * unit, (last.y - event.clientY) * unit);
    });
    const end = (event) => {
      if (!pointers.has(event.pointerId)) return;
      pointers.delete(event.pointerId);
      if (pointers.size < 2) pinch = null;
      if (drag && !drag.moved && event.type === "pointerup") {
        const id = drag.target.closest?.("path[data-id]")?.dataset.id ?? null;
        const [x, y] = this.toPlane(event.clientX, event.clientY);
        const [lon, lat] = this.unproject(x, y);
        this.onPick(id, { lat, lon });
      }
      drag = null;
      svg.classList.remove("dragging");
    };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    svg.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const [px, py] = this.toPlane(event.clientX, event.clientY);
        const lines = event.deltaMode === 1 ? 33 : 1;
        this.zoomAt(Math.exp((-event.deltaY * lines) / 400), px, py);
      },
      { passive: false },
    );
    svg.addEventListener("dblclick", (event) => {
      const [px, py] = this.toPlane(event.clientX, event.clientY);
      this.zoomAt(2, px, py);
    });
  }

  bindKeys() {
    this.svg.addEventListener("keydown", (event) => {
      const step = this.view.w * 0.12;
      const moves = {
        ArrowLeft: [-step, 0],
        ArrowRight: [step, 0],
        ArrowUp: [0, -step],
        ArrowDown: [0, step],
      };
      if (moves[event.key]) {
        this.panBy(...moves[event.key]);
      } else if (event.key === "+" || event.key === "=") {
        this.zoomBy(1.5);
      } else if (event.key === "-" || event.key === "_") {
        this.zoomBy(1 / 1.5);
      } else if (event.key === "0") {
        this.reset();
      } else {
        return;
      }
      event.preventDefault();
    });
  }
}
