import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpRequest as AzureHttpRequest, HttpResponseInit, InvocationContext as AzureInvocationContext } from "@azure/functions";
import type { Logger } from "../../shared/log.js";
import { LocalInvocationContext } from "./local-context.js";
import { LocalHttpRequest } from "./local-request.js";
import { logHandlerFor } from "./log-handler.js";
import type { HttpFunction, HttpMethod } from "../declaration.js";
import { decodedOrRaw } from "../http.js";

/**
 * The HTTP half of the local Functions host: mounts HTTP function declarations on a node:http
 * server with the Functions host's routing (host.json `routePrefix` is "", so a route is the whole
 * path), builds the same `HttpRequest`/`InvocationContext` objects the Azure runtime passes, and
 * writes the `HttpResponseInit` back.
 */

export interface CompiledRoute {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/**
 * Route templates as Azure Functions spells them: literal segments, `{name}` (one segment),
 * `{name?}` (optional last segment) and `{*name}` (the rest of the path). Matching is
 * case-insensitive on literals, as ASP.NET routing is.
 */
export function compileRoute(route: string): CompiledRoute {
  const names: string[] = [];
  const segments = route.replace(/^\/+|\/+$/g, "").split("/");
  let source = "";
  for (const segment of segments) {
    const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(\?)?(?::[^}]*)?\}$/.exec(segment);
    if (param === null) {
      if (/[{}]/.test(segment)) throw new Error(`route ${route}: unsupported segment ${segment}`);
      source += `/${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
      continue;
    }
    const [, catchAll, name, optional] = param;
    if (name === undefined) continue;
    names.push(name);
    if (catchAll !== undefined) source += "(?:/(.*))?";
    else if (optional !== undefined) source += "(?:/([^/]+))?";
    else source += "/([^/]+)";
  }
  return { pattern: new RegExp(`^${source}/?$`, "i"), names };
}

export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
  const m = route.pattern.exec(path);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.names.length; i++) {
    const value = m[i + 1];
    // A malformed escape stays as sent, for the handler's own check to refuse with a 400.
    if (value !== undefined) params[route.names[i] as string] = value.includes("%") ? decodedOrRaw(value) : value;
  }
  return params;
}

/** The first two segments of a route when both are literal, lowercased; else undefined. */
export function bucketKeyOfRoute(route: string): string | undefined {
  const [a, b] = route.replace(/^\/+/, "").split("/");
  if (a === undefined || b === undefined || a.includes("{") || b.includes("{")) return undefined;
  return `${a}/${b}`.toLowerCase();
}

function bucketKeyOfPath(path: string): string {
  const [, a = "", b = ""] = path.split("/", 3);
  return `${a}/${b}`.toLowerCase();
}

export interface MountedHttpFunction {
  readonly fn: HttpFunction<never>;
  readonly route: CompiledRoute;
  readonly invoke: (request: AzureHttpRequest, context: AzureInvocationContext) => Promise<HttpResponseInit>;
}

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly log: Logger;
  readonly functions: readonly MountedHttpFunction[];
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * No length and no chunked encoding means no body (RFC 9112 §6.3): such a request skips the
 * stream machinery, and the await, which cost more than the rest of a warm GET.
 */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return "too-large";
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return "too-large";
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}


function writeResponse(res: ServerResponse, result: HttpResponseInit): void | Promise<void> {
  const out: Record<string, string> = {};
  const given = result.headers;
  if (given instanceof Headers) given.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(given)) for (const [k, v] of given as [string, string][]) out[k.toLowerCase()] = v;
  else if (given !== undefined) for (const [k, v] of Object.entries(given as Record<string, string>)) out[k.toLowerCase()] = v;
  let body: Uint8Array | string | undefined;
  if (result.jsonBody !== undefined) {
    body = JSON.stringify(result.jsonBody);
    out["content-type"] ??= "application/json; charset=utf-8";
  } else if (typeof result.body === "string") {
    body = result.body;
    out["content-type"] ??= "text/plain; charset=utf-8";
  } else if (result.body instanceof Uint8Array) {
    body = result.body;
  } else if (result.body instanceof ArrayBuffer) {
    body = new Uint8Array(result.body);
  } else if (result.body !== undefined && result.body !== null) {
    // Streams and the rarer body kinds: read whole, then written like the rest.
    return new Response(result.body as ConstructorParameters<typeof Response>[0])
      .arrayBuffer()
      .then((bytes) => writeResponse(res, { ...result, headers: out, body: new Uint8Array(bytes) }));
  }
  delete out["content-length"];
  if (body !== undefined) out["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(result.status ?? 200, out);
  res.end(body);
}

/** Starts the server; resolves once it listens (port 0 picks a free one: see `url`). */
export async function startHttpServer(options: HttpServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const log = options.log;
  const debug = log.enabled("debug");
  // One log handler per function, built once: the HTTP path is the verdict hot path.
  const logHandlers = new Map(options.functions.map((m) => [m.fn.name, logHandlerFor(log.child(m.fn.name))]));
  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      log.error(`http: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
      else res.destroy();
    });
  });

  // Routes bucketed by their first two literal segments (`api/verdicts`), so a request tries the
  // few routes that can match instead of every one; routes with a parameter that early are tried
  // for every request, after their bucket.
  const buckets = new Map<string, MountedHttpFunction[]>();
  const anywhere: MountedHttpFunction[] = [];
  for (const mounted of options.functions) {
    const key = bucketKeyOfRoute(mounted.fn.route);
    if (key === undefined) anywhere.push(mounted);
    else buckets.set(key, [...(buckets.get(key) ?? []), mounted]);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Routed on the request target's path as sent, without building a URL: the host's own
    // routing, like the Functions host's, never resolves `..` segments into another route.
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    const pathname = q < 0 ? target : target.slice(0, q);
    const method = (req.method ?? "GET").toUpperCase() as HttpMethod;
    let pathMatched = false;
    const bucket = buckets.get(bucketKeyOfPath(pathname));
    const candidates = bucket === undefined ? anywhere : anywhere.length === 0 ? bucket : [...bucket, ...anywhere];
    for (const mounted of candidates) {
      const params = matchRoute(mounted.route, pathname);
      if (params === undefined) continue;
      pathMatched = true;
      if (!mounted.fn.methods.includes(method)) continue;
      const body = hasBody(req) ? await readBody(req, options.maxBodyBytes) : (req.resume(), undefined);
      if (body === "too-large") {
        send(res, 413, { error: { code: "REQUEST.TOO_LARGE", message: `request body is larger than ${options.maxBodyBytes} bytes (HTTP_MAX_BODY_BYTES)` } });
        req.resume();
        return;
      }
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? "");
      const request = new LocalHttpRequest({ method, url: { origin: `http://${req.headers.host ?? `${options.host}:${options.port}`}`, path: target }, headers, params, body });
      const context = new LocalInvocationContext({
        functionName: mounted.fn.name,
        logHandler: logHandlers.get(mounted.fn.name) ?? logHandlerFor(log)
      });
      const started = debug ? Date.now() : 0;
      const result = await mounted.invoke(request, context);
      await writeResponse(res, result);
      // Path only: query strings may carry a `code` key, and keys are never logged.
      if (debug) log.debug(`${method} ${pathname} → ${result.status ?? 200} (${Date.now() - started} ms)`);
      return;
    }
    req.resume();
    if (pathMatched) send(res, 405, { error: { code: "REQUEST.METHOD_NOT_ALLOWED", message: `${method} is not allowed on ${pathname}` } });
    else send(res, 404, { error: { code: "NOT_FOUND", message: `no function answers ${pathname}` } });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })
  };
}
