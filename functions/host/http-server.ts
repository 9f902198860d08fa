import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpRequest as AzureHttpRequest, HttpResponseInit, InvocationContext as AzureInvocationContext, LogLevel } from "@azure/functions";
import type { Logger } from "../../shared/log.js";
import { HttpRequest, InvocationContext } from "../azure-functions.js";
import type { HttpFunction, HttpMethod } from "../declaration.js";

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
  route.names.forEach((name, i) => {
    const value = m[i + 1];
    if (value !== undefined) params[name] = decodeURIComponent(value);
  });
  return params;
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

function logHandlerFor(log: Logger): (level: LogLevel, ...args: unknown[]) => void {
  return (level, ...args) => {
    const text = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === "string" ? a : JSON.stringify(a))).join(" ");
    if (level === "error" || level === "critical") log.error(text);
    else if (level === "warning") log.warn(text);
    else if (level === "information") log.info(text);
    else log.debug(text);
  };
}

async function writeResponse(res: ServerResponse, result: HttpResponseInit): Promise<void> {
  const headers = new Headers(result.headers as ConstructorParameters<typeof Headers>[0]);
  let body: Uint8Array | string | undefined;
  if (result.jsonBody !== undefined) {
    body = JSON.stringify(result.jsonBody);
    if (!headers.has("content-type")) headers.set("content-type", "application/json; charset=utf-8");
  } else if (typeof result.body === "string") {
    body = result.body;
    if (!headers.has("content-type")) headers.set("content-type", "text/plain; charset=utf-8");
  } else if (result.body instanceof Uint8Array) {
    body = result.body;
  } else if (result.body instanceof ArrayBuffer) {
    body = new Uint8Array(result.body);
  } else if (result.body !== undefined && result.body !== null) {
    body = new Uint8Array(await new Response(result.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
  }
  headers.delete("content-length");
  const out: Record<string, string> = {};
  headers.forEach((v, k) => (out[k] = v));
  if (body !== undefined) out["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(result.status ?? 200, out);
  res.end(body);
}

/** Starts the server; resolves once it listens (port 0 picks a free one: see `url`). */
export async function startHttpServer(options: HttpServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const log = options.log;
  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      log.error(`http: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `${options.host}:${options.port}`}`);
    const method = (req.method ?? "GET").toUpperCase() as HttpMethod;
    let pathMatched = false;
    for (const mounted of options.functions) {
      const params = matchRoute(mounted.route, url.pathname);
      if (params === undefined) continue;
      pathMatched = true;
      if (!mounted.fn.methods.includes(method)) continue;
      const body = await readBody(req, options.maxBodyBytes);
      if (body === "too-large") {
        send(res, 413, { error: { code: "REQUEST.TOO_LARGE", message: `request body is larger than ${options.maxBodyBytes} bytes (HTTP_MAX_BODY_BYTES)` } });
        req.resume();
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      const query: Record<string, string> = {};
      url.searchParams.forEach((v, k) => (query[k] ??= v));
      const request = new HttpRequest({
        method,
        url: url.toString(),
        headers,
        query,
        params,
        ...(body.length > 0 ? { body: { bytes: body } } : {})
      });
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: mounted.fn.name,
        logHandler: logHandlerFor(log.child(mounted.fn.name))
      });
      const started = Date.now();
      const result = await mounted.invoke(request, context);
      await writeResponse(res, result);
      // Path only: query strings may carry a `code` key, and keys are never logged.
      log.debug(`${method} ${url.pathname} → ${result.status ?? 200} (${Date.now() - started} ms)`);
      return;
    }
    req.resume();
    if (pathMatched) send(res, 405, { error: { code: "REQUEST.METHOD_NOT_ALLOWED", message: `${method} is not allowed on ${url.pathname}` } });
    else send(res, 404, { error: { code: "NOT_FOUND", message: `no function answers ${url.pathname}` } });
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
