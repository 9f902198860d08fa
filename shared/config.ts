import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "./domain/errors.js";
import { parseRegistries, type RegistryConfig } from "./domain/registries.js";
import { DEFAULT_ECOSYSTEMS, DEFAULT_OSV_BASE_URL, DEFAULT_REDHAT_CPE_URL } from "./vulndb/defaults.js";

/**
 * Every setting scanhook reads, in one place: name, meaning, default and validation. Values come
 * from the environment (Azure app settings), then `local.settings.json` `Values` (the Functions
 * convention), then the default here. The README table, `local.settings.example.json` and the
 * Bicep app settings list the same names (a test keeps them in step).
 *
 * Not listed here, because their names are per function: `AzureWebJobs.<name>.Disabled`.
 */

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ["true", "false", "1", "0", "yes", "no"].includes(s), { message: "expected true or false" })
  .transform((s) => s === "true" || s === "1" || s === "yes");
const optionalText = z.string().trim().min(1).optional();
/** Secrets: long enough not to be guessed; the message never repeats the value. */
const secret = z
  .string()
  .trim()
  .min(24, { message: "too short: use at least 24 characters (npm start generates 43)" })
  .max(512, { message: "too long (512 characters at most)" })
  .optional();

interface Spec {
  readonly schema: z.ZodType;
  readonly default?: string;
  readonly description: string;
  readonly secret?: boolean;
}

function spec<S extends z.ZodType>(schema: S, description: string, extra: { default?: string; secret?: boolean } = {}) {
  return { schema, description, ...extra } satisfies Spec;
}

export const SETTINGS = {
  PORT: spec(port, "Port of the local host's HTTP server (`npm start`).", { default: "7071" }),
  SCANHOOK_DATA_DIR: spec(z.string().min(1), "Where `npm start` keeps its data: Azurite's files, the SQLite store, generated keys.", {
    default: ".scanhook"
  }),
  LOG_LEVEL: spec(z.enum(["debug", "info", "warn", "error"]), "Least severe log level written.", { default: "info" }),
  AzureWebJobsStorage: spec(
    optionalText,
    "Storage connection string for queues and blobs. Unset under `npm start`: the local host runs Azurite and uses it.",
    { secret: true }
  ),
  AzureWebJobsStorage__accountName: spec(
    optionalText,
    "Identity-based storage (Azure): the account name; queues and blobs are reached with the managed identity."
  ),
  AzureWebJobsStorage__clientId: spec(optionalText, "Identity-based storage: client id of a user-assigned managed identity."),
  AZURITE_BLOB_PORT: spec(port, "Blob port of the Azurite that `npm start` runs.", { default: "10000" }),
  AZURITE_QUEUE_PORT: spec(port, "Queue port of the Azurite that `npm start` runs.", { default: "10001" }),
  STORE: spec(z.enum(["sqlite", "cosmos"]), "Where image records live: `sqlite` (embedded, one file) or `cosmos` (Azure Cosmos DB).", {
    default: "sqlite"
  }),
  SQLITE_PATH: spec(optionalText, "SQLite database file. Defaults to `<SCANHOOK_DATA_DIR>/scanhook.sqlite`."),
  COSMOS_ENDPOINT: spec(z.url().optional(), "Cosmos DB account endpoint, e.g. `https://<account>.documents.azure.com:443/`."),
  COSMOS_KEY: spec(optionalText, "Cosmos DB account key. Unset: Entra ID (managed identity, `AZURE_CLIENT_ID` for a user-assigned one).", {
    secret: true
  }),
  COSMOS_DATABASE: spec(z.string().min(1), "Cosmos DB database name.", { default: "scanhook" }),
  COSMOS_CREATE_IF_MISSING: spec(bool, "Create the database and containers when missing (local use; in Azure, Bicep creates them).", {
    default: "false"
  }),
  AZURE_CLIENT_ID: spec(optionalText, "Client id of the user-assigned managed identity used for Cosmos DB and registries."),
  HTTP_MAX_BODY_BYTES: spec(positiveInt, "Largest request body any endpoint accepts; larger ones get 413.", { default: "1048576" }),
  MANIFEST_MAX_BYTES: spec(positiveInt, "Largest manifest or index scanhook reads from a registry (the OCI spec and ACR allow 4 MiB).", {
    default: "4194304"
  }),
  REGISTRIES: spec(z.string(), "Registries scanhook accepts events from and will contact: `host[,host…]` or JSON (see README).", {
    default: ""
  }),
  WEBHOOK_KEY: spec(secret, "Key registries send (`x-functions-key` or `code`).", { secret: true }),
  WEBHOOK_KEY_NEXT: spec(secret, "Second accepted webhook key, for rotation.", { secret: true }),
  READ_KEY: spec(secret, "Key for reading (dashboards, CLI, scripts).", { secret: true }),
  READ_KEY_NEXT: spec(secret, "Second accepted read key, for rotation.", { secret: true }),
  ADMIN_KEY: spec(secret, "Key for changing things (policy, rescans, backfill); also passes where a read key is asked.", {
    secret: true
  }),
  ADMIN_KEY_NEXT: spec(secret, "Second accepted admin key, for rotation.", { secret: true }),
  ADMISSION_SECRET: spec(secret, "Secret the Kubernetes API server and Gatekeeper send as the last path segment.", { secret: true }),
  ADMISSION_SECRET_NEXT: spec(secret, "Second accepted admission secret, for rotation.", { secret: true }),
  SCAN_MAX_LAYER_BYTES: spec(positiveInt, "Largest compressed layer the indexer reads; a bigger one fails the scan (`LAYER.TOO_LARGE`).", {
    default: "4294967296"
  }),
  SCAN_MAX_LAYER_UNCOMPRESSED_BYTES: spec(positiveInt, "Largest uncompressed layer (the decompression-bomb bound); more fails the scan.", {
    default: "17179869184"
  }),
  SCAN_MAX_ENTRIES: spec(positiveInt, "Most tar entries in one layer; more fails the scan (`LAYER.TOO_MANY_ENTRIES`).", { default: "500000" }),
  SCAN_MAX_PATH_BYTES: spec(positiveInt, "Longest path in a layer; longer fails the scan (`LAYER.PATH_TOO_LONG`).", { default: "4096" }),
  SCAN_MAX_FILE_BYTES: spec(positiveInt, "Largest file an analyzer reads (a package database); a bigger one is skipped with a warning.", {
    default: "268435456"
  }),
  SCAN_TIMEOUT_SECONDS: spec(positiveInt, "Longest a whole scan may take; then it ends as `timeout`.", { default: "900" }),
  SCAN_PLATFORMS: spec(
    z.string().regex(/^\s*([a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?\s*(,\s*[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?\s*)*)?$/, { message: "expected os/arch[/variant], comma-separated" }),
    "Platform manifests of an index to scan, `os/arch[/variant]` comma-separated; empty scans all.",
    { default: "" }
  ),
  SCAN_CACHE_DIR: spec(optionalText, "Per-layer cache of `scanhook sbom`. Defaults to `<SCANHOOK_DATA_DIR>/layer-cache`."),
  POLICY_LOCATION: spec(
    z.string().trim().regex(/^(|blob:[a-z0-9-]{3,63}\/.+|file:.+|[^:]+)$/, { message: "expected blob:<container>/<name>, file:<path> or a path" }),
    "Where the policy document lives: `blob:<container>/<name>` in the storage account, or `file:<path>`. Empty: `<SCANHOOK_DATA_DIR>/policy.yaml`.",
    { default: "" }
  ),
  POLICY_RELOAD_SECONDS: spec(z.coerce.number().int().min(1).max(3600), "How often each instance re-reads the policy document (in the background).", {
    default: "30"
  }),
  VERDICT_CACHE_SECONDS: spec(z.coerce.number().int().min(0).max(3600), "How long an instance serves a verdict from memory; 0 turns the cache off.", {
    default: "5"
  }),
  VERDICT_CACHE_MAX_ENTRIES: spec(z.coerce.number().int().min(0).max(10_000_000), "Most verdicts an instance keeps in memory.", { default: "100000" }),
  VERDICT_BATCH_MAX: spec(z.coerce.number().int().min(1).max(1000), "Most digests one `POST /api/verdicts/batch` may ask for.", { default: "100" }),
  VERDICT_SWEEP_MAX_RECORDS: spec(z.coerce.number().int().min(100).max(1_000_000), "Most records one run of the verdict sweep recomputes; the next run goes on from its saved cursor.", {
    default: "5000"
  }),
  VULNDB_SOURCE: spec(z.enum(["file", "blob"]), "Where the functions read the vulnerability DB: `file` (`VULNDB_PATH`) or `blob` (published in the storage account, downloaded once per version).", {
    default: "file"
  }),
  VULNDB_PATH: spec(optionalText, "The vulnerability DB file (with `blob`: the refresh's working copy; downloads are cached beside it). Defaults to `<SCANHOOK_DATA_DIR>/vulndb.sqlite`."),
  VULNDB_DOWNLOAD: spec(bool, "Build and refresh the DB from the OSV export (at start and hourly); `false` leaves the DB to `scanhook db`.", { default: "true" }),
  OSV_BASE_URL: spec(z.url(), "Base URL of the OSV export (`<base>/<ecosystem>/all.zip`, `modified_id.csv`), or a mirror of it.", { default: DEFAULT_OSV_BASE_URL }),
  OSV_ECOSYSTEMS: spec(
    z.string().trim().regex(/^[^,]+(,[^,]+)*$/, { message: "expected ecosystem names, comma-separated" }),
    "OSV export ecosystems the refresh downloads, comma-separated.",
    { default: DEFAULT_ECOSYSTEMS.join(",") }
  ),
  REDHAT_CPE_URL: spec(z.union([z.literal("none"), z.url()]), "Red Hat's repository-to-cpe.json (content set → CPE) the refresh downloads; `none` skips it (Red Hat images are then a coverage gap).", {
    default: DEFAULT_REDHAT_CPE_URL
  }),
  VULNDB_REMATCH_MAX_RECORDS: spec(z.coerce.number().int().min(100).max(1_000_000), "Most records one run examines when queueing never-matched records for a rematch; the next run goes on from its saved cursor.", {
    default: "5000"
  })
} as const;

export type SettingName = keyof typeof SETTINGS;
type Parsed<N extends SettingName> = z.output<(typeof SETTINGS)[N]["schema"]>;
export type Settings = { readonly [N in SettingName]: Parsed<N> } & {
  /** `REGISTRIES`, parsed. */
  readonly registries: readonly RegistryConfig[];
  /** Functions switched off with `AzureWebJobs.<name>.Disabled`. */
  readonly disabledFunctions: ReadonlySet<string>;
};

export type SettingsSource = Readonly<Record<string, string | undefined>>;

/** `Values` of a `local.settings.json` (the Functions convention); absent file → empty. */
export function readLocalSettings(dir: string): SettingsSource {
  const file = resolve(dir, "local.settings.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  const parsed = z
    .object({ Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional() })
    .safeParse(JSON.parse(text));
  if (!parsed.success) throw new ConfigError([`${file}: "Values" must be an object of strings`]);
  return Object.fromEntries(Object.entries(parsed.data.Values ?? {}).map(([k, v]) => [k, String(v)]));
}

const DISABLED = /^AzureWebJobs(?:\.|__)(.+?)(?:\.|__)Disabled$/;

/**
 * Reads and validates every setting. Throws one {@link ConfigError} listing every bad setting by
 * name (never echoing a secret's value).
 */
export function loadSettings(sources: readonly SettingsSource[]): Settings {
  const merged: Record<string, string | undefined> = {};
  for (const source of [...sources].reverse()) {
    for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== "") merged[k] = v;
  }
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, Spec][]) {
    const raw = merged[name] ?? s.default;
    const parsed = s.schema.safeParse(raw);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const shown = s.secret === true || raw === undefined ? "" : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${name}: ${parsed.error.issues[0]?.message ?? "invalid"}${shown}`);
    }
  }
  const registries = parseRegistries(typeof out.REGISTRIES === "string" ? out.REGISTRIES : "");
  if (!registries.ok) problems.push(`REGISTRIES: ${registries.error}`);
  if (out.STORE === "cosmos" && out.COSMOS_ENDPOINT === undefined) problems.push("COSMOS_ENDPOINT: required when STORE is cosmos");
  const disabled = new Set<string>();
  for (const [k, v] of Object.entries(merged)) {
    const m = DISABLED.exec(k);
    if (m?.[1] !== undefined && v !== undefined && ["true", "1"].includes(v.trim().toLowerCase())) disabled.add(m[1]);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...(out as { [N in SettingName]: Parsed<N> }), registries: registries.ok ? registries.value : [], disabledFunctions: disabled };
}

/** The settings of this process: environment first, then `local.settings.json` in `cwd`. */
export function loadProcessSettings(cwd = process.cwd(), env: SettingsSource = process.env): Settings {
  return loadSettings([env, readLocalSettings(cwd)]);
}

/** A function is switched off by `AzureWebJobs.<name>.Disabled` = true, as the Functions host does. */
export function isFunctionDisabled(settings: Settings, name: string): boolean {
  return settings.disabledFunctions.has(name);
}
