import { ScanhookError } from "../shared/domain/errors.js";
import { getSbom } from "../shared/usecases/images-api.js";
import type { HttpFunction } from "./declaration.js";
import type { Services } from "./services.js";
import { digestParam } from "./verdict.js";

/**
 * `GET /api/images/{digest}/sbom?format=cyclonedx|spdx` (read key): the stored SBOM (CycloneDX,
 * the canonical one, by default) or its SPDX 2.3 rendering; 404 with the reason when none is
 * stored yet.
 */
export const imagesSbom: HttpFunction<Services> = {
  kind: "http",
  name: "imagesSbom",
  route: "api/images/{digest}/sbom",
  methods: ["GET"],
  key: "read",
  handler: async (request, _context, services) => {
    const digest = digestParam(request.params.digest);
    const format = request.query.get("format") ?? "cyclonedx";
    if (format !== "cyclonedx" && format !== "spdx") {
      throw new ScanhookError("REQUEST.INVALID", "format: cyclonedx or spdx", { status: 400, meta: { field: "format" } });
    }
    const blob = await getSbom(services.store.images, services.blobs, digest, format);
    // Not immutable: a reindex (a newer analyzer) replaces a digest's SBOM.
    return { status: 200, headers: { "content-type": blob.mediaType, "cache-control": "private, max-age=60" }, body: new Uint8Array(blob.bytes) };
  }
};
