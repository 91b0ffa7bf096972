// The public leaderboards page: one tab per period (month, year, all time), each showing
// every board (GET /leaderboards/{board}?window=…), loaded the first time its tab is
// shown. Everything the service sends is inserted as text, never as HTML.
import config from "./config.js";
import { ServiceError, WaveService } from "./api.js";
import { setUpTabs } from "./tabs.js";
import {
  chordHz,
  chordNotes,
  formatCount,
  formatDateRange,
  formatDateTime,
  formatInterval,
  formatMB,
  formatRelative,
  formatSpec,
  formatWhen,
  frequencyLabel,
  rankChange,
} from "./format.js";

const KINDS = [
  {
    kind: "frequencies",
    title: "Frequencies",
    about: "Requested tones containing each frequency; a chord counts once for each of its notes.",
    key: "Frequency",
    count: "Requests",
  },
  {
    kind: "chords",
    title: "Chords",
    about: "Tones of two or more frequencies, named by their notes.",
    key: "Chord",
    count: "Requests",
  },
  {
    kind: "clients",
    title: "Clients",
    about: "Who asks for the most tones: the X-Client-Id they send, or else their address.",
    key: "Client",
    count: "Requests",
  },
  {
    kind: "specs",
    title: "Downloaded tones",
    about: "Whole tone specs whose WAV file was downloaded; data is what was downloaded.",
    key: "Tone",
    count: "Downloads",
  },
];
const METRICS = [
  { metric: "requests", title: "By requests" },
  { metric: "bytes", title: "By data" },
];
const BOARDS = KINDS.flatMap(({ kind }) => METRICS.map(({ metric }) => `${kind}_by_${metric}`));

const WINDOWS = {
  month: { title: "Past 30 days", short: "the past 30 days", compare: "the 30 days before" },
  year: { title: "Past 365 days", short: "the past 365 days", compare: "the 365 days before" },
  all: { title: "All time", short: "all time", compare: null },
};

const refreshS = Number(config.leaderboardRefreshS) > 0 ? Number(config.leaderboardRefreshS) : 3600;
const service = new WaveService(config.apiBase ?? "");
const loads = new Map(); // window → Promise of its boards, so a tab loads once
let selected = null; // the window whose tab is selected
const $ = (id) => document.getElementById(id);
const status = $("status");

/** A DOM element; children may be strings (inserted as text) or elements. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

const visuallyHidden = (text) => el("span", { class: "visually-hidden" }, text);

// -- one board ------------------------------------------------------------------------------

/** The entry's name (a label that wraps only on narrow screens) and its details. */
function keyCell(kind, entry) {
  const label = (text) => el("span", { class: "label" }, text);
  const detail = (text) => el("span", { class: "detail" }, text);
  switch (kind) {
    case "frequencies":
      return [label(frequencyLabel(entry.frequency))];
    case "chords":
      return [label(chordNotes(entry.chord)), detail(chordHz(entry.chord))];
    case "clients":
      return [el("span", { class: "label client" }, String(entry.client_id))];
    case "specs":
      // One partial reads as on the frequencies board; a chord as on the chords board.
      return entry.frequencies.length === 1
        ? [label(frequencyLabel(entry.frequencies[0])), detail(formatSpec(entry))]
        : [label(chordNotes(entry.frequencies)), detail(chordHz(entry.frequencies)), detail(formatSpec(entry))];
    default:
      return [label(JSON.stringify(entry))];
  }
}

function changeCell(entry) {
  const { kind, text, spoken } = rankChange(entry.rank_change);
  // "new" reads well aloud; the arrows are read as words ("up 2 places").
  const mark =
    kind === "new"
      ? el("span", { class: "change new" }, text)
      : el("span", { class: `change ${kind}` }, el("span", { "aria-hidden": "true" }, text), visuallyHidden(spoken));
  return el("td", { class: "change-cell" }, mark);
}

function boardTable(spec, metric, board, windowName) {
  const compared = WINDOWS[windowName].compare !== null;
  // The column the board ranks by is marked (bold, and aria-sort for screen readers); the
  // other measure is left out on narrow screens (leaderboards.css).
  const numeric = (column) => (column === metric ? "num ranked" : "num other");
  const sortedBy = (column) => (column === metric ? "descending" : null);
  const header = el(
    "tr",
    {},
    el("th", { scope: "col", class: "rank" }, "Rank"),
    compared && el("th", { scope: "col" }, "Change"),
    el("th", { scope: "col" }, spec.key),
    el("th", { scope: "col", class: numeric("requests"), "aria-sort": sortedBy("requests") }, spec.count),
    el("th", { scope: "col", class: numeric("bytes"), "aria-sort": sortedBy("bytes") }, "Data"),
  );
  const rows = board.entries.map((entry) =>
    el(
      "tr",
      {},
      el("td", { class: "rank" }, formatCount(entry.rank)),
      compared && changeCell(entry),
      el("th", { scope: "row", class: "key" }, keyCell(spec.kind, entry)),
      el("td", { class: numeric("requests") }, formatCount(entry.requests)),
      el("td", { class: numeric("bytes") }, formatMB(entry.bytes)),
    ),
  );
  const by = metric === "bytes" ? "by data" : `by ${spec.count.toLowerCase()}`;
  const caption = `${spec.title}, ${by}, ${WINDOWS[windowName].short}`;
  return el(
    "table",
    { class: "board-table" },
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, header),
    el("tbody", {}, rows),
  );
}

/** Words before the next refresh's time that stay true as the page stays open: `before`
 * until it is due, then `after` (see updateTimes). */
function dueWords(next, now, before, after) {
  const attributes = { class: "due", "data-due": next.toISOString(), "data-before": before, "data-after": after };
  return el("span", attributes, next < now ? after : before);
}

function times(computed, now) {
  const next = new Date(computed.getTime() + refreshS * 1000);
  return el(
    "p",
    { class: "board-time" },
    "Computed ",
    el("time", { datetime: computed.toISOString() }, formatWhen(computed, now)),
    dueWords(next, now, " · next refresh by ", " · next refresh was due by "),
    el("time", { datetime: next.toISOString() }, formatWhen(next, now)),
  );
}

function boardCard(spec, metric, windowName, result, now) {
  const name = `${spec.kind}_by_${metric.metric}`;
  const headingId = `${windowName}-${name}-title`;
  let state;
  let body;
  if (result.board) {
    const empty = result.board.entries.length === 0;
    state = empty ? "empty" : "ready";
    body = [
      empty
        ? el("p", { class: "board-message" }, "Nothing in this period yet.")
        : boardTable(spec, metric.metric, result.board, windowName),
      times(new Date(result.board.computed_at), now),
    ];
  } else if (result.error.code === "not_computed") {
    state = "not_computed";
    const text = `Not computed yet: the boards are recomputed ${formatInterval(refreshS)}.`;
    body = [el("p", { class: "board-message" }, text)];
  } else {
    state = "error";
    const text = `Could not load this board: ${result.error.message}`;
    body = [el("p", { class: "board-message error" }, text)];
  }
  const labelledBy = `${windowName}-${spec.kind}-title ${headingId}`;
  return el(
    "article",
    { class: "board", "data-board": name, "data-state": state, "aria-labelledby": labelledBy },
    el("h4", { id: headingId }, metric.title),
    body,
  );
}

// -- one period -----------------------------------------------------------------------------

async function fetchBoards(windowName) {
  return Promise.all(
    BOARDS.map(async (name) => {
      try {
        return { name, board: await service.leaderboard(name, windowName) };
      } catch (error) {
        if (!(error instanceof ServiceError)) console.error(error);
        return { name, error };
      }
    }),
  );
}

function panelHead(windowName, loaded, now) {
  const about = WINDOWS[windowName];
  const head = el("div", { class: "panel-head" }, el("h2", {}, about.title));
  if (!loaded.length) return head;
  const first = loaded[0].board;
  const range =
    windowName === "all"
      ? "Every request since the service started"
      : formatDateRange(new Date(first.start), new Date(first.end));
  const compare = about.compare
    ? `rank changes against ${about.compare}`
    : "no earlier period to compare with, so no rank changes";
  head.append(el("p", { class: "period" }, `${range} · ${compare}`));
  const computed = new Date(Math.min(...loaded.map((r) => new Date(r.board.computed_at).getTime())));
  const next = new Date(computed.getTime() + refreshS * 1000);
  head.append(
    el(
      "p",
      { class: "refresh" },
      "Computed ",
      el("time", { datetime: computed.toISOString() }, formatDateTime(computed)),
      " ",
      el("span", { class: "relative", "data-at": computed.toISOString() }, `(${formatRelative(computed, now)})`),
      dueWords(next, now, " · next refresh due by ", " · the next refresh is late: it was due by "),
      el("time", { datetime: next.toISOString() }, formatDateTime(next)),
      " ",
      el("span", { class: "relative", "data-at": next.toISOString() }, `(${formatRelative(next, now)})`),
    ),
  );
  return head;
}

function notice(kind, title, text, retry) {
  return el(
    "div",
    { class: `notice ${kind}` },
    el("h3", {}, title),
    el("p", {}, text),
    retry && el("button", { type: "button", class: "retry" }, "Try again"),
  );
}

function render(panel, windowName, results) {
  const now = new Date();
  const loaded = results.filter((r) => r.board);
  const failed = results.filter((r) => r.error && r.error.code !== "not_computed");
  const waiting = results.filter((r) => r.error?.code === "not_computed");
  const parts = [panelHead(windowName, loaded, now)];
  let state = "ready";
  let summary = `${WINDOWS[windowName].title}: ${loaded.length} boards loaded.`;
  if (waiting.length === results.length) {
    state = "not_computed";
    summary = `${WINDOWS[windowName].title}: not computed yet.`;
    parts.push(
      notice(
        "waiting",
        "Not computed yet",
        `The service computes the leaderboards from its request log ${formatInterval(refreshS)}` +
          " and has not done so yet. Check back later.",
        false,
      ),
    );
  } else if (!loaded.length && !waiting.length) {
    state = "error";
    summary = `${WINDOWS[windowName].title}: could not load the leaderboards.`;
    parts.push(notice("failed", "Could not load the leaderboards", failed[0].error.message, true));
  } else {
    if (failed.length) {
      state = "partial";
      summary = `${WINDOWS[windowName].title}: ${failed.length} of ${results.length} boards could not be loaded.`;
      const title = `${failed.length} of ${results.length} boards could not be loaded`;
      parts.push(notice("failed", title, failed[0].error.message, true));
    }
    const byName = new Map(results.map((r) => [r.name, r]));
    parts.push(
      el(
        "div",
        { class: "kinds" },
        KINDS.map((spec) =>
          el(
            "section",
            { class: "kind", "aria-labelledby": `${windowName}-${spec.kind}-title` },
            el("h3", { id: `${windowName}-${spec.kind}-title` }, spec.title),
            el("p", { class: "about" }, spec.about),
            el(
              "div",
              { class: "pair" },
              METRICS.map((metric) => {
                const result = byName.get(`${spec.kind}_by_${metric.metric}`);
                return boardCard(spec, metric, windowName, result, now);
              }),
            ),
          ),
        ),
      ),
    );
  }
  panel.replaceChildren(...parts);
  panel.removeAttribute("aria-busy");
  panel.dataset.state = state;
  panel.querySelector(".retry")?.addEventListener("click", () => {
    loads.delete(windowName);
    show(windowName).then(() => panel.focus()); // the button is gone: keep the focus near
  });
  return summary;
}

async function show(windowName) {
  const panel = $(`panel-${windowName}`);
  if (!loads.has(windowName)) {
    panel.dataset.state = "loading";
    panel.setAttribute("aria-busy", "true");
    panel.replaceChildren(
      el("div", { class: "panel-head" }, el("h2", {}, WINDOWS[windowName].title)),
      el("p", { class: "loading" }, "Loading…"),
    );
    loads.set(windowName, fetchBoards(windowName));
  }
  const results = await loads.get(windowName);
  const summary = render(panel, windowName, results);
  if (selected === windowName) {
    document.body.dataset.state = panel.dataset.state;
    status.textContent = summary;
  }
}

// -- start ----------------------------------------------------------------------------------

function onSelect(tab) {
  selected = tab.dataset.window;
  history.replaceState(null, "", `#${selected}`);
  document.body.dataset.state = "loading";
  status.textContent = `Loading ${WINDOWS[selected].short}…`;
  show(selected).catch((error) => {
    console.error(error);
    status.textContent = `Could not show the leaderboards: ${error.message}`;
    document.body.dataset.state = "error";
  });
}

/** Keep "(in 59 minutes)", "(5 minutes ago)" and "due by"/"was due by" true while the
 * page stays open. */
function updateTimes() {
  const now = new Date();
  for (const node of document.querySelectorAll(".relative[data-at]")) {
    node.textContent = `(${formatRelative(new Date(node.dataset.at), now)})`;
  }
  for (const node of document.querySelectorAll(".due[data-due]")) {
    node.textContent = new Date(node.dataset.due) < now ? node.dataset.after : node.dataset.before;
  }
}

$("refresh-every").textContent = formatInterval(refreshS);
const select = setUpTabs($("windows"), onSelect);
/** The tab named in the address (#month, #year, #all), so a period can be linked to. */
function selectFromHash() {
  const wanted = location.hash.slice(1);
  const name = Object.hasOwn(WINDOWS, wanted) ? wanted : "month";
  if (name !== selected) select($(`tab-${name}`));
}
selectFromHash();
window.addEventListener("hashchange", selectFromHash);
setInterval(updateTimes, 30_000);
