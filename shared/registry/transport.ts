import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { rootCertificates } from "node:tls";
import { Transform, type Readable } from "node:stream";
import { ScanhookError } from "../domain/errors.js";
import type { RegistryConfig } from "../domain/registries.js";
import type { Logger } from "../log.js";
import { USER_AGENT } from "../version.js";
import { hostOf, tooLarge, type GuardDecision, type LookupAddress, type RegistryGuard, type RequestPurpose } from "./guard.js";

/**
 * The HTTP transport every registry request goes through: the OCI client uses it directly and
 * the Azure SDK through `createGuardedHttpClient` (./sdk-http-client.ts).
 *
 * It is built on `node:http`/`node:https`, not `fetch`, for two reasons `fetch` cannot serve on
 * Node 20 without undici as a dependency: a `lookup` hook, so the addresses checked by the
 * guard are the ones connected to (no second DNS answer between check and connect), and a
 * per-client CA list (tests trust a throwaway certificate without touching the process).
 *
 * Redirects are followed here, not by callers, so the guard sees every hop: a hop to another
 * host loses the `Authorization` header, and an unlisted hop must be public and HTTPS.
 */

export interface SendOptions {
  readonly method?: "GET" | "HEAD" | "POST";
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Why the request is made; decides what the guard allows. */
  readonly purpose: RequestPurpose;
  /** The registry whose credential is in play (see {@link RegistryGuard.check}). */
  readonly from: RegistryConfig;
  readonly abortSignal?: AbortSignalLike;
  /** GET and HEAD follow up to this many redirects; 0 returns the 3xx as it is. */
  readonly maxRedirects?: number;
}

/** The part of `AbortSignal` the Azure SDK's `AbortSignalLike` also has. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export interface RegistryResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Where the response came from after redirects. */
  readonly url: URL;
  readonly body: Readable;
}

export interface TransportOptions {
  /** Extra CA certificates (PEM) trusted besides Node's roots: tests and private CAs. */
  readonly ca?: readonly string[];
  /** Idle socket timeout; a registry that stops answering fails with REGISTRY.UNREACHABLE. */
  readonly timeoutInMs?: number;
  readonly logger?: Logger;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class RegistryTransport {
  readonly #guard: RegistryGuard;
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #timeoutInMs: number;
  readonly #logger: Logger | undefined;

  constructor(guard: RegistryGuard, options: TransportOptions = {}) {
    this.#guard = guard;
    this.#timeoutInMs = options.timeoutInMs ?? 60_000;
    this.#logger = options.logger;
    this.#http = new http.Agent({ keepAlive: true });
    this.#https = new https.Agent({
      keepAlive: true,
      ...(options.ca === undefined || options.ca.length === 0 ? {} : { ca: [...rootCertificates, ...options.ca] })
    });
  }

  get guard(): RegistryGuard {
    return this.#guard;
  }

  /** Closes pooled connections; the transport may still be used afterwards. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  /**
   * Sends a request the guard allows, following redirects for GET and HEAD. The credential is
   * the `Authorization` header of `options.headers`; it is dropped wherever the guard says so.
   */
  async send(url: URL, options: SendOptions): Promise<RegistryResponse> {
    let decision = this.#guard.check(url, options.purpose, options.from);
    const method = options.method ?? "GET";
    const maxRedirects = method === "POST" ? 0 : (options.maxRedirects ?? 5);
    for (let hop = 0; ; hop++) {
      const headers = withoutCredential(options.headers ?? {}, !decision.sendCredential);
      const response = await this.#once(decision, method, headers, options);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.status) || location === undefined || maxRedirects === 0) return response;
      response.body.resume();
      if (hop >= maxRedirects) {
        throw new ScanhookError("REGISTRY.UNREACHABLE", `too many redirects from ${url.origin}${url.pathname}`, {
          meta: { host: url.host },
          status: 502
        });
      }
      let next: URL;
      try {
        next = new URL(location, decision.url);
      } catch (cause) {
        throw new ScanhookError("REGISTRY.UNREACHABLE", `invalid redirect from ${decision.url.origin}`, { cause, status: 502 });
      }
      decision = this.#guard.check(next, "redirect", options.from);
      // A credential that was already dropped on an earlier hop never comes back.
      if (!("authorization" in lower(headers))) decision = { ...decision, sendCredential: false };
    }
  }

  async #once(
    decision: GuardDecision,
    method: string,
    headers: Record<string, string>,
    options: SendOptions
  ): Promise<RegistryResponse> {
    const addresses = await this.#guard.addressesFor(decision);
    const url = decision.url;
    const outgoing: Record<string, string> = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "user-agent"));
    outgoing["user-agent"] = userAgent(headers);
    if (options.body !== undefined) outgoing["content-length"] = String(Buffer.byteLength(options.body));
    const secure = url.protocol === "https:";
    const started = Date.now();
    return new Promise<RegistryResponse>((resolve, reject) => {
      if (options.abortSignal?.aborted === true) {
        reject(aborted(url));
        return;
      }
      const request = (secure ? https : http).request(url, {
        method,
        headers: outgoing,
        agent: secure ? this.#https : this.#http,
        timeout: this.#timeoutInMs,
        lookup: pinnedLookup(addresses)
      });
      const onAbort = (): void => {
        request.destroy(aborted(url));
      };
      options.abortSignal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = (): void => options.abortSignal?.removeEventListener("abort", onAbort);
      request.on("timeout", () => {
        request.destroy(new ScanhookError("REGISTRY.UNREACHABLE", `${url.origin} did not answer within ${this.#timeoutInMs} ms`, { meta: { host: url.host }, status: 504 }));
      });
      request.on("error", (cause) => {
        cleanup();
        reject(cause instanceof ScanhookError ? cause : new ScanhookError("REGISTRY.UNREACHABLE", `cannot reach ${url.origin}: ${cause.message}`, { cause, meta: { host: url.host }, status: 502 }));
      });
      request.on("response", (res: IncomingMessage) => {
        // Query strings are never logged: a redirect to blob storage carries a SAS token there.
        this.#logger?.debug(`${method} ${url.origin}${url.pathname} -> ${res.statusCode ?? 0} (${Date.now() - started} ms)`);
        res.on("close", cleanup);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
      });
      request.end(options.body);
    });
  }
}

/** Every request carries scanhook's user agent first, so its own pulls can be told apart. */
function userAgent(headers: Record<string, string>): string {
  const given = Object.entries(headers).find(([k]) => k.toLowerCase() === "user-agent")?.[1];
  if (given === undefined || given === "") return USER_AGENT;
  return given.startsWith(USER_AGENT) ? given : `${USER_AGENT} ${given}`;
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function withoutCredential(headers: Readonly<Record<string, string>>, drop: boolean): Record<string, string> {
  if (!drop) return { ...headers };
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization" && k.toLowerCase() !== "cookie"));
}

function aborted(url: URL): ScanhookError {
  const e = new ScanhookError("REGISTRY.ABORTED", `request to ${url.origin} was aborted`, { meta: { host: url.host } });
  e.name = "AbortError";
  return e;
}

/** A `lookup` that answers with the addresses the guard already checked, and nothing else. */
function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
    const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
    const list = wanted.length > 0 ? wanted : addresses;
    if (options.all === true) callback(null, list);
    else callback(null, list[0]?.address, list[0]?.family);
  }) as LookupFunction;
}

/**
 * Reads a whole response body into memory, refusing more than `limit` bytes: first by
 * `Content-Length`, then by counting, since a registry may lie or send none.
 */
export async function readBounded(response: RegistryResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    response.body.destroy();
    throw tooLarge(what, limit, { host: hostOf(response.url), declared });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > limit) {
      response.body.destroy();
      throw tooLarge(what, limit, { host: hostOf(response.url) });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A pass-through that errors with REGISTRY.TOO_LARGE once more than `limit` bytes went by. */
export function limitStream(limit: number, what: string, meta: Record<string, unknown> = {}): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > limit) callback(tooLarge(what, limit, meta));
      else callback(null, chunk);
    }
  });
}
