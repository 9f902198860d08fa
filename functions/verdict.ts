import type { HttpRequest } from "@azure/functions";
import { parseDigest, type Digest } from "../shared/domain/digest.js";
import { ScanhookError } from "../shared/domain/errors.js";
import { getVerdict, parseReference, type VerdictDeps } from "../shared/usecases/verdicts.js";
import type { VerdictReference } from "../shared/domain/verdict.js";
import type { HttpFunction } from "./declaration.js";
import { decodedOrRaw } from "./http.js";
import type { Services } from "./services.js";

/** How long a caller should wait before asking again about a digest still waiting for its first scan. */
export const PENDING_RETRY_AFTER_SECONDS = "10";

/** The verdict read path's dependencies from the services: the hot path, so built once per process. */
const depsCache = new WeakMap<Services, VerdictDeps>();
export function verdictDeps(services: Services): VerdictDeps {
  let deps = depsCache.get(services);
  if (deps === undefined) {
    deps = {
      images: services.store.images,
      policy: async () => (await services.policy.current()).policy,
      now: () => new Date(),
      cache: services.verdictCache
    };
    depsCache.set(services, deps);
  }
  return deps;
}

function badRequest(field: string, message: string): ScanhookError {
  return new ScanhookError("REQUEST.INVALID", `${field}: ${message}`, { status: 400, meta: { field } });
}

export function digestParam(value: string | undefined): Digest {
  const raw = value ?? "";
  // Route values arrive decoded; one still holding `%` was encoded twice, and is decoded once more.
  const digest = parseDigest(raw.includes("%") ? decodedOrRaw(raw) : raw);
  if (digest === undefined) throw badRequest("digest", "expected sha256:<64 lowercase hex>");
  return digest;
}

export function referenceParam(value: string | null | undefined, digest: Digest): VerdictReference | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const reference = parseReference(value);
  if (reference === undefined) throw badRequest("reference", "expected <registry>/<repository>[:tag][@digest]");
  if (reference.digest !== undefined && reference.digest !== digest) throw badRequest("reference", "names another digest than the one asked about");
  return reference;
}

export function platformParam(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(value)) throw badRequest("platform", "expected os/architecture[/variant], e.g. linux/arm64");
  return value;
}

/** Whether `If-None-Match` names this ETag (or `*`). */
function notModified(request: HttpRequest, etag: string): boolean {
  const header = request.headers.get("if-none-match");
  if (header === null) return false;
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * `GET /api/verdicts/{digest}[?reference=<registry>/<repository>[:tag]][&platform=os/arch]`
 * (read key): 200 the verdict and why (also for a failed first scan); 202 pending with
 * Retry-After while the digest has never had a result; 404 unknown; 422 not an image; 304 when
 * `If-None-Match` holds the answer's ETag. 202 and 404 say what admission would do.
 */
export const verdict: HttpFunction<Services> = {
  kind: "http",
  name: "verdict",
  route: "api/verdicts/{digest}",
  methods: ["GET"],
  key: "read",
  handler: async (request, _context, services) => {
    const digest = digestParam(request.params.digest);
    const reference = referenceParam(request.query.get("reference"), digest);
    const platform = platformParam(request.query.get("platform"));
    const answer = await getVerdict(verdictDeps(services), {
      digest,
      ...(reference === undefined ? {} : { reference }),
      ...(platform === undefined ? {} : { platform })
    });
    const headers: Record<string, string> = { "cache-control": "no-cache", etag: answer.etag, "content-type": "application/json; charset=utf-8" };
    if (answer.status === 202) headers["retry-after"] = PENDING_RETRY_AFTER_SECONDS;
    if (answer.status === 200 && notModified(request, answer.etag)) return { status: 304, headers: { etag: answer.etag, "cache-control": "no-cache" } };
    return { status: answer.status, headers, body: answer.bytes };
  }
};
