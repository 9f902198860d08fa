/**
 * The verdict sweep (issue 10): walks every record in pages, recomputes its verdict under the
 * active policy and writes back the ones that no longer hold (a policy change, a `validUntil`
 * passed, a new match, a location gone), so lists and counts by verdict are right within minutes.
 * Each run does at most `maxRecords` and saves its cursor in the `state` container; a new policy
 * version starts a new pass. A finished pass leaves its counts in `state` for `GET /api/stats`,
 * which therefore never reads every record itself.
 */
import { z } from "zod";
import { describeError } from "../domain/errors.js";
import type { ImageRecord, ScanState, Severity } from "../domain/image-record.js";
import { SCAN_STATES, SeveritySchema } from "../domain/image-record.js";
import type { Policy } from "../domain/policy.js";
import { listImages } from "../store/image-queries.js";
import type { Container, JsonDocument } from "../store/port.js";
import { readPassCursor, runPagedPass } from "./paged-pass.js";
import { completeSubject, decideSubject, refreshCachedVerdict } from "./verdicts.js";

export const SWEEP_CURSOR_ID = "verdict-sweep";
export const STATS_ID = "stats";

const counts = <K extends string>(keys: readonly K[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.int().nonnegative()])) as Record<K, z.ZodInt>);
export const VERDICT_BUCKETS = ["allow", "warn", "deny", "pending", "notAnImage"] as const;
export type VerdictBucket = (typeof VERDICT_BUCKETS)[number];

const TalliesSchema = z.object({
  images: z.int().nonnegative(),
  byVerdict: counts(VERDICT_BUCKETS),
  byScanState: counts(SCAN_STATES),
  findingsBySeverity: counts(SeveritySchema.options)
});
export type Tallies = z.infer<typeof TalliesSchema>;

const CursorSchema = z.object({
  id: z.literal(SWEEP_CURSOR_ID),
  policyVersion: z.string(),
  continuation: z.string().optional(),
  passStartedAt: z.string(),
  tallies: TalliesSchema
});
type Cursor = z.infer<typeof CursorSchema>;

export const StatsDocumentSchema = z.object({
  id: z.literal(STATS_ID),
  policyVersion: z.string(),
  passStartedAt: z.string(),
  completedAt: z.string(),
  tallies: TalliesSchema
});
export type StatsDocument = z.infer<typeof StatsDocumentSchema>;

export function emptyTallies(): Tallies {
  const zero = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  return { images: 0, byVerdict: zero(VERDICT_BUCKETS), byScanState: zero(SCAN_STATES), findingsBySeverity: zero(SeveritySchema.options) };
}

export interface SweepDeps {
  readonly images: Container<ImageRecord>;
  readonly state: Container<JsonDocument>;
  readonly policy: () => Promise<Policy>;
  readonly now: () => Date;
  readonly maxRecords: number;
  readonly log?: (message: string) => void;
}

export interface SweepOutcome {
  readonly examined: number;
  readonly written: number;
  /** Whether this run finished a pass (and wrote the stats). */
  readonly passCompleted: boolean;
  readonly policyVersion: string;
}

function tally(t: Tallies, subjectVerdict: VerdictBucket, state: ScanState, record: ImageRecord): void {
  t.images++;
  t.byVerdict[subjectVerdict]++;
  t.byScanState[state]++;
  for (const f of record.result?.findings ?? []) t.findingsBySeverity[f.severity as Severity]++;
}

/** Runs one slice of the sweep: at most `maxRecords` records from the saved cursor on. */
export async function sweepVerdicts(deps: SweepDeps): Promise<SweepOutcome> {
  const policy = await deps.policy();
  const newPass = (): Cursor => ({ id: SWEEP_CURSOR_ID, policyVersion: policy.version, passStartedAt: deps.now().toISOString(), tallies: emptyTallies() });
  const saved = await readPassCursor(deps.state, SWEEP_CURSOR_ID, CursorSchema);
  let written = 0;
  const outcome = await runPagedPass({
    name: "verdict sweep",
    state: deps.state,
    // A new policy: every record is judged again from the start.
    cursor: saved === undefined || saved.policyVersion !== policy.version ? newPass() : saved,
    list: (page) => listImages(deps.images, {}, page),
    maxRecords: deps.maxRecords,
    visit: async (record, cursor) => {
      const now = deps.now();
      try {
        const subject = await completeSubject(deps.images, record);
        if (await refreshCachedVerdict(deps.images, policy, subject, now)) written++;
        const decision = decideSubject(policy, subject, now);
        const bucket: VerdictBucket = decision.status === "verdict" ? decision.evaluation.verdict : decision.status === "pending" ? "pending" : "notAnImage";
        tally(cursor.tallies, bucket, record.scan.state, record);
      } catch (e) {
        deps.log?.(`verdict sweep: ${record.id} skipped this pass: ${describeError(e)}`);
      }
    },
    restart: newPass,
    finish: async (cursor) => {
      const stats: StatsDocument = { id: STATS_ID, policyVersion: policy.version, passStartedAt: cursor.passStartedAt, completedAt: deps.now().toISOString(), tallies: cursor.tallies };
      await deps.state.upsert(stats);
      return newPass();
    },
    log: deps.log
  });
  return { examined: outcome.examined, written, passCompleted: outcome.finished, policyVersion: policy.version };
}

/** The counts of the last finished pass, or undefined before the first one finishes. */
export async function readStats(state: Container<JsonDocument>): Promise<StatsDocument | undefined> {
  const parsed = StatsDocumentSchema.safeParse((await state.get(STATS_ID))?.doc);
  return parsed.success ? parsed.data : undefined;
}
