import { ScanhookError } from "../../shared/domain/errors.js";
import { looksLikeTimeSpan, parseTimeSpan } from "./timespan.js";

/**
 * Timer schedules as Azure Functions reads them: NCRONTAB
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`, or the classic five fields without
 * seconds, which the Functions timer extension also accepts) or a TimeSpan interval `hh:mm:ss`.
 * Times are UTC (the Functions default when WEBSITE_TIME_ZONE is unset).
 *
 * Semantics follow the NCrontab library the Functions host uses, so a schedule cannot mean one
 * thing in Azure and another under `npm start`:
 * - day-of-month and day-of-week must BOTH match (NCrontab checks the weekday of the date it found
 *   by day and month), unlike Vixie cron, which fires when either matches; `0 0 0 13 * Fri` is
 *   "Friday the 13th", not "every 13th and every Friday";
 * - day-of-week is 0–6 with Sunday = 0 (7 is refused); names are any case-insensitive prefix of the
 *   English name, the first in calendar order winning (`Mon`, `monday`, `Ju` = June);
 * - `a/n` steps from `a` to the field's maximum; a reversed range `10-5` is read as `5-10`; a step
 *   of 0 counts as 1;
 * - a date that does not exist (`0 0 0 30 2 *`) is never reached: `next` returns undefined.
 */
export interface Schedule {
  /** The text it was parsed from. */
  readonly expression: string;
  /**
   * The first occurrence strictly after `afterMs` (epoch milliseconds), or undefined when there
   * is none.
   */
  next(afterMs: number): number | undefined;
}

export type CronFieldName = "second" | "minute" | "hour" | "day" | "month" | "day-of-week";

interface FieldSpec {
  readonly name: CronFieldName;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
  },
  { name: "day-of-week", min: 0, max: 6, names: ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] }
];

function scheduleError(expression: string, detail: string, field?: CronFieldName): ScanhookError {
  const where = field === undefined ? "" : ` (${field} field)`;
  return new ScanhookError("HOST.SCHEDULE_INVALID", `Invalid timer schedule "${expression}"${where}: ${detail}`, {
    meta: { expression, ...(field === undefined ? {} : { field }) }
  });
}

/** A parsed field: `allowed[v]` for every value v of the field's range. */
type FieldSet = readonly boolean[];

function parseValue(spec: FieldSpec, text: string, fail: (detail: string) => never): number {
  if (text === "") fail("a value cannot be empty");
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else if (spec.names !== undefined && /^[a-z]+$/i.test(text)) {
    const lower = text.toLowerCase();
    const index = spec.names.findIndex((n) => n.startsWith(lower));
    if (index < 0) fail(`"${text}" is not a ${spec.name} name (${spec.names.join(", ")})`);
    value = index + spec.min;
  } else {
    fail(`"${text}" is not a number${spec.names === undefined ? "" : " or a name"}`);
  }
  if (value < spec.min || value > spec.max) fail(`${value} is outside ${spec.min}–${spec.max}`);
  return value;
}

function parseField(spec: FieldSpec, token: string, expression: string): FieldSet {
  const allowed: boolean[] = new Array<boolean>(spec.max + 1).fill(false);
  const fail = (detail: string): never => {
    throw scheduleError(expression, `"${token}": ${detail}`, spec.name);
  };
  for (const element of token.split(",")) {
    if (element === "") fail("an element of a list cannot be empty");
    let body = element;
    let step: number | undefined;
    const slash = element.indexOf("/");
    if (slash >= 0) {
      const stepText = element.slice(slash + 1);
      if (!/^\d+$/.test(stepText)) fail(`the step "${stepText}" is not a number`);
      step = Math.max(1, Number(stepText));
      body = element.slice(0, slash);
    }
    let from: number;
    let to: number;
    if (body === "*") {
      from = spec.min;
      to = spec.max;
    } else {
      const dash = body.indexOf("-");
      if (dash > 0) {
        const a = parseValue(spec, body.slice(0, dash), fail);
        const b = parseValue(spec, body.slice(dash + 1), fail);
        from = Math.min(a, b);
        to = Math.max(a, b);
      } else {
        from = parseValue(spec, body, fail);
        to = step === undefined ? from : spec.max;
      }
    }
    for (let v = from; v <= to; v += step ?? 1) allowed[v] = true;
  }
  return allowed;
}

/** The smallest allowed value ≥ from, or undefined. */
function nextAllowed(set: FieldSet, from: number): number | undefined {
  for (let v = from; v < set.length; v++) if (set[v] === true) return v;
  return undefined;
}

/**
 * Day and weekday patterns repeat every 400 Gregorian years; a search that finds nothing in that
 * span never will.
 */
const SEARCH_YEARS = 401;

export class CronSchedule implements Schedule {
  readonly expression: string;
  private readonly seconds: FieldSet;
  private readonly minutes: FieldSet;
  private readonly hours: FieldSet;
  private readonly days: FieldSet;
  private readonly months: FieldSet;
  private readonly weekdays: FieldSet;

  constructor(expression: string, fields: readonly FieldSet[]) {
    this.expression = expression;
    [this.seconds, this.minutes, this.hours, this.days, this.months, this.weekdays] = fields as [
      FieldSet,
      FieldSet,
      FieldSet,
      FieldSet,
      FieldSet,
      FieldSet
    ];
  }

  next(afterMs: number): number | undefined {
    // Occurrences are whole seconds; the next one is at least one second after `afterMs`'s second.
    let t = new Date(Math.floor(afterMs / 1000) * 1000 + 1000);
    const lastYear = t.getUTCFullYear() + SEARCH_YEARS;
    const startOfDay = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d));
    while (t.getUTCFullYear() <= lastYear) {
      const y = t.getUTCFullYear();
      const mo = t.getUTCMonth();
      const d = t.getUTCDate();
      if (this.months[mo + 1] !== true) {
        t = startOfDay(y, mo + 1, 1);
        continue;
      }
      if (this.days[d] !== true || this.weekdays[t.getUTCDay()] !== true) {
        t = startOfDay(y, mo, d + 1);
        continue;
      }
      const h = nextAllowed(this.hours, t.getUTCHours());
      if (h === undefined) {
        t = startOfDay(y, mo, d + 1);
        continue;
      }
      if (h !== t.getUTCHours()) {
        t = new Date(Date.UTC(y, mo, d, h));
        continue;
      }
      const mi = nextAllowed(this.minutes, t.getUTCMinutes());
      if (mi === undefined) {
        t = new Date(Date.UTC(y, mo, d, h + 1));
        continue;
      }
      if (mi !== t.getUTCMinutes()) {
        t = new Date(Date.UTC(y, mo, d, h, mi));
        continue;
      }
      const s = nextAllowed(this.seconds, t.getUTCSeconds());
      if (s === undefined) {
        t = new Date(Date.UTC(y, mo, d, h, mi + 1));
        continue;
      }
      return Date.UTC(y, mo, d, h, mi, s);
    }
    return undefined;
  }
}

/** A TimeSpan schedule: the next run is one interval after the previous one ended (Azure's ConstantSchedule). */
export class IntervalSchedule implements Schedule {
  constructor(
    readonly expression: string,
    readonly intervalMs: number
  ) {}

  next(afterMs: number): number {
    return afterMs + this.intervalMs;
  }
}

/** Parses NCRONTAB (six fields, or five without seconds). Throws `HOST.SCHEDULE_INVALID` naming the field. */
export function parseNcrontab(expression: string): CronSchedule {
  // NCrontab splits on spaces only.
  const tokens = expression.split(" ").filter((t) => t !== "");
  if (tokens.length !== 6 && tokens.length !== 5) {
    throw scheduleError(
      expression,
      `expected six fields ({second} {minute} {hour} {day} {month} {day-of-week}), found ${tokens.length}`
    );
  }
  const specs = tokens.length === 6 ? FIELDS : FIELDS.slice(1);
  const fields = specs.map((spec, i) => parseField(spec, tokens[i] ?? "", expression));
  if (tokens.length === 5) fields.unshift(parseField(FIELDS[0] as FieldSpec, "0", expression));
  return new CronSchedule(expression, fields);
}

/** A timer function's schedule: NCRONTAB, or a TimeSpan interval like `00:05:00`. */
export function parseTimerSchedule(expression: string): Schedule {
  const text = expression.trim();
  if (!text.includes(" ") && looksLikeTimeSpan(text)) {
    const ms = parseTimeSpan(text);
    if (ms === undefined) throw scheduleError(expression, "not a valid TimeSpan (hh:mm:ss)");
    if (ms <= 0) throw scheduleError(expression, "a TimeSpan interval must be longer than zero");
    return new IntervalSchedule(expression, ms);
  }
  return parseNcrontab(expression);
}
