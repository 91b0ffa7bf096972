// The WAV builder page: form → POST /waves → poll → download → player, file and preview.
import config from "./config.js";
import { ServiceError, WaveService } from "./api.js";
import { LIMITS, check, toSpec } from "./validate.js";
import { decodeFirstChannel, drawSpectrum, drawWaveform, peaks, readWavHeader, spectrum } from "./preview.js";

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
// ?download=chunks and ?validate=off override the deployment's config (for trying things out).
const settings = {
  apiBase: config.apiBase ?? "",
  maxDurationS: config.maxDurationS ?? 60,
  download: ["url", "chunks"].includes(query.get("download")) ? query.get("download") : config.download,
  validate: query.get("validate") === "off" ? false : config.validate !== false,
};
const service = new WaveService(settings.apiBase);

const form = $("tone-form");
const list = $("freq-list");
const addButton = $("add-freq");
const submitButton = $("submit");
const chunksBox = $("use-chunks");
const noiseColor = $("noise-color");
const status = $("status");
const progress = $("progress");
const output = $("output");
const player = $("player");
const downloadLink = $("download");

// Service field name (before any "." or "[") → id of the input that shows its messages.
const FIELD_IDS = {
  frequencies: "frequencies",
  volume: "volume",
  duration: "duration",
  fade_in: "duration", // the fades only limit how short a tone can be
  fade_out: "duration",
  sample_rate: "sample-rate",
  bits_per_sample: "bits",
  number_of_channels: "channels",
};

let busy = false;
let objectUrl = null;
let serverProblems = []; // the service's last 4xx detail, until the field is edited

// -- frequency rows -----------------------------------------------------------------

const rows = () => Array.from(list.children);
const noiseChosen = () => noiseColor.value !== "none";

// Each row's controls by class: a control gets the id `${name}-${row index}`, its label
// has the class `${name}-label`, and its messages go to `${id}-error` (the sweep
// checkbox has none).
const ROW_CONTROLS = ["freq", "wave", "sweep", "sweep-end", "sweep-law"];

function renumber() {
  const all = rows();
  all.forEach((row, i) => {
    for (const n of row.querySelectorAll(".n")) n.textContent = String(i + 1);
    for (const name of ROW_CONTROLS) {
      const control = row.querySelector(`.${name}`);
      control.id = `${name}-${i}`;
      row.querySelector(`.${name}-label`).htmlFor = control.id;
      const error = row.querySelector(`.${name}-error`);
      if (error) error.id = `${control.id}-error`;
      control.setAttribute("aria-describedby", error ? `${error.id} frequencies-help` : "frequencies-help");
    }
    const remove = row.querySelector(".remove");
    remove.setAttribute("aria-label", `Remove frequency ${i + 1}`);
    remove.disabled = all.length === 1 && !noiseChosen(); // noise alone needs no partial
  });
  addButton.disabled = all.length >= LIMITS.maxFrequencies;
}

function showSweep(row) {
  row.querySelector(".sweep-fields").hidden = !row.querySelector(".sweep").checked;
}

function addRow(value = "") {
  const row = $("freq-row").content.firstElementChild.cloneNode(true);
  row.querySelector(".freq").value = value;
  row.querySelector(".remove").addEventListener("click", () => removeRow(row));
  row.querySelector(".sweep").addEventListener("change", () => showSweep(row));
  list.append(row);
  renumber();
  return row.querySelector(".freq");
}

function removeRow(row) {
  const index = rows().indexOf(row);
  serverProblems = []; // their indices no longer match the rows
  row.remove();
  renumber();
  const next = rows()[Math.min(index, rows().length - 1)];
  (next ? next.querySelector(".freq") : addButton).focus();
  showProblems();
}

noiseColor.addEventListener("change", () => {
  $("noise-amplitude-field").hidden = !noiseChosen();
  renumber();
});

addButton.addEventListener("click", () => {
  addRow().focus();
  showProblems();
});

// -- validation messages ----------------------------------------------------------------

function readValues() {
  return {
    frequencies: rows().map((row) => ({
      freq: row.querySelector(".freq").value,
      waveform: row.querySelector(".wave").value,
      sweep: row.querySelector(".sweep").checked,
      sweep_end: row.querySelector(".sweep-end").value,
      sweep_law: row.querySelector(".sweep-law").value,
    })),
    noise_color: noiseColor.value,
    noise_amplitude: $("noise-amplitude").value,
    volume: $("volume").value,
    duration: $("duration").value,
    sample_rate: $("sample-rate").value,
    bits_per_sample: $("bits").value,
    number_of_channels: $("channels").value,
  };
}

// The part of a partial the service names → the prefix of the row control that shows it.
const PARTIAL_FIELDS = { waveform: "wave", freq_end: "sweep-end", sweep: "sweep-law" };

/** The element whose error line shows a problem with `field`, or null (form-level).
 * A sweep end that is not a frequency at all is named by its row ("frequencies[0]"),
 * with a message that starts "freq_end:". */
function elementFor(field, message = "") {
  const row = /^frequencies\[(\d+)\](?:\.(\w+))?/.exec(field);
  if (row) {
    const part = row[2] ?? (message.startsWith("freq_end:") ? "freq_end" : "freq");
    return $(`${PARTIAL_FIELDS[part] ?? "freq"}-${row[1]}`) ?? $(`freq-${row[1]}`) ?? $("frequencies");
  }
  if (field === "noise.amplitude") return $("noise-amplitude");
  if (field.startsWith("noise")) return noiseColor;
  const id = FIELD_IDS[field.split(/[.[]/)[0]];
  return id ? $(id) : null;
}

const isTouched = (el) => form.dataset.submitted === "yes" || el.dataset.touched === "yes";

/** Show client problems for touched fields plus the service's, each next to its field. */
function showProblems() {
  const client = settings.validate ? check(readValues(), settings) : [];
  for (const el of form.querySelectorAll(".error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const touched = client.filter((p) => {
    const el = elementFor(p.field, p.message);
    return !el || isTouched(el);
  });
  const shown = [];
  for (const { field, message } of [...touched, ...serverProblems]) {
    const el = elementFor(field, message);
    const line = el ? $(`${el.id}-error`) : $("form-error");
    const text = el ? message : `${field}: ${message}`;
    if (line.textContent.includes(text)) continue;
    line.textContent = line.textContent ? `${line.textContent} ${text}` : text;
    if (el && el.tagName !== "FIELDSET") el.setAttribute("aria-invalid", "true");
    shown.push(el);
  }
  return shown;
}

function focusFirstProblem(shown) {
  const first = shown.find((el) => el && el.tagName !== "FIELDSET") ?? shown.find(Boolean);
  (first?.tagName === "FIELDSET" ? addButton : first)?.focus();
}

form.addEventListener("input", (event) => {
  const el = event.target;
  serverProblems = serverProblems.filter((p) => elementFor(p.field, p.message) !== el);
  showProblems();
});
// A field's messages appear once the user leaves it, except when focus goes to a button:
// then a click is under way, and moving the layout now would make it miss its target.
form.addEventListener("focusout", (event) => {
  if (!event.target.matches("input, select")) return;
  event.target.dataset.touched = "yes";
  if (event.relatedTarget?.tagName !== "BUTTON") showProblems();
});
form.addEventListener("change", (event) => {
  if (!event.target.matches("select, [type=checkbox]")) return;
  event.target.dataset.touched = "yes";
  showProblems();
});

// -- the request ------------------------------------------------------------------------

function setState(state, message) {
  document.body.dataset.state = state;
  status.textContent = message;
  status.classList.toggle("failed", state === "error");
}

const megabytes = (n) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`;

function showProgress(received, total) {
  progress.hidden = false;
  if (total) {
    progress.max = total;
    progress.value = received;
  }
  status.textContent = `Downloading… ${megabytes(received)}${total ? ` of ${megabytes(total)}` : ""}`;
}

function clearOutput() {
  output.hidden = true;
  progress.hidden = true;
  progress.removeAttribute("value");
  player.removeAttribute("src");
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = null;
  for (const id of ["file-info", "peaks"]) $(id).textContent = "";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (busy) return;
  form.dataset.submitted = "yes";
  serverProblems = [];
  const values = readValues();
  const problems = showProblems();
  if (settings.validate && problems.length) {
    setState("invalid", `Please correct the ${problems.length === 1 ? "field" : "fields"} marked below; nothing was sent.`);
    focusFirstProblem(problems);
    return;
  }
  busy = true;
  submitButton.setAttribute("aria-disabled", "true");
  try {
    await makeWave(toSpec(values));
  } catch (error) {
    if (!(error instanceof ServiceError)) console.error(error);
    serverProblems = error.problems ?? [];
    const shown = showProblems();
    progress.hidden = true;
    if (serverProblems.length) {
      setState("error", `The service rejected the tone (${error.status}): see the messages next to the fields.`);
      focusFirstProblem(shown);
    } else {
      setState("error", error.message);
    }
  } finally {
    busy = false;
    submitButton.removeAttribute("aria-disabled");
  }
});

async function makeWave(spec) {
  clearOutput();
  setState("sending", "Sending the request…");
  const job = await service.submit(spec);
  setState("in_progress", "The service is synthesising the tone…");
  progress.hidden = false;
  const final = await service.waitReady(job.request_id);
  if (final.status !== "ready") {
    const why = final.error ? `: ${final.error}` : "";
    throw new ServiceError(`The tone is ${final.status}${why}.`, { code: final.status });
  }
  const mode = chunksBox.checked ? "chunks" : "url";
  setState("downloading", `Downloading ${megabytes(final.bytes ?? 0)}…`);
  const get = mode === "chunks" ? service.downloadByChunks : service.downloadByUrl;
  const { blob, verified } = await get.call(service, job.request_id, showProgress);
  progress.max = blob.size;
  progress.value = blob.size;
  await showResult(blob, job.file_id);
  const check = mode === "chunks" ? (verified ? " Every chunk's SHA-256 matched." : " (Chunk checksums not verified: this page is not in a secure context.)") : "";
  setState("ready", `Ready: ${megabytes(blob.size)} WAV, downloaded ${mode === "chunks" ? "in chunks" : "from the file link"}.${check}`);
}

async function showResult(blob, fileId) {
  objectUrl = URL.createObjectURL(blob);
  player.src = objectUrl;
  downloadLink.href = objectUrl;
  downloadLink.download = `wavekit-${fileId.slice(0, 12)}.wav`;
  output.hidden = false;
  const buffer = await blob.arrayBuffer();
  const info = readWavHeader(buffer);
  const depth = info.kind === "float" ? `${info.bits}-bit float` : `${info.bits}-bit`;
  $("file-info").textContent =
    `${info.sampleRate} Hz · ${depth} · ${info.channels} channel${info.channels === 1 ? "" : "s"} · ` +
    `${info.seconds.toFixed(3)} s · ${info.bytes.toLocaleString("en")} bytes`;
  try {
    const samples = await decodeFirstChannel(buffer, info.sampleRate);
    drawWaveform($("waveform"), samples, info.sampleRate);
    const { db, binHz } = spectrum(samples, info.sampleRate);
    drawSpectrum($("spectrum"), db, binHz);
    const found = peaks(db, binHz);
    $("peaks").textContent = `Strongest partials: ${found.map((p) => `${p.hz.toFixed(1)} Hz`).join(", ")}`;
  } catch (error) {
    $("peaks").textContent = `No preview: this browser could not decode the file (${error.message}).`;
  }
}

// -- start ---------------------------------------------------------------------------------

$("max-duration").textContent = String(settings.maxDurationS);
$("duration").max = String(settings.maxDurationS);
chunksBox.checked = settings.download === "chunks";
for (const hz of ["440", "660"]) addRow(hz);
form.dataset.validate = settings.validate ? "on" : "off";
setState("idle", "Fill in the form and press Make WAV.");
