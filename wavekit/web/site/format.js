// Numbers, sizes, notes and times for people. Pure functions (no DOM), one definition of
// each format. The pages are in English, so numbers and dates follow the reader's locale
// only when it is an English one (en-GB readers get "21 May 2025"), else plain "en";
// a number and its unit are kept on one line (no-break space).

const NOTES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const LOCALE = /^en\b/i.test(globalThis.navigator?.language ?? "") ? navigator.language : "en";
const NBSP = "\u00a0";

const number = (value, maxDigits = 2, minDigits = 0) =>
  new Intl.NumberFormat(LOCALE, {
    minimumFractionDigits: minDigits,
    maximumFractionDigits: maxDigits,
  }).format(value);

/** "A4", "C#5", "B5+21c": the nearest equal-tempered note (A4 = 440 Hz), with the offset
 * in cents when it is at least 1 (written as the form accepts it); "" if not a pitch. */
export function noteName(hz) {
  if (!Number.isFinite(hz) || hz <= 0) return "";
  const midi = 69 + 12 * Math.log2(hz / 440);
  const nearest = Math.round(midi);
  const cents = Math.round((midi - nearest) * 100);
  const name = `${NOTES[((nearest % 12) + 12) % 12]}${Math.floor(nearest / 12) - 1}`;
  return cents === 0 ? name : `${name}${cents > 0 ? "+" : "-"}${Math.abs(cents)}c`;
}

/** "440 Hz", "1,500 Hz", "523.25 Hz". */
export const formatHz = (hz) => `${number(hz)}${NBSP}Hz`;

/** "440 Hz (A4)". */
export function frequencyLabel(hz) {
  const note = noteName(hz);
  return note ? `${formatHz(hz)} (${note})` : formatHz(hz);
}

/** Note names of a chord or a spec's partials, lowest first: "C5 · E5 · G5". */
export const chordNotes = (frequencies) =>
  [...frequencies].sort((a, b) => a - b).map((hz) => noteName(hz) || formatHz(hz)).join(`${NBSP}· `);

/** Their frequencies: "523.25 · 659.26 · 784 Hz". */
export const chordHz = (frequencies) =>
  `${[...frequencies].sort((a, b) => a - b).map((hz) => number(hz)).join(`${NBSP}· `)}${NBSP}Hz`;

/** A whole count with thousands separators: "12,345". */
export const formatCount = (n) => number(n, 0);

/** Bytes as decimal megabytes with thousands separators: "0.09 MB", "1,234.5 MB", "0 MB". */
export function formatMB(bytes) {
  const mb = bytes / 1e6;
  if (mb === 0) return `0${NBSP}MB`;
  if (mb < 0.005) return `<${NBSP}0.01${NBSP}MB`;
  const digits = mb < 10 ? 2 : 1;
  return `${number(mb, digits, digits)}${NBSP}MB`;
}

/** "44.1 kHz", "8 kHz", "192 kHz". */
export const formatSampleRate = (hz) => `${number(hz / 1000, 3)}${NBSP}kHz`;

/** "mono", "stereo", "3 channels". */
export const formatChannels = (n) => (n === 1 ? "mono" : n === 2 ? "stereo" : `${n} channels`);

/** A tone spec's format in one line: "1.5 s · 44.1 kHz · 16-bit · stereo · volume 0.5". */
export function formatSpec({ duration_s, sample_rate, bits_per_sample, channels, volume }) {
  return [
    `${number(duration_s, 3)}${NBSP}s`,
    formatSampleRate(sample_rate),
    `${bits_per_sample}-bit`,
    formatChannels(channels),
    `volume${NBSP}${number(volume, 3)}`,
  ].join(`${NBSP}· `); // a line may break after a "·", never before one
}

/** How a rank moved since the previous period (rank_change: positive = up, null = new). */
export function rankChange(change) {
  const places = (n) => `${n} ${n === 1 ? "place" : "places"}`;
  if (change === null || change === undefined) return { kind: "new", text: "new", spoken: "new on the board" };
  if (change > 0) return { kind: "up", text: `▲ ${change}`, spoken: `up ${places(change)}` };
  if (change < 0) return { kind: "down", text: `▼ ${-change}`, spoken: `down ${places(-change)}` };
  return { kind: "same", text: "–", spoken: "no change" };
}

/** "every hour", "every 15 minutes", "every 2 hours", "every day". */
export function formatInterval(seconds) {
  const units = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && Number.isInteger(seconds / size)) {
      const n = seconds / size;
      return n === 1 ? `every ${unit}` : `every ${formatCount(n)} ${unit}s`;
    }
  }
  return `every ${number(seconds, 1)} seconds`;
}

const DATE_TIME = {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
  timeZoneName: "short",
};

/** "May 21, 2025, 2:03 PM UTC" (in the reader's time zone). */
export const formatDateTime = (date) => new Intl.DateTimeFormat(LOCALE, DATE_TIME).format(date);

/** "Apr 21 – May 21, 2025". */
export const formatDateRange = (start, end) =>
  new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium" }).formatRange(start, end);

/** "in 59 minutes", "3 hours ago", "just now", "any moment now". */
export function formatRelative(date, now = new Date()) {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  const words = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds > 0 ? "any moment now" : "just now";
  if (abs < 90 * 60) return words.format(Math.round(seconds / 60), "minute");
  if (abs < 36 * 3600) return words.format(Math.round(seconds / 3600), "hour");
  return words.format(Math.round(seconds / 86400), "day");
}

const sameDay = (a, b) => a.toDateString() === b.toDateString();

/** "2:03 PM" today, else "May 20, 2:03 PM": a board's time, next to the full date above. */
export function formatWhen(date, now = new Date()) {
  const time = { hour: "numeric", minute: "2-digit" };
  const options = sameDay(date, now) ? time : { month: "short", day: "numeric", ...time };
  return new Intl.DateTimeFormat(LOCALE, options).format(date);
}
