/**
 * The one HTTP client of the vulnerability sources: GET (and the npm endpoint's POST) with a
 * timeout, a byte limit, and an error that names the URL and says what failed. Real network code,
 * configurable by URL; tests point it at servers on 127.0.0.1.
 */
import { ScanhookError } from "../domain/errors.js";

export interface FetchOptions {
  /** Longest wait for the response to begin, and then for each further chunk of its body. */
  readonly timeoutInMs?: number;
  readonly maxBytes?: number;
  readonly abortSignal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024 * 1024;

function unreachable(url: string, e: unknown): ScanhookError {
  const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
  return new ScanhookError("VULNDB.SOURCE_UNREACHABLE", `cannot reach ${url}: ${cause}`, { cause: e, meta: { url } });
}

/**
 * Opens `url`; undefined on 404 (a record that is gone), throws on any other failure. The timeout
 * is an idle timeout, not a total: an export zip of hundreds of megabytes may take longer than any
 * fixed bound to arrive, but a stalled connection does not hang a refresh.
 */
export async function openUrl(url: string, options: FetchOptions = {}, init: RequestInit = {}): Promise<AsyncIterable<Uint8Array> | undefined> {
  const idleMs = options.timeoutInMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`nothing received for ${idleMs} ms`)), idleMs);
    timer.unref();
  };
  const signal = options.abortSignal === undefined ? controller.signal : AbortSignal.any([controller.signal, options.abortSignal]);
  let response: Response;
  arm();
  try {
    response = await fetch(url, { ...init, signal, redirect: "follow" });
  } catch (e) {
    clearTimeout(timer);
    throw unreachable(url, e);
  }
  if (response.status === 404 || !response.ok || response.body === null) {
    clearTimeout(timer);
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404) return undefined;
    throw new ScanhookError("VULNDB.SOURCE_FAILED", `${init.method ?? "GET"} ${url} answered ${response.status} ${response.statusText}`, { meta: { url, status: response.status } });
  }
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) {
    clearTimeout(timer);
    await response.body.cancel().catch(() => undefined);
    throw new ScanhookError("VULNDB.SOURCE_TOO_LARGE", `${url} is ${declared} bytes, more than the ${max} allowed`);
  }
  const body = response.body;
  return (async function* limited() {
    let seen = 0;
    try {
      arm();
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        seen += chunk.length;
        if (seen > max) throw new ScanhookError("VULNDB.SOURCE_TOO_LARGE", `${url} sent more than the ${max} bytes allowed`);
        yield chunk;
      }
    } catch (e) {
      throw e instanceof ScanhookError ? e : unreachable(url, e);
    } finally {
      clearTimeout(timer);
    }
  })();
}

/** The whole body as bytes (bounded); undefined on 404. */
export async function fetchBytes(url: string, options: FetchOptions = {}, init: RequestInit = {}): Promise<Buffer | undefined> {
  const stream = await openUrl(url, options, init);
  if (stream === undefined) return undefined;
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Lines of a text body as they arrive, so a newest-first CSV can be read only as far as needed. */
export async function* lines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf("\n");
    while (nl >= 0) {
      yield rest.slice(0, nl).replace(/\r$/, "");
      rest = rest.slice(nl + 1);
      nl = rest.indexOf("\n");
    }
  }
  rest += decoder.decode();
  if (rest !== "") yield rest;
}
