import type { LogLevel } from "@azure/functions";
import type { Logger } from "../../shared/log.js";

/** An InvocationContext log handler writing to the host's logger, as the Functions host maps levels. */
export function logHandlerFor(log: Logger): (level: LogLevel, ...args: unknown[]) => void {
  return (level, ...args) => {
    const text = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === "string" ? a : JSON.stringify(a))).join(" ");
    if (level === "error" || level === "critical") log.error(text);
    else if (level === "warning") log.warn(text);
    else if (level === "information") log.info(text);
    else log.debug(text);
  };
}
