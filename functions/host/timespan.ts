/**
 * .NET `TimeSpan` strings as host.json and timer schedules spell them: `[d.]hh:mm[:ss[.fffffff]]`
 * (the invariant "c" format, without the sign: a negative span means nothing to a host setting).
 * Hours 0–23, minutes and seconds 0–59, up to seven fraction digits, as .NET enforces.
 */
const TIMESPAN = /^(?:(\d{1,8})\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/;

/** Milliseconds for a TimeSpan string, or undefined when the text is not one. */
export function parseTimeSpan(text: string): number | undefined {
  const m = TIMESPAN.exec(text.trim());
  if (m === null) return undefined;
  const [, days = "0", hours = "0", minutes = "0", seconds = "0", fraction = ""] = m;
  const h = Number(hours);
  const min = Number(minutes);
  const s = Number(seconds);
  if (h > 23 || min > 59 || s > 59) return undefined;
  const fractionMs = fraction === "" ? 0 : Number(`0.${fraction}`) * 1000;
  return ((Number(days) * 24 + h) * 60 + min) * 60_000 + s * 1000 + fractionMs;
}

/** Whether the text has the TimeSpan shape at all (so a caller can tell "bad TimeSpan" from "not one"). */
export function looksLikeTimeSpan(text: string): boolean {
  return /^[\d.:]+$/.test(text.trim()) && text.includes(":");
}
