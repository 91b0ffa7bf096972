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

/** The JSON body the form describes: numbers where the text is a number, else the text. */
export function toSpec(values) {
  const numberOrText = (text) => (isNumber(text) ? Number(text) : text.trim());
  return {
    frequencies: values.frequencies.map(numberOrText),
    volume: numberOrText(values.volume),
    duration: numberOrText(values.duration),
    sample_rate: numberOrText(values.sample_rate),
    bits_per_sample: numberOrText(values.bits_per_sample),
    number_of_channels: numberOrText(values.number_of_channels),
  };
}

/** Problems [{field, message}] with the form's values (all strings); [] when it looks valid. */
export function check(values, { maxDurationS }) {
  const problems = [];
  const problem = (field, message) => problems.push({ field, message });

  const rateText = values.sample_rate.trim();
  const rate = Number(rateText);
  if (rateText === "") problem("sample_rate", "enter a sample rate in Hz");
  else if (!isNumber(rateText) || !Number.isInteger(rate)) problem("sample_rate", "must be a whole number of Hz");
  else if (rate < LIMITS.minSampleRate || rate > LIMITS.maxSampleRate)
    problem("sample_rate", `must be between ${LIMITS.minSampleRate} and ${LIMITS.maxSampleRate} Hz (got ${rateText})`);
  const nyquist = problems.length ? null : rate / 2;

  const freqs = values.frequencies;
  if (freqs.length < 1) problem("frequencies", "add at least one frequency");
  if (freqs.length > LIMITS.maxFrequencies) problem("frequencies", `at most ${LIMITS.maxFrequencies} frequencies`);
  freqs.forEach((text, i) => {
    if (text.trim() === "") return problem(`frequencies[${i}]`, "enter a frequency");
    const hz = parseFrequency(text);
    if (hz === null || !Number.isFinite(hz))
      return problem(`frequencies[${i}]`, `'${text.trim()}' is not a frequency: use Hz (440, 1.5kHz), a note name (A4, C#5+15c) or midi:69`);
    if (hz <= 0) return problem(`frequencies[${i}].freq`, "must be greater than 0 Hz");
    if (nyquist !== null && hz >= nyquist)
      problem(`frequencies[${i}].freq`, `${fmt(hz)} Hz must be below the Nyquist frequency ${fmt(nyquist)} Hz (sample_rate/2)`);
  });

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
