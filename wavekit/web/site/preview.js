// What the browser can tell about the WAV it received: the header's format, and a
// waveform and spectrum drawn from the samples (Web Audio decodes, we do the FFT).

const WAVE_FORMATS = { 1: "PCM", 3: "float" };

/** Format from the RIFF header: {sampleRate, channels, bits, float, frames, seconds, bytes}. */
export function readWavHeader(buffer) {
  const view = new DataView(buffer);
  const tag = (at) => String.fromCharCode(...new Uint8Array(buffer, at, 4));
  if (buffer.byteLength < 12 || !["RIFF", "RF64"].includes(tag(0)) || tag(8) !== "WAVE")
    throw new Error("not a WAV file");
  let format = null;
  for (let at = 12; at + 8 <= buffer.byteLength; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === "fmt ") {
      let code = view.getUint16(at + 8, true);
      if (code === 0xfffe) code = view.getUint16(at + 32, true); // WAVE_FORMAT_EXTENSIBLE
      format = {
        kind: WAVE_FORMATS[code] ?? `format ${code}`,
        channels: view.getUint16(at + 10, true),
        sampleRate: view.getUint32(at + 12, true),
        bits: view.getUint16(at + 22, true),
      };
    } else if (id === "data" && format) {
      const dataBytes = size === 0xffffffff ? buffer.byteLength - at - 8 : size;
      const frames = Math.floor(dataBytes / (format.channels * (format.bits / 8)));
      return { ...format, frames, seconds: frames / format.sampleRate, bytes: buffer.byteLength };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error("WAV header without fmt/data chunks");
}

/** In-place radix-2 FFT of (re, im), length a power of two. */
function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/** Magnitude spectrum (dB) of up to 2^16 samples from the middle, Blackman-Harris window
 * (sidelobes below -92 dB, so only real partials stand out). */
export function spectrum(samples, sampleRate) {
  let n = 1;
  while (n * 2 <= Math.min(samples.length, 1 << 16)) n *= 2;
  const start = Math.floor((samples.length - n) / 2);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const w = 0.35875 - 0.48829 * Math.cos(t) + 0.14128 * Math.cos(2 * t) - 0.01168 * Math.cos(3 * t);
    re[i] = samples[start + i] * w;
  }
  fft(re, im);
  const db = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) db[i] = 10 * Math.log10(re[i] ** 2 + im[i] ** 2 + 1e-30);
  return { db, binHz: sampleRate / n };
}

/** Strongest local maxima within 50 dB of the top, refined by parabolic interpolation; Hz ascending. */
export function peaks(db, binHz, count = 8) {
  const top = db.reduce((a, b) => Math.max(a, b), -Infinity);
  const found = [];
  for (let i = 1; i < db.length - 1; i++) {
    if (db[i] > db[i - 1] && db[i] >= db[i + 1] && db[i] > top - 50) {
      const denom = db[i - 1] - 2 * db[i] + db[i + 1];
      const shift = denom ? (0.5 * (db[i - 1] - db[i + 1])) / denom : 0;
      found.push({ hz: (i + shift) * binHz, db: db[i] });
    }
  }
  return found
    .sort((a, b) => b.db - a.db)
    .slice(0, count)
    .sort((a, b) => a.hz - b.hz);
}

function colours(canvas) {
  const style = getComputedStyle(canvas);
  return { line: style.color, grid: style.borderColor };
}

export function drawWaveform(canvas, samples, sampleRate) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const n = Math.min(samples.length, Math.round(sampleRate * 0.02));
  const { line, grid } = colours(canvas);
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = grid;
  ctx.beginPath();
  ctx.moveTo(0, height / 2);
  ctx.lineTo(width, height / 2);
  ctx.stroke();
  ctx.strokeStyle = line;
  ctx.beginPath();
  for (let x = 0; x < width; x++) {
    const i = Math.floor((x / width) * n);
    const y = height / 2 - samples[i] * (height / 2 - 4);
    if (x === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.stroke();
}

/** Spectrum on a log-frequency axis (20 Hz to Nyquist), 100 dB deep, with decade ticks. */
export function drawSpectrum(canvas, db, binHz) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const top = db.reduce((a, b) => Math.max(a, b), -Infinity);
  const floor = top - 100;
  const low = 20;
  const high = db.length * binHz;
  const hzAt = (x) => low * (high / low) ** (x / width);
  const { line, grid } = colours(canvas);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";
  for (const tick of [100, 1000, 10000, 100000]) {
    if (tick >= high) break;
    const x = (Math.log(tick / low) / Math.log(high / low)) * width;
    ctx.fillStyle = grid;
    ctx.fillRect(Math.round(x), 0, 1, height);
    const label = tick >= 1000 ? `${tick / 1000} kHz` : `${tick} Hz`;
    ctx.fillStyle = "#4a5365";
    if (x + 3 + ctx.measureText(label).width < width) ctx.fillText(label, x + 3, 12);
  }
  ctx.fillStyle = line;
  ctx.beginPath();
  ctx.moveTo(0, height);
  for (let x = 0; x < width; x++) {
    const from = Math.min(db.length - 1, Math.floor(hzAt(x) / binHz));
    const to = Math.max(from + 1, Math.floor(hzAt(x + 1) / binHz));
    let level = -Infinity;
    for (let i = from; i < Math.min(to, db.length); i++) level = Math.max(level, db[i]);
    ctx.lineTo(x, height - Math.max(0, ((level - floor) / (top - floor)) * (height - 16)));
  }
  ctx.lineTo(width, height);
  ctx.closePath();
  ctx.fill();
}

/** Decode channel 0 at the file's own rate (no resampling) with Web Audio. */
export async function decodeFirstChannel(buffer, sampleRate) {
  const context = new OfflineAudioContext(1, 1, sampleRate);
  const audio = await context.decodeAudioData(buffer);
  return audio.getChannelData(0);
}
