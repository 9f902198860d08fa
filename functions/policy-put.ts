import { POLICY_LIMITS } from "../shared/domain/policy.js";
import { InvalidPolicyError } from "../shared/usecases/verdicts-policy.js";
import type { HttpFunction } from "./declaration.js";
import { json, readBody } from "./http.js";
import type { Services } from "./services.js";

/**
 * `PUT /api/policy` (admin key): stores a new policy document (YAML or JSON) where
 * `POLICY_LOCATION` says. 200 with the new version, effective at once on this instance and
 * within `POLICY_RELOAD_SECONDS` on the others; verdicts follow with no rescan (on read, and the
 * sweep rewrites the cached ones). 400 with every problem (line, column, field); nothing is stored.
 */
export const policyPut: HttpFunction<Services> = {
  kind: "http",
  name: "policyPut",
  route: "api/policy",
  methods: ["PUT"],
  key: "admin",
  handler: async (request, context, services) => {
    const body = await readBody(request, Math.min(services.settings.HTTP_MAX_BODY_BYTES, POLICY_LIMITS.bytes));
    try {
      const previous = (await services.policy.current()).policy.version;
      const active = await services.policy.put(body.toString("utf8"));
      context.info(`policy ${previous} → ${active.policy.version}`);
      return json(200, { version: active.policy.version, previous, source: active.source });
    } catch (e) {
      if (e instanceof InvalidPolicyError && e.status === 400) return json(400, { error: { code: e.code, message: e.message, problems: e.problems } });
      throw e;
    }
  }
};
