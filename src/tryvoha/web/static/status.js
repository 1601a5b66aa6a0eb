// Region status from active alerts and the tree, as the server's `status_map`: a region is
// active when it or an ancestor has an alert of the type, partial when only a descendant
// has one; a red alert beats a yellow warning.

function stronger(a, b) {
  return a === "alert" || b === "alert" ? "alert" : "warning";
}

export function statusMap(regions, alerts, type) {
  const result = new Map();
  const partial = new Map();
  for (const alert of alerts) {
    if (alert.type !== type || !regions.get(alert.region_id)) continue;
    for (const id of [alert.region_id, ...regions.descendants(alert.region_id)]) {
      const previous = result.get(id);
      result.set(id, { status: "active", level: stronger(previous?.level, alert.level) });
    }
    for (const id of regions.ancestors(alert.region_id)) {
      partial.set(id, stronger(partial.get(id), alert.level));
    }
  }
  for (const [id, level] of partial) {
    if (!result.has(id)) result.set(id, { status: "partial", level });
  }
  return result;
}

// The alerts that make a region active (its own and its ancestors'), oldest first.
export function covering(regions, alerts, regionId, type) {
  const lineage = new Set([regionId, ...regions.ancestors(regionId)]);
  return alerts
    .filter((a) => (type === undefined || a.type === type) && lineage.has(a.region_id))
    .sort((a, b) => a.startedMs - b.startedMs);
}

// Alerts on regions below this one.
export function inside(regions, alerts, regionId, type) {
  return alerts.filter(
    (a) => a.type === type && regions.ancestors(a.region_id).includes(regionId),
  );
}
