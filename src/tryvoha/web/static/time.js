// Times for people: Kyiv time whatever the browser's zone, durations in words.
import { language, t } from "./i18n.js";

export const ZONE = "Europe/Kyiv";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const formatters = new Map();

function locale() {
  return language() === "uk" ? "uk-UA" : "en-GB";
}

function formatter(name, options) {
  const key = `${locale()}|${name}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale(), { timeZone: ZONE, ...options });
    formatters.set(key, found);
  }
  return found;
}

export function parseTime(text) {
  return text ? Date.parse(text) : null;
}

export function clock(ms) {
  return formatter("clock", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(ms);
}

export function dateTime(ms) {
  return formatter("datetime", {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(ms);
}

export function fullDateTime(ms) {
  return formatter("full", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(ms);
}

function kyivDay(ms) {
  return formatter("day", { year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
}

// "21:22" today (Kyiv), "3 Jul, 21:22" on another day.
export function when(ms, now) {
  return kyivDay(ms) === kyivDay(now) ? clock(ms) : dateTime(ms);
}

export function duration(ms) {
  if (ms <= 0) return `0 ${t("unit.min")}`;
  if (ms < MINUTE) return t("unit.lessMin");
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  if (days > 0) return `${days} ${t("unit.d")} ${hours} ${t("unit.h")}`;
  if (hours > 0) return `${hours} ${t("unit.h")} ${String(minutes).padStart(2, "0")} ${t("unit.min")}`;
  return `${minutes} ${t("unit.min")}`;
}

// Kyiv's offset from UTC at an instant, in ms (+2 h in winter, +3 h in summer).
function kyivOffset(ms) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: ZONE,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  for (const part of format.formatToParts(ms)) parts[part.type] = part.value;
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

// "2025-07-04T01:30" (a datetime-local value, read as Kyiv time) to epoch ms.
export function fromKyivInput(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!match) return null;
  const [, y, mo, d, h, mi] = match.map(Number);
  const naive = Date.UTC(y, mo - 1, d, h, mi);
  const guess = naive - kyivOffset(naive);
  return naive - kyivOffset(guess);
}

export function toKyivInput(ms) {
  const shifted = new Date(ms + kyivOffset(ms));
  return shifted.toISOString().slice(0, 16);
}

export function toIso(ms) {
  return new Date(ms).toISOString();
}
