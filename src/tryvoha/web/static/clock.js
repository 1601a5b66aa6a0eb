// The server's time, which every duration on the page is measured against. Usually the
// wall clock; in `tryvoha demo` a night of 2025 running faster than real time. Sampled from
// /api/time at start, after two seconds, then every minute; between samples it runs on at
// the rate the last two samples showed.
import { getJson } from "./api.js";
import { parseTime } from "./time.js";

const RESAMPLE_MS = 60_000;
let anchor = { server: Date.now(), local: performance.now(), rate: 1 };

export function serverNow() {
  return anchor.server + (performance.now() - anchor.local) * anchor.rate;
}

async function sample() {
  const sent = performance.now();
  const data = await getJson("/api/time");
  const local = (sent + performance.now()) / 2;
  const server = parseTime(data.now);
  let rate = 1;
  if (anchor.sampled && local - anchor.local > 500) {
    rate = (server - anchor.server) / (local - anchor.local);
    // Wall-clock time (within 5 %) is the usual case: no drift from noisy samples.
    if (Math.abs(rate - 1) < 0.05) rate = 1;
    rate = Math.max(0, rate);
  }
  anchor = { server, local, rate, sampled: true };
}

export async function syncClock() {
  try {
    await sample();
  } catch {
    return; // The browser's own clock stands in until the server answers.
  }
  setTimeout(() => sample().catch(() => {}), 2000);
  setInterval(() => sample().catch(() => {}), RESAMPLE_MS);
}
