import { ScanhookError } from "../shared/domain/errors.js";
import { getSarifReport } from "../shared/usecases/images-api.js";
import type { HttpFunction } from "./declaration.js";
import type { Services } from "./services.js";
import { digestParam } from "./verdict.js";

/** `GET /api/images/{digest}/report?format=sarif` (read key): the last match's full findings as SARIF 2.1.0; 404 with the reason when none is stored yet. */
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
    const blob = await getSarifReport(services.store.images, services.blobs, digest);
    return { status: 200, headers: { "content-type": blob.mediaType, "cache-control": "no-cache" }, body: new Uint8Array(blob.bytes) };
  }
};
