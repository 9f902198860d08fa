import { z } from "zod";
import { isDigest, type Digest } from "./digest.js";
import { ScanRequestKindSchema } from "./image-record.js";

/**
 * A message on `scan-requests` (DESIGN principle 7): index this digest, found at this location.
 * `index` is skipped when the last result used the current analyzer versions; `reindex` is forced.
 */
export const ScanRequestSchema = z
  .object({
    kind: ScanRequestKindSchema,
    digest: z.custom<Digest>(isDigest, { error: "expected a sha256:<64 hex> digest" }),
    registry: z.string().min(1).max(260),
    repository: z.string().min(1).max(512),
    tag: z.string().min(1).max(128).optional(),
    /** What asked: the event source and id, a platform's parent index, a resume at start… */
    cause: z.string().min(1).max(300),
    requestedAt: z.iso.datetime({ offset: true })
  })
  .strict();

export type ScanRequest = z.infer<typeof ScanRequestSchema>;
