import { getImageRecord } from "../shared/usecases/images-api.js";
import type { HttpFunction } from "./declaration.js";
import { json } from "./http.js";
import type { Services } from "./services.js";
import { digestParam } from "./verdict.js";

/** `GET /api/images/{digest}` (read key): the whole record (scan state apart from the last result); 404 when never seen. */
export const imagesGet: HttpFunction<Services> = {
  kind: "http",
  name: "imagesGet",
  route: "api/images/{digest}",
  methods: ["GET"],
  key: "read",
  handler: async (request, _context, services) => {
    const record = await getImageRecord(services.store.images, digestParam(request.params.digest));
    // The lease names an instance: internal, and of no use to a caller.
    const { lease: _lease, ...scan } = record.scan;
    return json(200, { ...record, scan });
  }
};
