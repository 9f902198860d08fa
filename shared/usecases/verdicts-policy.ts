/**
 * Where the policy lives and how each instance keeps its copy current: a file locally, a blob in
 * Azure (`POLICY_LOCATION`). The verdict path never reads it: it asks `current()`, which answers
 * from memory and, once the copy is older than the reload interval, re-reads the document in the
 * background (a changed document is a new version; an invalid one is logged and the last good
 * one kept, so a bad edit by hand cannot turn every verdict into an error).
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { randomUUID } from "node:crypto";
import type { BlobStore } from "../blobs/blobs.js";
import { describeError, ScanhookError } from "../domain/errors.js";
import { defaultPolicy, parsePolicy, type Policy, type PolicyProblem } from "../domain/policy.js";

/** The stored document: its text, or undefined when none is stored (the built-in defaults apply). */
export interface PolicySource {
  /** `file:<path>` or `blob:<container>/<name>`, for messages. */
  readonly describe: string;
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

export function filePolicySource(path: string): PolicySource {
  return {
    describe: `file:${path}`,
    async read() {
      try {
        return await readFile(path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    async write(text) {
      await mkdir(dirname(path), { recursive: true });
      // Renamed into place, so a reader (another process, an editor) never sees half a policy.
      const tmp = `${path}.${randomUUID()}.tmp`;
      await writeFile(tmp, text, "utf8");
      await rename(tmp, path);
    }
  };
}

export function blobPolicySource(blobs: BlobStore, container: string, name: string): PolicySource {
  return {
    describe: `blob:${container}/${name}`,
    async read() {
      return (await blobs.get(container, name))?.toString("utf8");
    },
    async write(text) {
      await blobs.put(container, name, Buffer.from(text, "utf8"), { contentType: "application/yaml" });
    }
  };
}

/**
 * `POLICY_LOCATION` → a source: `blob:<container>/<name>`, `file:<path>` or a bare path; empty
 * means `<dataDir>/policy.yaml`.
 */
export function policySourceFrom(location: string | undefined, dataDir: string, blobs: BlobStore): PolicySource {
  const value = location?.trim() ?? "";
  if (value === "") return filePolicySource(resolve(dataDir, "policy.yaml"));
  if (value.startsWith("blob:")) {
    const rest = value.slice("blob:".length);
    const slash = rest.indexOf("/");
    if (slash <= 0 || slash === rest.length - 1) throw new ScanhookError("CONFIG.INVALID", "POLICY_LOCATION: expected blob:<container>/<name>");
    return blobPolicySource(blobs, rest.slice(0, slash), rest.slice(slash + 1));
  }
  return filePolicySource(resolve(value.startsWith("file:") ? value.slice("file:".length) : value));
}

export interface ActivePolicy {
  readonly policy: Policy;
  /** The stored text, or undefined when none is stored and the built-in defaults apply. */
  readonly text: string | undefined;
  readonly source: string;
  readonly loadedAt: string;
}

export class InvalidPolicyError extends ScanhookError {
  readonly problems: readonly PolicyProblem[];
  constructor(problems: readonly PolicyProblem[], status: number) {
    const first = problems[0];
    super(
      "POLICY.INVALID",
      `the policy is invalid: ${first === undefined ? "" : `${first.field}${first.line === undefined ? "" : ` (line ${first.line})`}: ${first.message}`}`,
      { status, meta: { problems } }
    );
    this.name = "InvalidPolicyError";
    this.problems = problems;
  }
}

export interface PolicyProviderOptions {
  /** How old the in-memory copy may get before it is re-read in the background. */
  readonly reloadMs: number;
  readonly now?: () => number;
  readonly onError?: (message: string) => void;
}

export class PolicyProvider {
  private active: ActivePolicy | undefined;
  private loading: Promise<ActivePolicy> | undefined;
  private checkedAt = 0;
  private readonly listeners = new Set<(p: ActivePolicy) => void>();

  constructor(
    private readonly source: PolicySource,
    private readonly options: PolicyProviderOptions
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Called with each new version this instance loads or stores. */
  onChange(listener: (p: ActivePolicy) => void): void {
    this.listeners.add(listener);
  }

  /**
   * The active policy. The first call reads the document; later calls answer from memory and
   * start a background re-read once the copy is older than `reloadMs`.
   */
  async current(): Promise<ActivePolicy> {
    const active = this.active;
    if (active === undefined) return this.reload();
    if (this.now() - this.checkedAt >= this.options.reloadMs && this.loading === undefined) {
      this.reload().catch((e: unknown) => this.options.onError?.(`policy reload from ${this.source.describe} failed, keeping ${active.policy.version}: ${describeError(e)}`));
    }
    return active;
  }

  /** Reads the document now (a stored invalid document keeps the last good one, or fails the first load with 503). */
  reload(): Promise<ActivePolicy> {
    this.loading ??= (async () => {
      try {
        const text = await this.source.read();
        this.checkedAt = this.now();
        const parsed = text === undefined ? { ok: true as const, policy: defaultPolicy() } : parsePolicy(text);
        if (!parsed.ok) {
          if (this.active !== undefined) {
            this.options.onError?.(`the stored policy at ${this.source.describe} is invalid, keeping ${this.active.policy.version}: ${parsed.problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`);
            return this.active;
          }
          throw new InvalidPolicyError(parsed.problems, 503);
        }
        return this.install(parsed.policy, text);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Validates and stores a new document; 400 with every problem when it is invalid. */
  async put(text: string): Promise<ActivePolicy> {
    const parsed = parsePolicy(text);
    if (!parsed.ok) throw new InvalidPolicyError(parsed.problems, 400);
    await this.source.write(text);
    this.checkedAt = this.now();
    return this.install(parsed.policy, text);
  }

  private install(policy: Policy, text: string | undefined): ActivePolicy {
    if (this.active?.policy.version === policy.version) {
      // Same content (comments or spacing aside): keep the version, show the text as stored.
      if (this.active.text !== text) this.active = { ...this.active, text };
      return this.active;
    }
    const next: ActivePolicy = { policy, text, source: this.source.describe, loadedAt: new Date(this.now()).toISOString() };
    this.active = next;
    for (const l of this.listeners) l(next);
    return next;
  }
}
