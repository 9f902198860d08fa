/**
 * What a finding takes from one record when that record alone makes its group: the reported id,
 * aliases, upstream ids and severity. The DB build works these out once per record (`db/build.ts`)
 * and stores them with every `affected[]` entry of it, so that a rematch makes most findings
 * without reading a record at all; the matcher reads records only for what these cannot say (hits
 * whose records name each other, entries with a severity of their own).
 */
import type { Severity } from "../domain/image-record.js";
import type { StoredVuln } from "./db/reader.js";
import type { OsvAffected } from "./osv.js";
import { severityOf } from "./severity.js";

/** `[reported id, aliases (sorted, without it), upstream ids (sorted), severity, score or null, severity source]` */
export type RecordFacts = readonly [id: string, aliases: string[], upstream: string[], severity: Severity, score: number | null, source: string];

/**
 * {@link RecordFacts} as the DB stores them: the id `0` when it is the record's own, a list `0`
 * when empty, and a severity source that names the record itself (`cvss_v3:<its id>`, the usual
 * case) without the id. Read back by the reader (`db/reader.ts` `decodeEntries`) into
 * {@link FactColumns}: the record's id string and one empty list are shared by every entry instead
 * of each holding copies for the DB's life.
 */
export type StoredFacts = readonly [id: string | 0, aliases: string[] | 0, upstream: string[] | 0, severity: Severity, score: number | null, source: string];

/**
 * A package's record facts column by column (entry `i` is the `i`th of each), as the reader
 * returns them: a few arrays per package rather than a tuple per entry.
 */
export interface FactColumns {
  readonly ids: readonly string[];
  readonly aliases: readonly string[][];
  readonly upstream: readonly string[][];
  readonly severity: readonly Severity[];
  readonly score: readonly (number | null)[];
  readonly source: readonly string[];
}

/** Shared by every record with no aliases or no upstream ids; frozen, as it is shared. */
export const NO_IDS: string[] = Object.freeze([]) as unknown as string[];

export function storeFacts(recordId: string, f: RecordFacts): StoredFacts {
  const source = f[5].endsWith(`:${recordId}`) ? f[5].slice(0, f[5].length - recordId.length) : f[5];
  return [f[0] === recordId ? 0 : f[0], f[1].length === 0 ? 0 : f[1], f[2].length === 0 ? 0 : f[2], f[3], f[4], source];
}

/**
 * A stored severity source read back: one ending in `:` named the entry's own record (no source
 * ends so otherwise: each names a record id, and ids are not empty, or is `none`).
 */
export function sourceOf(stored: string, recordId: string): string {
  return stored.charCodeAt(stored.length - 1) === 58 /* ":" */ ? stored + recordId : stored;
}

/**
 * Reported id of a group (its records' ids and aliases): a CVE id if there is one, else a GHSA,
 * else the smallest, so the same vulnerability reached through different records (a GHSA on one
 * package, a PYSEC on another) carries one id and counts once.
 */
export function preferredId(ids: readonly string[]): string {
  const rank = (id: string): number => (id.startsWith("CVE-") ? 0 : id.startsWith("GHSA-") ? 1 : 2);
  return [...ids].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))[0] ?? "";
}

/** The facts of `record` as the only record of its group, matched through entries with no severity of their own. */
export function recordFacts(record: StoredVuln, lookup: (id: string) => StoredVuln | undefined): RecordFacts {
  const ids = [...new Set([record.id, ...(record.aliases ?? [])])];
  const id = preferredId(ids);
  const sev = severityOf({ records: [{ record, entries: [] }], lookup });
  return [id, ids.filter((x) => x !== id).sort(), [...new Set(record.upstream ?? [])].sort(), sev.severity, sev.score ?? null, sev.source];
}

/** Whether an entry leaves its record's severity alone (no `severity`, no severity rating of its own). */
export function entryHasNoSeverity(entry: OsvAffected): boolean {
  return entry.severity === undefined && entry.ecosystem_specific?.severity === undefined && entry.database_specific?.severity === undefined;
}
