import { parsePolicy, POLICY_LIMITS } from "../shared/domain/policy.js";
import type { HttpFunction } from "./declaration.js";
import { json, readBody } from "./http.js";
import type { Services } from "./services.js";

/**
 * `POST /api/policy/validate` (read key; it changes nothing): the body is a policy document
 * (YAML or JSON). 200 `{ valid: true, version }` or `{ valid: false, problems: [{ line, column,
 * field, message }] }`; 413 over the size limit.
 */
export const policyValidate: HttpFunction<Services> = {
  kind: "http",
  name: "policyValidate",
  route: "api/policy/validate",
  methods: ["POST"],
  key: "read",
  handler: async (request, _context, services) => {
    const body = await readBody(request, Math.min(services.settings.HTTP_MAX_BODY_BYTES, POLICY_LIMITS.bytes));
    const parsed = parsePolicy(body.toString("utf8"));
    return json(200, parsed.ok ? { valid: true, version: parsed.policy.version } : { valid: false, problems: parsed.problems });
  }
};
