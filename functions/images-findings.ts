import { getResult } from "../shared/usecases/images-api.js";
import type { HttpFunction } from "./declaration.js";
import { json } from "./http.js";
import type { Services } from "./services.js";
import { digestParam } from "./verdict.js";

/**
 * `GET /api/images/{digest}/findings` (read key): the compact findings index of the last result,
 * with its coverage gaps and the DB version and time of the match; 404 with the reason when there
 * is no result (never seen, not scanned yet, an index or an artifact).
 */
export const imagesFindings: HttpFunction<Services> = {
  kind: "http",
  name: "imagesFindings",
  route: "api/images/{digest}/findings",
  methods: ["GET"],
  key: "read",
  handler: async (request, _context, services) => {
    const { record, result } = await getResult(services.store.images, digestParam(request.params.digest));
    return json(200, {
      digest: record.id,
      findings: result.findings,
      coverageGaps: result.coverageGaps,
      dbVersion: result.dbVersion,
      matchedAt: result.matchedAt,
      indexedAt: result.indexedAt
    });
  }
};
