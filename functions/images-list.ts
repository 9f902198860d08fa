import { ScanStateSchema, VerdictSchema } from "../shared/domain/image-record.js";
import { ScanhookError } from "../shared/domain/errors.js";
import { DEFAULT_PAGE_SIZE, listImageSummaries, MAX_PAGE_SIZE } from "../shared/usecases/images-api.js";
import type { HttpFunction } from "./declaration.js";
import { json } from "./http.js";
import type { Services } from "./services.js";

/** Longest continuation token accepted back (Cosmos DB's are a few hundred bytes). */
const MAX_CONTINUATION = 8192;

function bad(field: string, message: string): ScanhookError {
  return new ScanhookError("REQUEST.INVALID", `${field}: ${message}`, { status: 400, meta: { field } });
}

/**
 * `GET /api/images?registry=&repository=&scanState=&verdict=&pulledSince=&limit=&continuation=`
 * (read key): one page of image summaries; `continuation` in the answer asks for the next page
 * with the same filters. `verdict` filters by the verdict cached on the record (the sweep keeps
 * it current within minutes of a policy change).
 */
export const imagesList: HttpFunction<Services> = {
  kind: "http",
  name: "imagesList",
  route: "api/images",
  methods: ["GET"],
  key: "read",
  handler: async (request, _context, services) => {
    const q = request.query;
    const registry = q.get("registry") ?? undefined;
    const repository = q.get("repository") ?? undefined;
    if ((registry === undefined) !== (repository === undefined)) throw bad(registry === undefined ? "registry" : "repository", "registry and repository go together (a location is both)");
    const scanState = q.get("scanState") ?? undefined;
    if (scanState !== undefined && !ScanStateSchema.safeParse(scanState).success) throw bad("scanState", `one of ${ScanStateSchema.options.join(", ")}`);
    const verdict = q.get("verdict") ?? undefined;
    if (verdict !== undefined && !VerdictSchema.safeParse(verdict).success) throw bad("verdict", "one of allow, warn, deny");
    const pulledSinceText = q.get("pulledSince") ?? undefined;
    const pulledSince = pulledSinceText === undefined ? undefined : new Date(pulledSinceText);
    if (pulledSince !== undefined && (Number.isNaN(pulledSince.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(pulledSinceText ?? ""))) throw bad("pulledSince", "an ISO-8601 time");
    const limitText = q.get("limit") ?? String(DEFAULT_PAGE_SIZE);
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw bad("limit", `an integer 1–${MAX_PAGE_SIZE}`);
    const continuation = q.get("continuation") ?? undefined;
    if (continuation !== undefined && continuation.length > MAX_CONTINUATION) throw bad("continuation", "too long");
    const policy = (await services.policy.current()).policy;
    try {
      const page = await listImageSummaries(
        services.store.images,
        policy,
        {
          ...(registry !== undefined && repository !== undefined ? { location: { registry, repository } } : {}),
          ...(scanState === undefined ? {} : { scanState: ScanStateSchema.parse(scanState) }),
          ...(verdict === undefined ? {} : { verdict: VerdictSchema.parse(verdict) }),
          ...(pulledSince === undefined ? {} : { pulledSince }),
          limit,
          ...(continuation === undefined ? {} : { continuation })
        },
        new Date()
      );
      return json(200, page);
    } catch (e) {
      // A token from another listing, or one the store no longer honours.
      if (continuation !== undefined && !(e instanceof ScanhookError && e.status !== undefined)) throw bad("continuation", "not a token this listing gave out");
      throw e;
    }
  }
};
