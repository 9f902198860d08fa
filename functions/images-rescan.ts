import { requestRescan } from "../shared/usecases/images-api.js";
import type { HttpFunction } from "./declaration.js";
import { json } from "./http.js";
import type { Services } from "./services.js";
import { digestParam } from "./verdict.js";

/**
 * `POST /api/images/{digest}/rescan` (admin key): queues a `reindex` request (the layers are read
 * again). 202 once queued; the last verdict stays until the new result replaces it. 404 never
 * seen, 409 no location left to read it from, 422 not an image.
 */
export const imagesRescan: HttpFunction<Services> = {
  kind: "http",
  name: "imagesRescan",
  route: "api/images/{digest}/rescan",
  methods: ["POST"],
  key: "admin",
  handler: async (request, _context, services) => {
    const digest = digestParam(request.params.digest);
    const at = await requestRescan({ images: services.store.images, queues: services.queues, now: () => new Date() }, digest, "rescan asked through the API");
    return json(202, { queued: true, kind: "reindex", digest, ...at });
  }
};
