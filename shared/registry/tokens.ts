import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { ScanhookError } from "../domain/errors.js";
import type { RegistryConfig } from "../domain/registries.js";
import type { Logger } from "../log.js";
import type { BasicCredentialSource } from "./credentials.js";
import type { RegistryLimits } from "./guard.js";
import { readBounded, type AbortSignalLike, type RegistryResponse, type RegistryTransport } from "./transport.js";

/** What a registry's Bearer challenge asks for. */
export interface TokenRequest {
  readonly realm: URL;
  readonly service: string | undefined;
  readonly scope: string;
}

export interface IssuedToken {
  readonly token: string;
  /** How long to reuse it, already shortened by a safety margin. */
  readonly ttlInMs: number;
}

/** Gets a bearer token for a challenge; one per way a registry issues them. */
export interface TokenSource {
  fetchToken(request: TokenRequest, abortSignal?: AbortSignalLike): Promise<IssuedToken>;
}

const MARGIN_MS = 10_000;

/** Reuse a token until `expiresInSeconds` less a margin, but always for a little while. */
function ttl(expiresInSeconds: number): number {
  return Math.max(expiresInSeconds * 1000 - MARGIN_MS, 1000);
}

const dockerTokenAnswer = z
  .object({
    token: z.string().min(1).optional(),
    access_token: z.string().min(1).optional(),
    expires_in: z.number().positive().optional()
  })
  .loose();

function unauthorized(message: string, meta: Record<string, unknown>): ScanhookError {
  return new ScanhookError("REGISTRY.UNAUTHORIZED", message, { meta, status: 502 });
}

async function parseJson(response: RegistryResponse, limit: number, what: string): Promise<unknown> {
  const bytes = await readBounded(response, limit, what);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ScanhookError("REGISTRY.INVALID_RESPONSE", `${what} is not JSON`, { meta: { host: response.url.host }, status: 502 });
  }
}

/**
 * The distribution token protocol (https://distribution.github.io/distribution/spec/auth/token/):
 * `GET realm?service=…&scope=…`, with the registry's user name and password as Basic auth when
 * the guard lets the credential go to the realm's host, anonymously otherwise. The answer holds
 * `token` (or `access_token`) and `expires_in` (60 s when absent).
 */
export function dockerTokenSource(deps: {
  readonly registry: RegistryConfig;
  readonly transport: RegistryTransport;
  readonly credential: BasicCredentialSource;
  readonly limits: RegistryLimits;
  readonly logger?: Logger;
}): TokenSource {
  return {
    async fetchToken(request, abortSignal) {
      const url = new URL(request.realm);
      if (request.service !== undefined) url.searchParams.set("service", request.service);
      if (request.scope !== "") for (const s of request.scope.split(" ")) url.searchParams.append("scope", s);
      // Decide before reading the credential: an unlisted realm never causes a vault read.
      const decision = deps.transport.guard.check(url, "realm", deps.registry);
      const credential = decision.sendCredential ? await deps.credential() : undefined;
      const headers: Record<string, string> = { accept: "application/json" };
      if (credential !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
      }
      deps.logger?.debug(`token for ${request.scope || "(no scope)"} from ${url.origin}${url.pathname} (${credential === undefined ? "anonymous" : "with credential"})`);
      const response = await deps.transport.send(url, {
        purpose: "realm",
        from: deps.registry,
        headers,
        maxRedirects: 0,
        ...(abortSignal === undefined ? {} : { abortSignal })
      });
      if (response.status !== 200) {
        response.body.destroy();
        throw unauthorized(`token server ${url.origin} answered ${response.status}`, { host: deps.registry.host, realm: url.origin, status: response.status });
      }
      const parsed = dockerTokenAnswer.safeParse(await parseJson(response, deps.limits.tokenMaxBytes, "token answer"));
      const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
      if (!parsed.success || token === undefined) {
        throw new ScanhookError("REGISTRY.INVALID_RESPONSE", `token server ${url.origin} answered without a token`, { meta: { realm: url.origin }, status: 502 });
      }
      return { token, ttlInMs: ttl(parsed.data.expires_in ?? 60) };
    }
  };
}

const acrRefresh = z.object({ refresh_token: z.string().min(1) }).loose();
const acrAccess = z.object({ access_token: z.string().min(1) }).loose();

/** `exp` of a JWT, without verifying it: only to know how long to reuse it. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof json.exp === "number" ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * ACR's Entra ID exchange (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md): an Entra
 * token for `https://containerregistry.azure.net/.default` is exchanged at
 * `POST /oauth2/exchange` (`grant_type=access_token`, `service`, `access_token`) for an ACR
 * refresh token, which `POST /oauth2/token` (`grant_type=refresh_token`, `service`, `scope`,
 * `refresh_token`) turns into an access token for one scope. Both go to the registry's own
 * host, never to the challenge's realm, so the Entra token cannot be sent anywhere else.
 */
export function acrExchangeTokenSource(deps: {
  readonly registry: RegistryConfig;
  readonly transport: RegistryTransport;
  readonly credential: TokenCredential;
  readonly limits: RegistryLimits;
  readonly audience?: string;
  readonly now?: () => number;
  readonly logger?: Logger;
}): TokenSource {
  const now = deps.now ?? Date.now;
  const base = deps.transport.guard.baseUrl(deps.registry);
  const scope = `${deps.audience ?? "https://containerregistry.azure.net"}/.default`;
  let refresh: { token: string; service: string; until: number } | undefined;

  const post = async (path: string, form: Record<string, string>, abortSignal: AbortSignalLike | undefined): Promise<unknown> => {
    const url = new URL(path, base);
    const response = await deps.transport.send(url, {
      method: "POST",
      purpose: "origin",
      from: deps.registry,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(form).toString(),
      ...(abortSignal === undefined ? {} : { abortSignal })
    });
    if (response.status !== 200) {
      response.body.destroy();
      throw unauthorized(`${deps.registry.host} answered ${response.status} to ${path}`, { host: deps.registry.host, status: response.status });
    }
    return parseJson(response, deps.limits.tokenMaxBytes, `${path} answer`);
  };

  return {
    async fetchToken(request, abortSignal) {
      const service = request.service ?? deps.registry.host.split(":")[0] ?? deps.registry.host;
      if (refresh === undefined || refresh.service !== service || refresh.until <= now()) {
        const entra = await deps.credential.getToken(scope);
        if (entra === null) throw unauthorized(`no Entra ID token for ${deps.registry.host}`, { host: deps.registry.host });
        deps.logger?.debug(`ACR refresh token for ${service} via ${base.origin}/oauth2/exchange`);
        const answer = acrRefresh.safeParse(await post("/oauth2/exchange", { grant_type: "access_token", service, access_token: entra.token }, abortSignal));
        if (!answer.success) throw new ScanhookError("REGISTRY.INVALID_RESPONSE", `${deps.registry.host} answered the exchange without a refresh token`, { status: 502 });
        const exp = jwtExpiry(answer.data.refresh_token);
        refresh = { token: answer.data.refresh_token, service, until: exp === undefined ? now() + 60_000 : exp - MARGIN_MS };
      }
      const answer = acrAccess.safeParse(
        await post("/oauth2/token", { grant_type: "refresh_token", service, scope: request.scope, refresh_token: refresh.token }, abortSignal)
      );
      if (!answer.success) throw new ScanhookError("REGISTRY.INVALID_RESPONSE", `${deps.registry.host} answered without an access token`, { status: 502 });
      const exp = jwtExpiry(answer.data.access_token);
      return { token: answer.data.access_token, ttlInMs: exp === undefined ? ttl(60) : Math.max(exp - now() - MARGIN_MS, 1000) };
    }
  };
}
