import { z } from "zod";

/**
 * The registries scanhook accepts events from and will contact (setting `REGISTRIES`), each with
 * the attributes DESIGN principle 8 names. Two spellings:
 *
 * - compact, for the common case: `host[,host…]`. `http://host:port` allows plain HTTP for that
 *   host; `*.azurecr.io` (and the sovereign clouds' suffixes) is an ACR registry reached with a
 *   managed identity, anything else an OCI registry reached anonymously.
 * - JSON, for the rest: an array of objects with the fields of {@link registrySchema}.
 *
 * A host is `name[:port]`, lowercase, no scheme or path. Loopback registries (`127.0.0.1:5000`)
 * are contacted only when listed like any other.
 */

const HOST = /^(?=.{1,253}(?::\d{1,5})?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;
const ACR_SUFFIXES = [".azurecr.io", ".azurecr.cn", ".azurecr.us"];

const hostSchema = z
  .string()
  .transform((h) => h.trim().toLowerCase())
  .refine((h) => HOST.test(h), { message: "a registry host is name[:port], without scheme or path" })
  .refine((h) => {
    const port = h.split(":")[1];
    return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  }, { message: "port out of range" });

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");

export const credentialSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("none") }).strict(),
  /** Username and password read from the two named environment variables at the moment of use. */
  z.object({ type: z.literal("env"), usernameVar: envVarName, passwordVar: envVarName }).strict(),
  /** `auths` entries and credential helpers' stored entries of a Docker config file. */
  z.object({ type: z.literal("docker-config"), path: z.string().min(1).optional() }).strict(),
  /** Entra ID token exchange (ACR); `clientId` picks a user-assigned identity. */
  z.object({ type: z.literal("managed-identity"), clientId: z.string().min(1).optional() }).strict(),
  /**
   * A Key Vault secret holding the password (or an ACR token's password). The name is an
   * attribute because Key Vault secret names cannot hold `.` or `:`, so it cannot be derived
   * from the host.
   */
  z
    .object({
      type: z.literal("key-vault"),
      vaultUrl: z.url({ protocol: /^https$/ }),
      secretName: z.string().regex(/^[0-9A-Za-z-]{1,127}$/, "Key Vault secret names are 1-127 letters, digits and '-'"),
      username: z.string().min(1)
    })
    .strict()
]);

export const registrySchema = z
  .object({
    host: hostSchema,
    kind: z.enum(["acr", "oci"]).optional(),
    plainHttp: z.boolean().default(false),
    credential: credentialSchema.optional(),
    /**
     * The account scanhook's own pulls appear under at this registry (an ACR token or user name,
     * the managed identity's principal). Pull events from it are ignored, like those carrying
     * scanhook's user agent, or rescans would keep every image "recently pulled" forever.
     */
    pullIdentity: z.string().min(1).optional()
  })
  .strict();

export type RegistryCredential = z.infer<typeof credentialSchema>;

export interface RegistryConfig {
  readonly host: string;
  readonly kind: "acr" | "oci";
  readonly plainHttp: boolean;
  readonly credential: RegistryCredential;
  readonly pullIdentity?: string;
}

export function isAcrHost(host: string): boolean {
  const name = host.split(":")[0] ?? host;
  return ACR_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

function complete(entry: z.infer<typeof registrySchema>): RegistryConfig {
  const kind = entry.kind ?? (isAcrHost(entry.host) ? "acr" : "oci");
  const credential: RegistryCredential = entry.credential ?? (kind === "acr" ? { type: "managed-identity" } : { type: "none" });
  return {
    host: entry.host,
    kind,
    plainHttp: entry.plainHttp,
    credential,
    ...(entry.pullIdentity === undefined ? {} : { pullIdentity: entry.pullIdentity })
  };
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses the `REGISTRIES` setting; an empty value is an empty list (no registry is trusted). */
export function parseRegistries(raw: string): ParseResult<RegistryConfig[]> {
  const text = raw.trim();
  if (text === "") return { ok: true, value: [] };
  let entries: unknown[];
  if (text.startsWith("[") || text.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return { ok: false, error: `not valid JSON (${(e as Error).message})` };
    }
    if (!Array.isArray(json)) return { ok: false, error: "JSON form must be an array of registry objects" };
    entries = json;
  } else {
    entries = text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map((s) => {
        const plain = /^http:\/\//i.test(s);
        const host = s.replace(/^https?:\/\//i, "").replace(/\/+$/, "");
        return { host, plainHttp: plain };
      });
  }
  const out: RegistryConfig[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const parsed = registrySchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `.${issue.path.join(".")}` : "";
      const host = typeof entry === "object" && entry !== null && "host" in entry ? ` (${String(entry.host)})` : "";
      return { ok: false, error: `entry ${i + 1}${host}${where}: ${issue?.message ?? "invalid"}` };
    }
    const config = complete(parsed.data);
    if (seen.has(config.host)) return { ok: false, error: `registry ${config.host} is listed twice` };
    seen.add(config.host);
    out.push(config);
  }
  return { ok: true, value: out };
}

/** The registry entry for a host, matched case-insensitively; undefined when not listed. */
export function findRegistry(registries: readonly RegistryConfig[], host: string): RegistryConfig | undefined {
  const wanted = host.trim().toLowerCase();
  return registries.find((r) => r.host === wanted);
}
