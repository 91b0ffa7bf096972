// The WAV service contract (docs/design.md §4) from the browser: submit, poll, download by
// the redirect URL or by base64 chunks, read the leaderboards. Errors come back as
// ServiceError with the service's field problems, or with a clear reason when the browser
// could not read the answer at all (service down, or this origin missing from the CORS
// allowlist).

const POLL_FIRST_MS = 150;
const POLL_MAX_MS = 1000;
const GIVE_UP_MS = 5 * 60 * 1000;
const RETRIES = 3;

export class ServiceError extends Error {
  constructor(message, { status = 0, code = "error", problems = [], retryAfterS = null } = {}) {
    super(message);
    this.name = "ServiceError";
    this.status = status;
    this.code = code;
    this.problems = problems; // [{field, message}] as the service names them
    this.retryAfterS = retryAfterS;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfterS(response) {
  const value = Number(response.headers.get("Retry-After"));
  return Number.isFinite(value) && value > 0 ? value : null;
}

async function errorFrom(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's error page): fall back to the status line
  }
  const message = body.message || `${response.status} ${response.statusText}`.trim();
  return new ServiceError(message, {
    status: response.status,
    code: body.error || `http_${response.status}`,
    problems: Array.isArray(body.detail) ? body.detail : [],
    retryAfterS: retryAfterS(response),
  });
}

export function base64ToBytes(text) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class WaveService {
  /** apiBase: "" for this page's origin, else e.g. "https://api.example.com/prod". */
  constructor(apiBase) {
    this.base = apiBase.replace(/\/+$/, "");
    this.origin = new URL(this.base || "/", location.href).origin;
  }

  url(path) {
    return `${this.base}${path}`;
  }

  /** fetch() that turns "the browser could not read the answer" into a clear error. */
  async fetch(path, init = {}) {
    try {
      return await fetch(this.url(path), { cache: "no-store", ...init });
    } catch (error) {
      throw await this.diagnose(error);
    }
  }

  /** Tell "service down" from "answer blocked by CORS" with an opaque no-cors probe. */
  async diagnose(error) {
    const where = this.origin === location.origin ? "this site" : this.origin;
    try {
      await fetch(this.url("/health"), { mode: "no-cors", cache: "no-store" });
    } catch {
      return new ServiceError(`Cannot reach the WAV service at ${where}: is it running? (${error.message})`, {
        code: "unreachable",
      });
    }
    return new ServiceError(
      `The WAV service at ${where} is up, but the browser blocked its answer (CORS): ` +
        `this page's origin ${location.origin} is not on the service's allowlist ` +
        `(WAVEKIT_CORS_ORIGINS).`,
      { code: "cors_blocked" },
    );
  }

  async json(path, init) {
    for (let attempt = 0; ; attempt++) {
      const response = await this.fetch(path, init);
      if (response.ok) return { body: await response.json(), response };
      const error = await errorFrom(response);
      const transient = response.status === 503;
      if (!transient || attempt >= RETRIES) throw error;
      await sleep(1000 * (error.retryAfterS ?? 1));
    }
  }

  /** POST /waves → {request_id, file_id, status, links}. */
  async submit(spec) {
    const headers = { "Content-Type": "application/json" };
    // The same key on a retry returns the same job instead of a second one.
    if (globalThis.crypto?.randomUUID) headers["Idempotency-Key"] = crypto.randomUUID();
    const { body } = await this.json("/waves", {
      method: "POST",
      headers,
      body: JSON.stringify(spec),
    });
    return body;
  }

  /** GET /leaderboards/{board}?window=… → the cached board; a ServiceError with code
   * "not_computed" (404) before the first refresh. */
  async leaderboard(board, window) {
    const query = new URLSearchParams({ window });
    const { body } = await this.json(`/leaderboards/${encodeURIComponent(board)}?${query}`);
    return body;
  }

  /** Poll GET /waves/{id} until it is no longer in progress; the final job body. */
  async waitReady(requestId) {
    const started = performance.now();
    let delay = POLL_FIRST_MS;
    for (;;) {
      const { body, response } = await this.json(`/waves/${encodeURIComponent(requestId)}`);
      if (body.status !== "in_progress") return body;
      if (performance.now() - started > GIVE_UP_MS)
        throw new ServiceError("The service has not finished this tone after 5 minutes.", { code: "timeout" });
      await sleep(Math.min(delay, 1000 * (retryAfterS(response) ?? 1)));
      delay = Math.min(delay * 1.5, POLL_MAX_MS);
    }
  }

  /** Follow the 303 to the file link and stream it; onProgress(received, total). */
  async downloadByUrl(requestId, onProgress) {
    let response;
    try {
      response = await fetch(this.url(`/waves/${encodeURIComponent(requestId)}/download`), { cache: "no-store" });
    } catch (error) {
      const why = await this.diagnose(error);
      if (why.code === "unreachable") throw why;
      // The API answered everything so far, so it is the file link's host that said no.
      throw new ServiceError(
        "The browser could not read the file link the service redirected to (its host does " +
          "not allow this page, by CORS or this page's Content-Security-Policy, or the link " +
          "expired). The service counts the file as downloaded: tick “Download in base64 " +
          "chunks” and press Make WAV again.",
        { code: "file_link_blocked" },
      );
    }
    if (!response.ok) throw await errorFrom(response);
    const total = Number(response.headers.get("Content-Length")) || 0;
    const reader = response.body.getReader();
    const parts = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.length;
      onProgress(received, total);
    }
    if (total && received !== total)
      throw new ServiceError(`The download stopped after ${received} of ${total} bytes.`, { code: "truncated" });
    return { blob: new Blob(parts, { type: "audio/wav" }), verified: false };
  }

  /** GET /chunks/0, 1, … until is_last; check each chunk's SHA-256; onProgress(received, total).
   * The first chunk claims the download (download-once); its download_token fetches the rest. */
  async downloadByChunks(requestId, onProgress) {
    const canHash = Boolean(globalThis.crypto?.subtle); // only in secure contexts
    const parts = [];
    let received = 0;
    let total = 0;
    let token = null;
    for (let offset = 0; ; ) {
      const query = token ? `?${new URLSearchParams({ download_token: token })}` : "";
      const { body } = await this.json(`/waves/${encodeURIComponent(requestId)}/chunks/${offset}${query}`);
      if (body.status === "in_progress") {
        await sleep(POLL_MAX_MS);
        continue;
      }
      token = body.download_token || token;
      const bytes = base64ToBytes(body.file);
      if (canHash && (await sha256Hex(bytes)) !== body.sha256)
        throw new ServiceError(`Chunk ${offset} is corrupt: its SHA-256 does not match.`, { code: "checksum" });
      parts.push(bytes);
      received += bytes.length;
      total = body.total_bytes;
      onProgress(received, total);
      if (body.is_last) break;
      offset += 1;
    }
    if (received !== total)
      throw new ServiceError(`Got ${received} bytes in chunks, expected ${total}.`, { code: "truncated" });
    return { blob: new Blob(parts, { type: "audio/wav" }), verified: canHash };
  }
}
