/**
 * Errors are values with a stable code (`AREA.WHAT`), a safe message and optional metadata that is
 * safe to log and to return to a caller. Causes are kept for logs but never sent over HTTP.
 */
export class ScanhookError extends Error {
  readonly code: string;
  readonly meta: Readonly<Record<string, unknown>>;
  /** The HTTP status an API answers with when this error reaches it; undefined means 500. */
  readonly status: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; meta?: Record<string, unknown>; status?: number } = {}
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ScanhookError";
    this.code = code;
    this.meta = options.meta ?? {};
    this.status = options.status;
  }
}

/** A stale conditional write (ETag mismatch) or a create that found the document already there. */
export class ConflictError extends ScanhookError {
  constructor(message: string, meta: Record<string, unknown> = {}) {
    super("STORE.CONFLICT", message, { meta, status: 409 });
    this.name = "ConflictError";
  }
}

/** A setting is missing or invalid; the message names the setting. */
export class ConfigError extends ScanhookError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super("CONFIG.INVALID", `Invalid settings:\n  - ${problems.join("\n  - ")}`, { meta: { problems } });
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function isScanhookError(e: unknown, code?: string): e is ScanhookError {
  return e instanceof ScanhookError && (code === undefined || e.code === code);
}

/** A message for logs that never throws, whatever was thrown. */
export function describeError(e: unknown): string {
  if (e instanceof ScanhookError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
