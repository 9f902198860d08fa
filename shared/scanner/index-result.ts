import type { Digest } from "../domain/digest.js";
import type { ImageRecord, IndexResult, PlatformResult } from "../domain/image-record.js";
import type { Container } from "../store/port.js";

/**
 * An index's result is the set of its platforms' (issue 7, "Images"): after a platform's scan
 * state changes, each index listing it gets `platformResults` recomputed from the platform
 * records, so a reader of the index (lists, the dashboard, whoever judges it) sees at one point
 * read which platforms have a result and whether all do, without reading them.
 *
 * Concurrency: platforms of one index finish at the same time on different instances, and each
 * recomputes from what it read. The write merges entry by entry and keeps the newer one (by the
 * platform's `scan.updatedAt`), so a writer that read a sibling's older state cannot undo that
 * sibling's newer write, whatever order the conditional writes land in.
 */

/** A platform's entry, from its record. */
export function platformResultOf(child: ImageRecord): PlatformResult {
  const r = child.result;
  return {
    digest: child.id,
    ...(child.platform === undefined ? {} : { platform: child.platform }),
    state: child.scan.state,
    updatedAt: child.scan.updatedAt,
    ...(child.scan.lastError === undefined ? {} : { lastError: child.scan.lastError }),
    ...(r === undefined ? {} : { result: { sbom: r.sbom, packageCounts: r.packageCounts, indexedAt: r.indexedAt } })
  };
}

/** Done: it has a result, or it never will by design (skipped: an artifact or a filtered platform). */
function settled(p: PlatformResult): boolean {
  return p.result !== undefined || p.state === "skipped";
}

/**
 * Merges fresh entries into the index's current summary: per child, the newer entry wins (a tie
 * goes to the fresh one). Returns undefined when nothing changed, so no write is made.
 */
export function mergeIndexResult(index: ImageRecord, fresh: readonly PlatformResult[], now: Date): IndexResult | undefined {
  const children = index.childDigests ?? [];
  const byDigest = new Map<string, PlatformResult>();
  for (const p of index.platformResults?.platforms ?? []) byDigest.set(p.digest, p);
  for (const p of fresh) {
    const old = byDigest.get(p.digest);
    if (old === undefined || p.updatedAt >= old.updatedAt) byDigest.set(p.digest, p);
  }
  const platforms = children.map((d) => byDigest.get(d)).filter((p): p is PlatformResult => p !== undefined);
  const complete = children.length > 0 && platforms.length === children.length && platforms.every(settled);
  const before = index.platformResults;
  if (before !== undefined && before.complete === complete && JSON.stringify(before.platforms) === JSON.stringify(platforms)) return undefined;
  return { platforms, complete, updatedAt: now.toISOString() };
}

/** Recomputes `platformResults` of one index from its platforms' records. Absent or not an index: nothing. */
export async function refreshIndexResult(images: Container<ImageRecord>, indexDigest: Digest, now: () => Date): Promise<void> {
  const index = (await images.get(indexDigest))?.doc;
  if (index?.kind !== "index") return;
  const children = await Promise.all((index.childDigests ?? []).map(async (d) => (await images.get(d))?.doc));
  const fresh = children.filter((c): c is ImageRecord => c !== undefined).map(platformResultOf);
  await images.update(indexDigest, (current) => {
    if (current?.kind !== "index") return undefined;
    const merged = mergeIndexResult(current, fresh, now());
    return merged === undefined ? undefined : { ...current, platformResults: merged };
  });
}

/** After a platform's state changed: refreshes every index that lists it. */
export async function refreshParentsOf(images: Container<ImageRecord>, childDigest: Digest, now: () => Date): Promise<void> {
  const child = (await images.get(childDigest))?.doc;
  for (const parent of child?.parentDigests ?? []) await refreshIndexResult(images, parent, now);
}
