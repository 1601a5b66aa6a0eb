// The region tree as the map needs it: names, parents, descendants, and search by name.
import { language } from "./i18n.js";

const APOSTROPHES = /[’'ʼ`‘′]/g;
const PREFIX = /^(?:м\.|м\s|місто\s|city of\s|city\s)\s*/;
const SUFFIX = /\s*(?:область|обл\.?|oblast|region|city|місто)$/;

// The form names are compared in, as on the server (`normalise_name`).
export function normalise(text) {
  return text.toLowerCase().replace(APOSTROPHES, "").split(/\s+/).filter(Boolean).join(" ");
}

function stripAffixes(key) {
  for (;;) {
    const stripped = key.replace(PREFIX, "").replace(SUFFIX, "").trim();
    if (stripped === key) return key;
    key = stripped;
  }
}

export class Regions {
  constructor(doc) {
    this.levels = doc.levels;
    this.projection = doc.projection;
    this.tiers = doc.tiers;
    this.list = doc.regions.map(([id, level, parent, uk, en, shape], order) => ({
      id,
      level: doc.levels[level],
      rank: level,
      parent,
      uk,
      en,
      shape: shape === 1,
      order,
    }));
    this.byId = new Map(this.list.map((r) => [r.id, r]));
    this.children = new Map();
    for (const region of this.list) {
      if (region.parent === null) continue;
      if (!this.children.has(region.parent)) this.children.set(region.parent, []);
      this.children.get(region.parent).push(region.id);
    }
    this.descendantCache = new Map();
    this.keys = [];
    for (const region of this.list) this.addNames(region, [region.uk, region.en]);
  }

  addNames(region, names) {
    region.seen = region.seen || new Set();
    for (const name of names) {
      const exact = normalise(name);
      if (exact && !region.seen.has(exact)) {
        region.seen.add(exact);
        this.keys.push([exact, stripAffixes(exact), region]);
      }
    }
  }

  // Old names and other spellings (`aliases.json`), searched once they have arrived.
  addAliases(doc) {
    for (const [id, names] of doc.aliases) {
      const region = this.byId.get(id);
      if (region) this.addNames(region, names);
    }
  }

  get(id) {
    return this.byId.get(id);
  }

  name(id, lang = language()) {
    const region = this.byId.get(id);
    if (!region) return id;
    return lang === "en" ? region.en : region.uk;
  }

  ancestors(id) {
    const chain = [];
    let parent = this.byId.get(id)?.parent ?? null;
    while (parent !== null) {
      chain.push(parent);
      parent = this.byId.get(parent)?.parent ?? null;
    }
    return chain;
  }

  descendants(id) {
    let found = this.descendantCache.get(id);
    if (!found) {
      found = [];
      const stack = [id];
      while (stack.length) {
        for (const child of this.children.get(stack.pop()) || []) {
          found.push(child);
          stack.push(child);
        }
      }
      this.descendantCache.set(id, found);
    }
    return found;
  }

  oblastOf(id) {
    const chain = this.ancestors(id);
    return chain.length ? chain[chain.length - 1] : id;
  }

  // The nearest region at or above `id` that has a polygon to show.
  drawable(id) {
    for (const candidate of [id, ...this.ancestors(id)]) {
      if (this.byId.get(candidate)?.shape) return candidate;
    }
    return null;
  }

  // Best first, as the server's search: the id, exact names, names equal without
  // «область», «м.» and the like, names starting with the text, words starting with it,
  // then names containing it; larger units first within each.
  search(text, limit = 8) {
    const exactQuery = normalise(text);
    const query = stripAffixes(exactQuery);
    if (!query) return [];
    const tiers = [[], [], [], [], [], []];
    const exactId = this.byId.get(text.trim());
    if (exactId) tiers[0].push(exactId);
    // Keys are in registry order within each region's names, as the server's index.
    for (const [exact, key, region] of this.keys) {
      if (exact === exactQuery) tiers[1].push(region);
      else if (key === query) tiers[2].push(region);
      else if (key.startsWith(query)) tiers[3].push(region);
      else if (key.includes(` ${query}`) || key.includes(`-${query}`)) tiers[4].push(region);
      else if (key.includes(query)) tiers[5].push(region);
    }
    const found = new Map();
    for (const tier of tiers) {
      tier.sort((a, b) => a.rank - b.rank || a.order - b.order);
      for (const region of tier) {
        if (!found.has(region.id)) found.set(region.id, region);
        if (found.size >= limit) return [...found.values()];
      }
    }
    return [...found.values()];
  }
}
