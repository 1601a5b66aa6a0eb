// Every word the page shows, in Ukrainian and English. Region names come from the server.

const STRINGS = {
  uk: {
    "title": "Тривога",
    "doc.title": "Тривога · мапа тривог",
    "skip": "Перейти до списку тривог",
    "search.label": "Знайти місце",
    "search.placeholder": "Громада, район, область…",
    "search.none": "Нічого не знайдено",
    "type.label": "Тип тривоги",
    "type.air_raid": "Повітряна тривога",
    "type.artillery_shelling": "Загроза артобстрілу",
    "type.urban_fights": "Вуличні бої",
    "type.chemical": "Хімічна загроза",
    "type.nuclear": "Радіаційна загроза",
    "lang.other": "English",
    "conn.connecting": "З’єднання…",
    "conn.live": "Наживо",
    "conn.reconnecting": "Перепідключення…",
    "conn.offline": "Немає зв’язку",
    "conn.noaccess": "Потрібен токен",
    "map.heading": "Мапа",
    "map.help": "Стрілки зсувають мапу, + і − змінюють масштаб, 0 повертає всю країну. Tab переходить між областями, Enter відкриває область.",
    "map.label": "Мапа тривог України",
    "map.loading": "Завантаження мапи…",
    "map.failed": "Не вдалося завантажити мапу. Оновіть сторінку.",
    "zoom.group": "Масштаб",
    "zoom.in": "Наблизити",
    "zoom.out": "Віддалити",
    "zoom.reset": "Уся країна",
    "legend.label": "Легенда",
    "legend.alert": "Тривога",
    "legend.warning": "Попередження",
    "legend.partial": "Частково",
    "legend.none": "Немає",
    "tabs.label": "Розділи",
    "tabs.alerts": "Тривоги",
    "tabs.replay": "Повтор",
    "tabs.shelters": "Укриття",
    "alerts.heading": "Тривоги зараз",
    "alerts.replayHeading": "Тривоги на {time}",
    "alerts.none": "Тривог немає.",
    "alerts.summary": "Регіонів під тривогою: {n}",
    "alerts.since": "з {time}",
    "status.active.alert": "Тривога",
    "status.active.warning": "Попередження",
    "status.partial.alert": "Тривога в частині регіону",
    "status.partial.warning": "Попередження в частині регіону",
    "status.none": "Тривоги немає",
    "status.since": "з {time} · {duration}",
    "status.on": "оголошено для: {name}",
    "status.inside": "Під тривогою всередині: {n}",
    "status.other": "Інші тривоги",
    "level.oblast": "область",
    "level.raion": "район",
    "level.hromada": "громада",
    "level.city": "місто",
    "threat.heading": "Загроза",
    "threat.arrival": "Очікуване прибуття: {time} ({relative})",
    "threat.in": "через {duration}",
    "threat.passed": "{duration} тому",
    "threat.shahed": "Ударні БпЛА (шахеди)",
    "threat.jet_drone": "Реактивні БпЛА",
    "threat.cruise_missile": "Крилаті ракети",
    "threat.ballistic_missile": "Балістичні ракети",
    "threat.aircraft": "Авіація",
    "threat.unknown": "Невідома загроза",
    "threat.engine": "Визначено системою раннього попередження",
    "panel.close": "Закрити",
    "panel.path": "Де це",
    "panel.history": "Останні тривоги",
    "panel.historyNone": "Тривог не було.",
    "panel.historyFailed": "Історія недоступна.",
    "panel.ongoing": "триває",
    "panel.stats": "За 30 днів",
    "panel.shelters": "Найближчі укриття",
    "stats.count": "Тривог",
    "stats.total": "Загалом",
    "stats.longest": "Найдовша",
    "stats.share": "Частка часу",
    "stats.nights": "Ночей з тривогою",
    "replay.heading": "Повтор",
    "replay.banner": "Повтор:",
    "replay.night": "Ніч на 4 липня 2025",
    "replay.log": "Останні 24 год журналу",
    "replay.since": "Від",
    "replay.until": "До",
    "replay.load": "Показати",
    "replay.zone": "Час — київський.",
    "replay.scrub": "Час повтору",
    "replay.play": "Грати",
    "replay.pause": "Пауза",
    "replay.speed": "Швидкість",
    "replay.exit": "Наживо",
    "replay.loading": "Завантаження…",
    "replay.failed": "Не вдалося завантажити: {error}",
    "replay.empty": "За цей час тривог не було.",
    "replay.loaded": "{n} тривог між {since} і {until}.",
    "replay.nightMissing": "Ночі на 4 липня 2025 немає в історії цього сервера, тож показано його власний журнал. Ту ніч відтворює tryvoha demo, а офіційний архів додає tryvoha history import.",
    "replay.truncated": "Показано лише перші {n} тривог.",
    "replay.state": "Під тривогою: {n}",
    "shelters.heading": "Найближчі укриття",
    "shelters.me": "Укриття біля мене",
    "shelters.hint": "Або торкніться точки на мапі.",
    "shelters.known": "Відомих укриттів: {n}",
    "shelters.noneKnown": "Цей сервер ще не знає жодного укриття.",
    "shelters.locating": "Визначаємо місцезнаходження…",
    "shelters.denied": "Немає доступу до місцезнаходження. Торкніться точки на мапі.",
    "shelters.unavailable": "Місцезнаходження невідоме. Торкніться точки на мапі.",
    "shelters.none": "У межах {km} км укриттів не знайдено.",
    "shelters.walk": "{m} хв пішки",
    "shelters.note": "Відстань по прямій; пішки 5 км/год.",
    "shelters.failed": "Не вдалося знайти укриття.",
    "shelters.point": "Від точки {lat}, {lon}",
    "announce.raised": "Тривога: {names}",
    "announce.lifted": "Відбій: {names}",
    "announce.more": "і ще {n}",
    "unit.d": "д",
    "unit.h": "год",
    "unit.min": "хв",
    "unit.lessMin": "<1 хв",
    "unit.km": "км",
    "unit.m": "м",
  },
  en: {
    "title": "Tryvoha",
    "doc.title": "Tryvoha · air-raid alert map",
    "skip": "Skip to the list of alerts",
    "search.label": "Find a place",
    "search.placeholder": "Hromada, raion, oblast…",
    "search.none": "Nothing found",
    "type.label": "Alert type",
    "type.air_raid": "Air raid",
    "type.artillery_shelling": "Artillery shelling",
    "type.urban_fights": "Urban fights",
    "type.chemical": "Chemical threat",
    "type.nuclear": "Nuclear threat",
    "lang.other": "Українська",
    "conn.connecting": "Connecting…",
    "conn.live": "Live",
    "conn.reconnecting": "Reconnecting…",
    "conn.offline": "Offline",
    "conn.noaccess": "Token required",
    "map.heading": "Map",
    "map.help": "Arrow keys pan the map, + and − zoom, 0 shows the whole country. Tab moves between oblasts, Enter opens one.",
    "map.label": "Map of alerts in Ukraine",
    "map.loading": "Loading the map…",
    "map.failed": "The map could not be loaded. Reload the page.",
    "zoom.group": "Zoom",
    "zoom.in": "Zoom in",
    "zoom.out": "Zoom out",
    "zoom.reset": "Whole country",
    "legend.label": "Legend",
    "legend.alert": "Alert",
    "legend.warning": "Warning",
    "legend.partial": "Partial",
    "legend.none": "None",
    "tabs.label": "Sections",
    "tabs.alerts": "Alerts",
    "tabs.replay": "Replay",
    "tabs.shelters": "Shelters",
    "alerts.heading": "Alerts now",
    "alerts.replayHeading": "Alerts at {time}",
    "alerts.none": "No alerts.",
    "alerts.summary": "Regions under alert: {n}",
    "alerts.since": "since {time}",
    "status.active.alert": "Alert",
    "status.active.warning": "Warning",
    "status.partial.alert": "Alert in part of the region",
    "status.partial.warning": "Warning in part of the region",
    "status.none": "No alert",
    "status.since": "since {time} · {duration}",
    "status.on": "declared for: {name}",
    "status.inside": "Under alert inside: {n}",
    "status.other": "Other alerts",
    "level.oblast": "oblast",
    "level.raion": "raion",
    "level.hromada": "hromada",
    "level.city": "city",
    "threat.heading": "Threat",
    "threat.arrival": "Expected arrival: {time} ({relative})",
    "threat.in": "in {duration}",
    "threat.passed": "{duration} ago",
    "threat.shahed": "Attack drones (Shaheds)",
    "threat.jet_drone": "Jet drones",
    "threat.cruise_missile": "Cruise missiles",
    "threat.ballistic_missile": "Ballistic missiles",
    "threat.aircraft": "Aircraft",
    "threat.unknown": "Unknown threat",
    "threat.engine": "Raised by the early-warning engine",
    "panel.close": "Close",
    "panel.path": "Where this is",
    "panel.history": "Recent alerts",
    "panel.historyNone": "No alerts yet.",
    "panel.historyFailed": "History is unavailable.",
    "panel.ongoing": "ongoing",
    "panel.stats": "Last 30 days",
    "panel.shelters": "Nearest shelters",
    "stats.count": "Alerts",
    "stats.total": "In total",
    "stats.longest": "Longest",
    "stats.share": "Share of time",
    "stats.nights": "Nights with alerts",
    "replay.heading": "Replay",
    "replay.banner": "Replay:",
    "replay.night": "Night of 4 July 2025",
    "replay.log": "Last 24 h of the log",
    "replay.since": "From",
    "replay.until": "To",
    "replay.load": "Show",
    "replay.zone": "Times are Kyiv time.",
    "replay.scrub": "Replay time",
    "replay.play": "Play",
    "replay.pause": "Pause",
    "replay.speed": "Speed",
    "replay.exit": "Live",
    "replay.loading": "Loading…",
    "replay.failed": "Could not load: {error}",
    "replay.empty": "No alerts in this window.",
    "replay.loaded": "{n} alerts between {since} and {until}.",
    "replay.nightMissing": "This server's history does not reach the night of 4 July 2025, so this is its own log. tryvoha demo plays that night; tryvoha history import brings in the official record.",
    "replay.truncated": "Only the first {n} alerts are shown.",
    "replay.state": "Under alert: {n}",
    "shelters.heading": "Nearest shelters",
    "shelters.me": "Shelters near me",
    "shelters.hint": "Or tap a point on the map.",
    "shelters.known": "Known shelters: {n}",
    "shelters.noneKnown": "This server knows no shelters yet.",
    "shelters.locating": "Finding your location…",
    "shelters.denied": "No access to your location. Tap a point on the map instead.",
    "shelters.unavailable": "Your location is unknown. Tap a point on the map instead.",
    "shelters.none": "No shelter within {km} km.",
    "shelters.walk": "{m} min walk",
    "shelters.note": "Straight-line distance; walking at 5 km/h.",
    "shelters.failed": "Could not look up shelters.",
    "shelters.point": "From {lat}, {lon}",
    "announce.raised": "Alert: {names}",
    "announce.lifted": "All clear: {names}",
    "announce.more": "and {n} more",
    "unit.d": "d",
    "unit.h": "h",
    "unit.min": "min",
    "unit.lessMin": "<1 min",
    "unit.km": "km",
    "unit.m": "m",
  },
};

export const LANGUAGES = ["uk", "en"];

let current = "uk";

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : "uk";
  document.documentElement.lang = current;
  document.title = t("doc.title");
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
}

// The language to start in: ?lang=, then the last choice, then the browser's preference.
export function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (LANGUAGES.includes(asked)) return asked;
  try {
    const saved = localStorage.getItem("tryvoha.lang");
    if (LANGUAGES.includes(saved)) return saved;
  } catch {
    // Storage can be disabled; the browser's languages still decide.
  }
  const preferred = (navigator.languages || [navigator.language || "uk"]).map((l) => l.slice(0, 2));
  const known = preferred.find((l) => LANGUAGES.includes(l) || l === "ru");
  return known === "en" ? "en" : "uk";
}

export function rememberLanguage(lang) {
  try {
    localStorage.setItem("tryvoha.lang", lang);
  } catch {
    // Not remembered: the choice still holds for this visit.
  }
}

export function t(key, vars) {
  let text = STRINGS[current][key] ?? STRINGS.uk[key] ?? key;
  if (vars) {
    for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, value);
  }
  return text;
}
