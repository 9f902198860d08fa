/**
 * The verdict read path (issue 10): "may this digest run?". One point read by digest on a cache
 * miss (an index also reads its platforms' records), never a blob; the policy comes from memory.
 * Every read also checks the verdict cached on the record and writes it back when it no longer
 * says what the policy says now (policy version, match, locations, `validUntil`), so lists by
 * verdict heal as digests are asked for; the sweep heals the rest.
 */
import { hash } from "node:crypto";
import type { Digest } from "../domain/digest.js";
import { describeError, ScanhookError } from "../domain/errors.js";
import type { CachedVerdict, ImageRecord, Location } from "../domain/image-record.js";
import type { Policy } from "../domain/policy.js";
import { cachedVerdictOf, decideIndex, decideRecord, platformName, sameCachedVerdict, type Decision, type VerdictReference } from "../domain/verdict.js";
import type { Container } from "../store/port.js";
import type { VerdictCache } from "./verdicts-cache.js";

export interface VerdictDeps {
  readonly images: Container<ImageRecord>;
  readonly policy: () => Promise<Policy>;
  readonly now: () => Date;
  readonly cache?: VerdictCache<VerdictAnswer>;
  /** A failed write-back is logged, never the caller's problem: the answer is still right. */
  readonly onWriteError?: (message: string) => void;
}

export interface VerdictQuery {
  readonly digest: Digest;
  readonly reference?: VerdictReference;
  /** `os/architecture[/variant]`, for one platform of an index. */
  readonly platform?: string;
}

/** HTTP status of each answer (DESIGN principle 4). */
export const VERDICT_STATUS = { verdict: 200, pending: 202, unknown: 404, "not-an-image": 422 } as const;

export interface VerdictAnswer {
  readonly decision: Decision;
  readonly status: 200 | 202 | 404 | 422;
  /** The JSON body, serialized once per computation (cache hits send it as is). */
  readonly body: string;
  /** The body's UTF-8 bytes, encoded once too: a warm answer is written without re-encoding it. */
  readonly bytes: Uint8Array;
  /** A strong ETag of the body. */
  readonly etag: string;
}

/** A record with what judging it needs besides itself: an index's platforms, a platform's inherited locations. */
export interface Subject {
  readonly record: ImageRecord;
  readonly children?: readonly ImageRecord[];
  readonly inheritedLocations?: readonly Location[];
}

/** Reads a record and what judging it needs; undefined when the digest was never seen. */
export async function loadSubject(images: Container<ImageRecord>, digest: string): Promise<Subject | undefined> {
  const record = (await images.get(digest))?.doc;
  if (record === undefined) return undefined;
  return completeSubject(images, record);
}

export async function completeSubject(images: Container<ImageRecord>, record: ImageRecord): Promise<Subject> {
  if (record.kind === "index") {
    const children = await Promise.all((record.childDigests ?? []).map(async (d) => (await images.get(d))?.doc));
    return { record, children: children.filter((c): c is ImageRecord => c !== undefined) };
  }
  if (record.locations.length === 0 && (record.parentDigests?.length ?? 0) > 0) {
    // A platform manifest is pulled through its index: judge it where the index lives.
    const parents = await Promise.all((record.parentDigests ?? []).map(async (d) => (await images.get(d))?.doc));
    return { record, inheritedLocations: parents.flatMap((p) => p?.locations ?? []) };
  }
  return { record };
}

export function decideSubject(policy: Policy, subject: Subject, now: Date, reference?: VerdictReference): Decision {
  const options = {
    now,
    ...(reference === undefined ? {} : { reference }),
    ...(subject.inheritedLocations === undefined ? {} : { inheritedLocations: subject.inheritedLocations })
  };
  return subject.children === undefined
    ? decideRecord(policy, subject.record.id, subject.record, options)
    : decideIndex(policy, subject.record, subject.children, options);
}

/** What the record should cache for this decision: a verdict, or nothing while there is none. */
export function cacheFor(decision: Decision): CachedVerdict | undefined {
  return decision.status === "verdict" ? cachedVerdictOf(decision.evaluation) : undefined;
}

/**
 * Writes the verdict cached on the record when it no longer matches `policy` now. The write is
 * conditional: it is recomputed on the record as stored, so a newer result written meanwhile is
 * judged, not overwritten. Returns whether it wrote.
 */
export async function refreshCachedVerdict(images: Container<ImageRecord>, policy: Policy, subject: Subject, now: Date): Promise<boolean> {
  const wanted = cacheFor(decideSubject(policy, subject, now));
  if (sameCachedVerdict(subject.record.verdict, wanted)) return false;
  let wrote = false;
  await images.update(subject.record.id, (current) => {
    if (current === undefined) return undefined;
    const next = cacheFor(decideSubject(policy, { ...subject, record: current }, now));
    if (sameCachedVerdict(current.verdict, next)) return undefined;
    wrote = true;
    const { verdict: _old, ...rest } = current;
    return next === undefined ? rest : { ...rest, verdict: next };
  });
  return wrote;
}

function matchesPlatform(query: string, record: ImageRecord): boolean {
  const name = platformName(record.platform);
  if (name === undefined) return false;
  // `linux/arm64` names `linux/arm64/v8` too, as container runtimes read it.
  return name === query || name.startsWith(`${query}/`);
}

function answer(decision: Decision): VerdictAnswer {
  let payload: unknown;
  switch (decision.status) {
    case "verdict":
      payload = { status: "verdict", ...decision.evaluation };
      break;
    case "pending":
      payload = {
        ...decision,
        message: `${decision.digest} has never been scanned (scan state ${decision.scanState}); ask again later. Admission under this policy would ${decision.admission.verdict} it (rule ${decision.admission.rule}, mode pending).`
      };
      break;
    case "unknown":
      payload = {
        ...decision,
        error: { code: "IMAGE.UNKNOWN", message: `scanhook has never seen ${decision.digest}. Admission under this policy would ${decision.admission.verdict} it (rule ${decision.admission.rule}, mode unknown).` }
      };
      break;
    case "not-an-image":
      payload = { ...decision, error: { code: "IMAGE.NOT_AN_IMAGE", message: `${decision.digest} is not a runnable image: ${decision.reason}` } };
      break;
  }
  const body = JSON.stringify(payload);
  const bytes = Buffer.from(body, "utf8");
  return { decision, status: VERDICT_STATUS[decision.status], body, bytes, etag: `"${hash("sha256", bytes, "base64url").slice(0, 27)}"` };
}

function referenceKey(r: VerdictReference | undefined): string {
  return r === undefined ? "" : `${r.registry}/${r.repository}${r.tag === undefined ? "" : `:${r.tag}`}${r.digest === undefined ? "" : "@"}`;
}

/** The verdict for a digest (or one location, or one platform of an index). */
export async function getVerdict(deps: VerdictDeps, query: VerdictQuery): Promise<VerdictAnswer> {
  const policy = await deps.policy();
  const key = `${query.digest}|${referenceKey(query.reference)}|${query.platform ?? ""}|${policy.version}`;
  const hit = deps.cache?.get(key);
  if (hit !== undefined) return hit;

  const now = deps.now();
  const subject = await loadSubject(deps.images, query.digest);
  let decision: Decision;
  let read: string[] = [query.digest];
  if (subject === undefined) {
    decision = decideRecord(policy, query.digest, undefined, { now, ...(query.reference === undefined ? {} : { reference: query.reference }) });
  } else {
    read = [query.digest, ...(subject.children ?? []).map((c) => c.id), ...(subject.record.parentDigests ?? [])];
    await writeBack(deps, policy, subject, now);
    decision = decideSubject(policy, platformSubject(subject, query), now, query.reference);
  }
  const result = answer(decision);
  const validUntil = decision.status === "verdict" && decision.evaluation.validUntil !== undefined ? Date.parse(decision.evaluation.validUntil) : undefined;
  deps.cache?.set(key, result, read, validUntil);
  return result;
}

function platformSubject(subject: Subject, query: VerdictQuery): Subject {
  const platform = query.platform;
  if (platform === undefined) return subject;
  if (subject.children === undefined) {
    if (matchesPlatform(platform, subject.record)) return subject;
    throw new ScanhookError("VERDICT.NOT_AN_INDEX", `platform: ${query.digest} is not an index, so it has no platform ${platform} to choose`, {
      status: 400,
      meta: { field: "platform" }
    });
  }
  const child = subject.children.find((c) => c.kind !== "artifact" && matchesPlatform(platform, c));
  if (child === undefined) {
    const listed = subject.children.map((c) => platformName(c.platform)).filter((p): p is string => p !== undefined);
    throw new ScanhookError("VERDICT.PLATFORM_NOT_FOUND", `the index ${query.digest} has no platform ${platform} (it lists ${listed.join(", ") || "none yet"})`, {
      status: 404,
      meta: { field: "platform" }
    });
  }
  return { record: child, inheritedLocations: subject.record.locations };
}

async function writeBack(deps: VerdictDeps, policy: Policy, subject: Subject, now: Date): Promise<void> {
  try {
    await refreshCachedVerdict(deps.images, policy, subject, now);
  } catch (e) {
    deps.onWriteError?.(`verdict of ${subject.record.id} not written back: ${describeError(e)}`);
  }
}

/** The longest reference accepted; a registry host plus a repository path and tag fit well within it. */
export const MAX_REFERENCE_LENGTH = 1024;

/**
 * Parses `registry/repository[:tag][@digest]` (the first path segment is always the registry:
 * scanhook judges locations, and a location names its registry). Undefined when malformed.
 */
export function parseReference(text: string): VerdictReference | undefined {
  if (text.length === 0 || text.length > MAX_REFERENCE_LENGTH) return undefined;
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/.test(digest)) return undefined;
  }
  const slash = rest.indexOf("/");
  if (slash <= 0) return undefined;
  const registry = rest.slice(0, slash);
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(":");
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) return undefined;
  }
  if (!/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(registry)) return undefined;
  if (!/^[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/.test(repository)) return undefined;
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}
