// Client-side checks mirroring wavekit.audio.spec.ToneSpec and the service limits.
// The service stays the authority: these only stop obviously invalid requests early,
// and they name fields exactly as the service does ("frequencies[1].freq"), so one
// piece of code shows both kinds of message next to the right input.

export const LIMITS = Object.freeze({
  maxFrequencies: 32,
  minSampleRate: 8000,
  maxSampleRate: 192000,
  maxChannels: 8,
  bitDepths: ["8", "16", "24", "32", "float32"],
  fadeS: 0.005, // default fade-in and fade-out, each
  waveforms: ["sine", "square", "triangle", "sawtooth"],
  sweepLaws: ["log", "linear"],
  noiseColors: ["white", "pink", "brown"],
  maxHarmonics: 32768, // a band-limited wave needs freq >= nyquist / maxHarmonics
});

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const NOTE = /^\s*([A-Ga-g])(#|♯|b|♭)?(-?\d+)(?:\s*([+-]\d+(?:\.\d+)?)\s*c(?:ents?)?)?\s*$/u;
const MIDI = /^\s*midi\s*[: ]\s*(\d+(?:\.\d+)?)\s*$/i;
const HZ = /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(k?hz)?\s*$/i;
const DB = /^\s*([+-]?\d+(?:\.\d+)?)\s*db(?:fs)?\s*$/i;
const SEMITONES = { c: 0, d: 2, e: 4, f: 5, g: 7, a: 9, b: 11 };
const ACCIDENTALS = { "#": 1, "♯": 1, b: -1, "♭": -1 };

const midiToHz = (n) => 440 * 2 ** ((n - 69) / 12);
const isNumber = (text) => NUMBER.test(text);
const fmt = (x) => String(Number(x.toPrecision(6)));

/** Hz for "440", "1.5kHz", "A4", "C#5+15c", "midi:69" (like wavekit.audio.spec.parse_frequency), or null. */
export function parseFrequency(text) {
  let m;
  if ((m = NOTE.exec(text))) {
    const semitone = SEMITONES[m[1].toLowerCase()] + (ACCIDENTALS[m[2]] ?? 0);
    const midi = 12 * (Number(m[3]) + 1) + semitone;
    return midiToHz(midi + Number(m[4] ?? 0) / 100);
  }
  if ((m = MIDI.exec(text))) return midiToHz(Number(m[1]));
  if ((m = HZ.exec(text))) return Number(m[1]) * ((m[2] ?? "").toLowerCase() === "khz" ? 1000 : 1);
  if (isNumber(text)) return Number(text); // negative numbers: caught by the > 0 check
  return null;
}

const numberOrText = (text) => (isNumber(text) ? Number(text) : text.trim());

// A frequency row: the text alone (a steady sine), or {freq, waveform, sweep, sweep_end, sweep_law}.
const rowOf = (row) => (typeof row === "string" ? { freq: row } : row);
const noiseOf = (values) => values.noise_color ?? "none";

/** One partial of the JSON body: the bare frequency for a steady sine, else an object. */
function partialOf(raw) {
  const row = rowOf(raw);
  const freq = numberOrText(row.freq ?? "");
  const waveform = row.waveform ?? "sine";
  if (waveform === "sine" && !row.sweep) return freq;
  const partial = { freq };
  if (waveform !== "sine") partial.waveform = waveform;
  if (row.sweep) {
    partial.freq_end = numberOrText(row.sweep_end ?? "");
    partial.sweep = row.sweep_law ?? "log";
  }
  return partial;
}

/** The JSON body the form describes: numbers where the text is a number, else the text. */
export function toSpec(values) {
  const spec = {
    frequencies: values.frequencies.map(partialOf),
    volume: numberOrText(values.volume),
    duration: numberOrText(values.duration),
    sample_rate: numberOrText(values.sample_rate),
    bits_per_sample: numberOrText(values.bits_per_sample),
    number_of_channels: numberOrText(values.number_of_channels),
  };
  if (noiseOf(values) !== "none")
    spec.noise = { color: noiseOf(values), amplitude: numberOrText(values.noise_amplitude ?? "") };
  return spec;
}

const NOT_A_FREQUENCY = "is not a frequency: use Hz (440, 1.5kHz), a note name (A4, C#5+15c) or midi:69";

/** Problems of one frequency row, named as the service names them. The service checks in
 * stages: texts first (a bad one is the row's only problem), then each number's own
 * range, and only then limits between fields (Nyquist, a sweep's two ends, its wave). */
function rowProblems(raw, i, nyquist, problem) {
  const row = rowOf(raw);
  const where = `frequencies[${i}]`;
  const text = (row.freq ?? "").trim();
  const waveform = row.waveform ?? "sine";
  if (text === "") return problem(where, "enter a frequency");
  const hz = parseFrequency(text);
  if (hz === null || !Number.isFinite(hz)) return problem(where, `'${text}' ${NOT_A_FREQUENCY}`);
  let end = null;
  if (row.sweep) {
    const endText = (row.sweep_end ?? "").trim();
    if (endText === "") return problem(where, "freq_end: enter the frequency the sweep ends at");
    end = parseFrequency(endText);
    if (end === null || !Number.isFinite(end)) return problem(where, `freq_end: '${endText}' ${NOT_A_FREQUENCY}`);
  }
  if (!LIMITS.waveforms.includes(waveform)) return problem(`${where}.waveform`, `must be one of ${LIMITS.waveforms.join(", ")}`);
  if (row.sweep && !LIMITS.sweepLaws.includes(row.sweep_law ?? "log")) return problem(`${where}.sweep`, "must be log or linear");
  const nonPositive = hz <= 0 || (end !== null && end <= 0);
  if (hz <= 0) problem(`${where}.freq`, "must be greater than 0 Hz");
  if (end !== null && end <= 0) problem(`${where}.freq_end`, "must be greater than 0 Hz");
  if (nonPositive || nyquist === null) return;
  const aboveNyquist = (value) => `${fmt(value)} Hz must be below the Nyquist frequency ${fmt(nyquist)} Hz (sample_rate/2)`;
  if (hz >= nyquist) problem(`${where}.freq`, aboveNyquist(hz));
  if (end !== null && end >= nyquist) problem(`${where}.freq_end`, aboveNyquist(end));
  const lowest = nyquist / LIMITS.maxHarmonics;
  if (waveform !== "sine" && hz < lowest)
    problem(`${where}.freq`, `a band-limited ${waveform} needs at least ${fmt(lowest)} Hz at this sample rate (at most ${LIMITS.maxHarmonics} harmonics below Nyquist)`);
  if (end !== null && end === hz) problem(`${where}.freq_end`, `must differ from freq (${fmt(hz)} Hz): a sweep needs two frequencies`);
  if (end !== null && waveform !== "sine")
    problem(`${where}.waveform`, `must be 'sine' for a sweep (got '${waveform}'): sweeps are band-limited sines`);
}

/** Problems [{field, message}] with the form's values (all strings); [] when it looks valid. */
export function check(values, { maxDurationS }) {
  const problems = [];
  const problem = (field, message) => {
    problems.push({ field, message });
  };

  const rateText = values.sample_rate.trim();
  const rate = Number(rateText);
  if (rateText === "") problem("sample_rate", "enter a sample rate in Hz");
  else if (!isNumber(rateText) || !Number.isInteger(rate)) problem("sample_rate", "must be a whole number of Hz");
  else if (rate < LIMITS.minSampleRate || rate > LIMITS.maxSampleRate)
    problem("sample_rate", `must be between ${LIMITS.minSampleRate} and ${LIMITS.maxSampleRate} Hz (got ${rateText})`);
  const nyquist = problems.length ? null : rate / 2;

  const freqs = values.frequencies;
  const noise = noiseOf(values);
  if (freqs.length < 1 && noise === "none") problem("frequencies", "add at least one frequency, or choose a noise");
  if (freqs.length > LIMITS.maxFrequencies) problem("frequencies", `at most ${LIMITS.maxFrequencies} frequencies`);
  freqs.forEach((row, i) => rowProblems(row, i, nyquist, problem));

  if (noise !== "none") {
    const amplitude = (values.noise_amplitude ?? "").trim();
    if (!LIMITS.noiseColors.includes(noise)) problem("noise.color", "must be white, pink or brown");
    if (amplitude === "") problem("noise.amplitude", "enter a noise amplitude from 0 to 1");
    else if (!isNumber(amplitude)) problem("noise.amplitude", `must be a number from 0 to 1 (got ${amplitude})`);
    else if (Number(amplitude) < 0 || Number(amplitude) > 1)
      problem("noise.amplitude", `must be between 0 and 1 (got ${amplitude})`);
  }

  const volume = values.volume.trim();
  let m;
  if (volume === "") problem("volume", "enter a volume: 0 to 1, or dBFS such as -20dB");
  else if (isNumber(volume)) {
    if (Number(volume) < 0 || Number(volume) > 1) problem("volume", `must be between 0 and 1 (got ${volume})`);
  } else if ((m = DB.exec(volume))) {
    if (Number(m[1]) > 0) problem("volume", `${fmt(Number(m[1]))} dBFS is above the limit of 0 dBFS`);
  } else problem("volume", `'${volume}' is not a volume: use a number in 0..1 or dBFS like '-20dB'`);

  const durationText = values.duration.trim();
  const duration = Number(durationText);
  const shortest = 2 * LIMITS.fadeS;
  if (durationText === "") problem("duration", "enter a duration in seconds");
  else if (!isNumber(durationText)) problem("duration", "must be a number of seconds");
  else if (duration <= 0) problem("duration", "must be greater than 0 s");
  else if (duration > maxDurationS) problem("duration", `must be at most ${fmt(maxDurationS)} s in the service (got ${durationText})`);
  else if (duration < shortest)
    problem("duration", `must be at least ${fmt(shortest)} s (the ${LIMITS.fadeS * 1000} ms fade-in plus fade-out)`);

  if (!LIMITS.bitDepths.includes(values.bits_per_sample)) problem("bits_per_sample", "must be 8, 16, 24, 32 or float32");

  const channelsText = values.number_of_channels.trim();
  const channels = Number(channelsText);
  if (channelsText === "") problem("number_of_channels", "enter a number of channels");
  else if (!isNumber(channelsText) || !Number.isInteger(channels)) problem("number_of_channels", "must be a whole number");
  else if (channels < 1 || channels > LIMITS.maxChannels)
    problem("number_of_channels", `must be between 1 and ${LIMITS.maxChannels} (got ${channelsText})`);

  return problems;
}
