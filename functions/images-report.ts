import { ScanhookError } from "../shared/domain/errors.js";
import { getSarifReport } from "../shared/usecases/images-api.js";
import type { HttpFunction } from "./declaration.js";
import type { Services } from "./services.js";
import { digestParam } from "./verdict.js";

/**
 * `GET /api/images/{digest}/report?format=sarif` (read key): the stored SBOM's full findings against
 * the current DB as SARIF 2.1.0, made on request; 404 with the reason until the digest has a result
 * and its SBOM, 503 while there is no DB.
 */
export const imagesReport: HttpFunction<Services> = {
  kind: "http",
  name: "imagesReport",
  route: "api/images/{digest}/report",
  methods: ["GET"],
  key: "read",
  handler: async (request, _context, services) => {
    const digest = digestParam(request.params.digest);
    const format = request.query.get("format") ?? "sarif";
    if (format !== "sarif") throw new ScanhookError("REQUEST.INVALID", "format: sarif", { status: 400, meta: { field: "format" } });
    const blob = await getSarifReport({ images: services.store.images, blobs: services.blobs, matcher: () => services.vulndb.matcher(), now: () => new Date() }, digest);
    return { status: 200, headers: { "content-type": blob.mediaType, "cache-control": "no-cache" }, body: new Uint8Array(blob.bytes) };
  }
};
