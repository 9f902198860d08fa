import type { ParseArgsConfig } from "node:util";

/** Where a command writes: results to `out` (stdout), progress and errors to `err` (stderr). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Raw bytes to stdout, for results that are not lines (an SBOM, a report). */
  readonly write?: (chunk: string | Uint8Array) => void;
}

/**
 * One `scanhook` subcommand, one file in `cli/commands/`, one line in `cli/commands/index.ts`.
 * `run` returns the exit code: 0 success, 1 failure, 2 bad usage or settings, or a code the
 * command documents (e.g. `scan --exit-code`).
 */
export interface Command {
  readonly name: string;
  /** One line for the usage list, starting with the arguments: `[--json]  validate the settings…`. */
  readonly summary: string;
  readonly options: NonNullable<ParseArgsConfig["options"]>;
  /** Whether positional arguments are allowed after the command name. */
  readonly positionals?: boolean;
  run(values: Record<string, string | boolean | (string | boolean)[] | undefined>, positionals: string[], io: CliIo): Promise<number>;
}
