import { sweepVerdicts } from "../shared/usecases/verdicts-sweep.js";
import type { TimerFunction } from "./declaration.js";
import type { Services } from "./services.js";

/**
 * Every two minutes: one slice (`VERDICT_SWEEP_MAX_RECORDS`) of the verdict sweep, from the cursor
 * saved in the store, so cached verdicts follow a policy change or a passed `validUntil` within
 * minutes and `GET /api/stats` has its counts.
 */
export const verdictSweep: TimerFunction<Services> = {
  kind: "timer",
  name: "verdictSweep",
  schedule: "0 */2 * * * *",
  handler: async (_timer, context, services) => {
    const outcome = await sweepVerdicts({
      images: services.store.images,
      state: services.store.state,
      policy: async () => (await services.policy.current()).policy,
      now: () => new Date(),
      maxRecords: services.settings.VERDICT_SWEEP_MAX_RECORDS,
      log: (m) => context.warn(m)
    });
    context.info(`verdict sweep (${outcome.policyVersion}): ${outcome.examined} examined, ${outcome.written} written${outcome.passCompleted ? ", pass complete" : ""}`);
  }
};
