import type { HttpFunction } from "./declaration.js";
import { json } from "./http.js";
import type { Services } from "./services.js";

/**
 * `GET /api/policy` (read key): the active policy's version, where it is stored, the stored text
 * (absent when none is stored and the built-in defaults apply) and the document as parsed.
 */
export const policyGet: HttpFunction<Services> = {
  kind: "http",
  name: "policyGet",
  route: "api/policy",
  methods: ["GET"],
  key: "read",
  handler: async (_request, _context, services) => {
    const active = await services.policy.current();
    return json(200, {
      version: active.policy.version,
      source: active.source,
      loadedAt: active.loadedAt,
      builtInDefaults: active.text === undefined,
      ...(active.text === undefined ? {} : { text: active.text }),
      document: active.policy.document
    });
  }
};
