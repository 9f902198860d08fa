/**
 * A small leveled logger for the local host and the CLI (in Azure, functions log through their
 * InvocationContext). Lines are `time level [scope] message`; callers never pass secrets.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(scope: string): Logger;
  /** Whether lines at `level` are written: to skip building a message nobody reads on a hot path. */
  enabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel = "info", scope = "", write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const emit = (at: LogLevel, message: string): void => {
    if (RANK[at] < RANK[level]) return;
    write(`${new Date().toISOString()} ${at.padEnd(5)} ${scope === "" ? "" : `[${scope}] `}${message}`);
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    child: (s) => createLogger(level, scope === "" ? s : `${scope}/${s}`, write),
    enabled: (at) => RANK[at] >= RANK[level]
  };
}
