import { randomUUID } from "node:crypto";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createTestCertificate, type TestCertificate } from "./tls.js";

/**
 * A TLS front that makes a plain `docker-registry` (./registry.ts, anonymous) look like Azure
 * Container Registry to `@azure/container-registry` and to scanhook's ACR token exchange:
 *
 * - `POST /oauth2/exchange` (`grant_type=access_token`, `service`, `access_token`): the Entra ID
 *   token must be the one the test's `TokenCredential` hands out; answers `{refresh_token}`, a
 *   JWT-shaped token with `exp` (the SDK reads it);
 * - `POST /oauth2/token` (`grant_type=refresh_token`, `service`, `scope`, `refresh_token`):
 *   answers `{access_token}` for that scope
 *   (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md);
 * - `/v2/...` needs `Authorization: Bearer <access token>` for the path's scope, else 401 with
 *   `WWW-Authenticate: Bearer realm="https://<front>/oauth2/token",service="<front>",scope="…"`;
 *   then it is proxied to the registry as it is (the SDK %-encodes `/` in repository names:
 *   decoded here);
 * - ACR's listing API from the registry's own: `GET /acr/v1/_catalog` from `/v2/_catalog`,
 *   `GET /acr/v1/{name}/_tags` from `tags/list` (paged here: distribution 2.8 ignores `n` on
 *   tags) plus a `HEAD` per tag for its digest, and
 *   `GET /acr/v1/{name}/_tags/{tag}`, with `Link` headers rewritten for paging.
 *
 * Every request is recorded (method, path, whether it was authorized, user agent); tokens are
 * never recorded. `stop()` closes it and removes its certificate files.
 */
export interface AcrFrontOptions {
  /** `http://127.0.0.1:<port>` of an anonymous docker-registry. */
  readonly upstream: string;
  /** The Entra ID access token the exchange accepts. */
  readonly entraToken: string;
}

export interface AcrFrontRequest {
  readonly method: string;
  readonly path: string;
  readonly authorized: boolean;
  readonly userAgent: string | undefined;
}

export interface AcrFront {
  /** `127.0.0.1:<port>`, for REGISTRIES (kind `acr`). */
  readonly host: string;
  readonly url: string;
  /** PEM to trust (the client's `ca` option). */
  readonly ca: string;
  readonly requests: AcrFrontRequest[];
  /** How many exchanges and token requests were answered. */
  readonly counts: { exchange: number; token: number };
  stop(): Promise<void>;
}

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json"
].join(", ");

function jwtShaped(claims: Record<string, unknown>): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${enc({ alg: "none", typ: "JWT" })}.${enc(claims)}.${Buffer.from(randomUUID()).toString("base64url")}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

export async function startAcrFront(options: AcrFrontOptions): Promise<AcrFront> {
  const cert: TestCertificate = await createTestCertificate();
  const refreshTokens = new Set<string>();
  const accessTokens = new Map<string, string>();
  const requests: AcrFrontRequest[] = [];
  const counts = { exchange: 0, token: 0 };
  let host = "";
  const service = (): string => host.split(":")[0] ?? host;

  const challenge = (res: ServerResponse, scope: string): void => {
    json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, {
      "www-authenticate": `Bearer realm="https://${host}/oauth2/token",service="${service()}",scope="${scope}"`
    });
  };
  const authorized = (req: IncomingMessage, scope: string): boolean => {
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ") !== true) return false;
    const granted = accessTokens.get(auth.slice(7));
    return granted !== undefined && granted.split(" ").includes(scope);
  };
  const upstream = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${options.upstream}${path}`, init);

  const rewriteLink = (link: string | null, from: string, to: string): Record<string, string> =>
    link === null ? {} : { link: link.replace(from, to) };

  const tagAttributes = async (name: string, tag: string): Promise<Record<string, unknown> | undefined> => {
    const head = await upstream(`/v2/${name}/manifests/${tag}`, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT } });
    const digest = head.headers.get("docker-content-digest");
    if (!head.ok || digest === null) return undefined;
    const at = new Date(0).toISOString();
    return {
      name: tag,
      digest,
      createdTime: at,
      lastUpdateTime: at,
      signed: false,
      changeableAttributes: { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true }
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://front.test");
    const path = decodeURIComponent(url.pathname);
    requests.push({ method: req.method ?? "", path, authorized: req.headers.authorization !== undefined, userAgent: req.headers["user-agent"] });

    if (req.method === "POST" && path === "/oauth2/exchange") {
      const form = new URLSearchParams(await readBody(req));
      if (form.get("grant_type") !== "access_token" || form.get("access_token") !== options.entraToken || form.get("service") !== service()) {
        json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "bad exchange" }] });
        return;
      }
      counts.exchange++;
      const refresh = jwtShaped({ exp: Math.floor(Date.now() / 1000) + 3 * 3600, jti: randomUUID() });
      refreshTokens.add(refresh);
      json(res, 200, { refresh_token: refresh });
      return;
    }
    if (req.method === "POST" && path === "/oauth2/token") {
      const form = new URLSearchParams(await readBody(req));
      const refresh = form.get("refresh_token") ?? "";
      if (form.get("grant_type") !== "refresh_token" || !refreshTokens.has(refresh) || form.get("service") !== service()) {
        json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "bad refresh token" }] });
        return;
      }
      counts.token++;
      const access = jwtShaped({ exp: Math.floor(Date.now() / 1000) + 3600, jti: randomUUID() });
      accessTokens.set(access, form.get("scope") ?? "");
      json(res, 200, { access_token: access });
      return;
    }

    if (path === "/acr/v1/_catalog") {
      if (!authorized(req, "registry:catalog:*")) return challenge(res, "registry:catalog:*");
      const r = await upstream(`/v2/_catalog${url.search}`);
      json(res, r.status, await r.json(), rewriteLink(r.headers.get("link"), "/v2/_catalog", "/acr/v1/_catalog"));
      return;
    }
    const tags = /^\/acr\/v1\/(.+)\/_tags(?:\/([^/]+))?$/.exec(path);
    if (tags?.[1] !== undefined) {
      const name = tags[1];
      const scope = `repository:${name}:metadata_read`;
      if (!authorized(req, scope)) return challenge(res, scope);
      if (tags[2] !== undefined) {
        const attributes = await tagAttributes(name, tags[2]);
        if (attributes === undefined) return json(res, 404, { errors: [{ code: "TAG_UNKNOWN", message: "tag not found" }] });
        json(res, 200, { registry: host, imageName: name, tag: attributes });
        return;
      }
      // distribution 2.8 does not page tags/list, so the front pages ACR-style itself (`n`, `last`).
      const r = await upstream(`/v2/${name}/tags/list`);
      if (!r.ok) return json(res, r.status, await r.json());
      const all = (((await r.json()) as { tags: string[] | null }).tags ?? []).sort();
      const last = url.searchParams.get("last");
      const n = Number(url.searchParams.get("n") ?? "100");
      const after = last === null ? all : all.filter((t) => t > last);
      const page = after.slice(0, n);
      const attributes = (await Promise.all(page.map((t) => tagAttributes(name, t)))).filter((a) => a !== undefined);
      const more: Record<string, string> = after.length > page.length ? { link: `</acr/v1/${encodeURIComponent(name)}/_tags?last=${encodeURIComponent(page[page.length - 1] ?? "")}&n=${n}>; rel="next"` } : {};
      json(res, 200, { registry: host, imageName: name, tags: attributes }, more);
      return;
    }

    const v2 = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(path);
    if (path === "/v2/" || v2 !== null) {
      const scope = v2?.[1] === undefined ? "" : `repository:${v2[1]}:pull`;
      if (scope === "" || !authorized(req, scope)) return challenge(res, scope);
      const headers: Record<string, string> = {};
      if (req.headers.accept !== undefined) headers.accept = req.headers.accept;
      if (req.headers.range !== undefined) headers.range = req.headers.range;
      const r = await upstream(`${path}${url.search}`, { method: req.method ?? "GET", headers });
      const out: Record<string, string> = {};
      r.headers.forEach((value, key) => {
        if (!["content-encoding", "transfer-encoding", "connection", "keep-alive"].includes(key)) out[key] = value;
      });
      res.writeHead(r.status, out);
      if (r.body === null || req.method === "HEAD") {
        res.end();
        return;
      }
      for await (const chunk of r.body) res.write(chunk);
      res.end();
      return;
    }
    json(res, 404, { errors: [{ code: "NOT_FOUND", message: path }] });
  };

  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { errors: [{ code: "FRONT", message: String(e) }] });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `https://${host}`,
    ca: cert.certPem,
    requests,
    counts,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cert.remove();
    }
  };
}
