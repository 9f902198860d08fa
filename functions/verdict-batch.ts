import { z } from "zod";
import { isDigest, type Digest } from "../shared/domain/digest.js";
import { describeError, isScanhookError, ScanhookError } from "../shared/domain/errors.js";
import { getVerdict } from "../shared/usecases/verdicts.js";
import type { HttpFunction } from "./declaration.js";
import { json, readJson } from "./http.js";
import type { Services } from "./services.js";
import { platformParam, referenceParam, verdictDeps } from "./verdict.js";

const ItemSchema = z
  .object({
    digest: z.string().refine(isDigest, { message: "expected sha256:<64 lowercase hex>" }),
    reference: z.string().min(1).max(1024).optional(),
    platform: z.string().min(1).max(100).optional()
  })
  .strict();
const BodySchema = z.union([z.object({ items: z.array(ItemSchema).min(1) }).strict(), z.object({ digests: z.array(z.string()).min(1) }).strict()]);

/**
 * `POST /api/verdicts/batch` (read key): `{ items: [{ digest, reference?, platform? }] }` or
 * `{ digests: [...] }`, at most `VERDICT_BATCH_MAX`. 200 `{ results: [{ digest, status, body }] }`
 * where each `status`/`body` is what `GET /api/verdicts/{digest}` would answer (400 for an item
 * that is malformed). 400 naming the field for a malformed request or too many items.
 */
export const verdictBatch: HttpFunction<Services> = {
  kind: "http",
  name: "verdictBatch",
  route: "api/verdicts/batch",
  methods: ["POST"],
  key: "read",
  handler: async (request, context, services) => {
    const raw = await readJson(request, services.settings.HTTP_MAX_BODY_BYTES);
    const max = services.settings.VERDICT_BATCH_MAX;
    const count = typeof raw === "object" && raw !== null ? ((raw as { items?: unknown[]; digests?: unknown[] }).items ?? (raw as { digests?: unknown[] }).digests) : undefined;
    if (Array.isArray(count) && count.length > max) {
      const field = "items" in (raw as object) ? "items" : "digests";
      throw new ScanhookError("REQUEST.TOO_MANY", `${field}: at most ${max} per batch (VERDICT_BATCH_MAX), got ${count.length}`, { status: 400, meta: { field } });
    }
    const parsed = BodySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue === undefined || issue.path.length === 0 ? "(body)" : issue.path.map(String).join(".");
      throw new ScanhookError("REQUEST.INVALID", `${field}: ${issue?.message ?? "invalid"}; expected { items: [{ digest, reference?, platform? }] } or { digests: [...] }`, {
        status: 400,
        meta: { field }
      });
    }
    const items: { digest: string; reference?: string | undefined; platform?: string | undefined }[] =
      "items" in parsed.data ? parsed.data.items : parsed.data.digests.map((digest) => ({ digest }));
    const deps = verdictDeps(services);
    const results = await Promise.all(
      items.map(async (item, i) => {
        try {
          if (!isDigest(item.digest)) throw new ScanhookError("REQUEST.INVALID", `digests.${i}: expected sha256:<64 lowercase hex>`, { status: 400 });
          const digest: Digest = item.digest;
          const reference = referenceParam(item.reference, digest);
          const platform = platformParam(item.platform);
          const answer = await getVerdict(deps, { digest, ...(reference === undefined ? {} : { reference }), ...(platform === undefined ? {} : { platform }) });
          return { digest, status: answer.status, body: JSON.parse(answer.body) as unknown };
        } catch (e) {
          if (isScanhookError(e) && e.status !== undefined && e.status < 500) {
            return { digest: item.digest, status: e.status, body: { error: { code: e.code, message: e.message } } };
          }
          context.error(`verdict batch: ${item.digest}: ${describeError(e)}`);
          throw e;
        }
      })
    );
    return json(200, { results });
  }
};
