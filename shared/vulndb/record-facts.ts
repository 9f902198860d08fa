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
