import { describe, expect, it } from "vitest";
import { isScanhookError } from "../../shared/domain/errors.js";
import { IntervalSchedule, parseNcrontab, parseTimerSchedule } from "./ncrontab.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe("parseNcrontab: next occurrence (UTC)", () => {
  const cases: readonly [expression: string, after: string, expected: string | undefined][] = [
    ["0 */5 * * * *", "2024-01-01T00:00:00.000Z", "2024-01-01T00:05:00.000Z"],
    ["0 0 * * * *", "2024-01-01T00:30:00.000Z", "2024-01-01T01:00:00.000Z"],
    ["*/10 * * * * *", "2024-01-01T12:00:05.500Z", "2024-01-01T12:00:10.000Z"],
    ["* * * * * *", "2024-01-01T12:00:05.999Z", "2024-01-01T12:00:06.000Z"],
    // strictly after: an occurrence equal to the base time is not returned
    ["0 0 12 * * *", "2024-01-01T12:00:00.000Z", "2024-01-02T12:00:00.000Z"],
    ["0 0 12 * * *", "2024-01-01T11:59:59.999Z", "2024-01-01T12:00:00.000Z"],
    ["0 0 12 * * *", "2024-01-01T12:00:00.400Z", "2024-01-02T12:00:00.000Z"],
    // 2024-01-05 is a Friday
    ["0 30 9 * * 1-5", "2024-01-05T10:00:00.000Z", "2024-01-08T09:30:00.000Z"],
    ["0 30 9 * * Mon-Fri", "2024-01-05T09:00:00.000Z", "2024-01-05T09:30:00.000Z"],
    ["0 0 0 * * sunday", "2024-01-01T00:00:00.000Z", "2024-01-07T00:00:00.000Z"],
    ["0 0 0 * * SAT,sun", "2024-01-01T00:00:00.000Z", "2024-01-06T00:00:00.000Z"],
    ["0 0 0 1 Jan,Jul *", "2024-01-01T00:00:00.000Z", "2024-07-01T00:00:00.000Z"],
    // a name is any prefix of the English name, the first month in order winning
    ["0 0 0 1 Ju *", "2024-01-01T00:00:00.000Z", "2024-06-01T00:00:00.000Z"],
    ["0 0 0 1 december *", "2024-01-01T00:00:00.000Z", "2024-12-01T00:00:00.000Z"],
    // day-of-month AND day-of-week, as NCrontab: Friday the 13th (2024-09-13), not "13th or Friday"
    ["0 0 0 13 * 5", "2024-01-01T00:00:00.000Z", "2024-09-13T00:00:00.000Z"],
    ["0 0 0 13 * Fri", "2024-09-13T00:00:00.000Z", "2024-12-13T00:00:00.000Z"],
    ["0 0 0 29 2 *", "2024-03-01T00:00:00.000Z", "2028-02-29T00:00:00.000Z"],
    ["0 0 0 31 * *", "2024-01-31T00:00:00.000Z", "2024-03-31T00:00:00.000Z"],
    ["0 0 0 30 2 *", "2024-01-01T00:00:00.000Z", undefined],
    ["0 0 0 31 4,6,9,11 *", "2024-01-01T00:00:00.000Z", undefined],
    // five fields: no seconds, fires at second 0
    ["*/15 * * * *", "2024-01-01T00:07:30.000Z", "2024-01-01T00:15:00.000Z"],
    // a/n runs from a to the field's maximum
    ["5/20 * * * * *", "2024-01-01T00:00:06.000Z", "2024-01-01T00:00:25.000Z"],
    ["5/20 * * * * *", "2024-01-01T00:00:45.000Z", "2024-01-01T00:01:05.000Z"],
    ["0 10-30/10 * * * *", "2024-01-01T00:10:00.000Z", "2024-01-01T00:20:00.000Z"],
    ["0 10-30/10 * * * *", "2024-01-01T00:30:00.000Z", "2024-01-01T01:10:00.000Z"],
    // a reversed range is read forwards; a step of 0 counts as 1 (both as NCrontab)
    ["0 0 5-3 * * *", "2024-01-01T02:00:00.000Z", "2024-01-01T03:00:00.000Z"],
    ["0 0 5-3 * * *", "2024-01-01T05:00:00.000Z", "2024-01-02T03:00:00.000Z"],
    ["*/0 * * * * *", "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:01.000Z"],
    ["0 0 8,12,18 * * *", "2024-01-01T12:00:00.000Z", "2024-01-01T18:00:00.000Z"],
    ["0 0 0 1 1 *", "2024-12-31T23:59:59.000Z", "2025-01-01T00:00:00.000Z"],
    ["59 59 23 31 12 *", "2024-12-31T23:59:59.000Z", "2025-12-31T23:59:59.000Z"],
    ["0 0 0 * * *", "2024-02-28T23:00:00.000Z", "2024-02-29T00:00:00.000Z"],
    // extra spaces between fields are fine
    ["0  0   6 * * *", "2024-01-01T00:00:00.000Z", "2024-01-01T06:00:00.000Z"]
  ];

  it.each(cases)("%s after %s → %s", (expression, after, expected) => {
    expect(iso(parseNcrontab(expression).next(at(after)))).toEqual(expected);
  });

  it("walks a schedule occurrence by occurrence", () => {
    const s = parseNcrontab("0 0 */6 * * *");
    const seen: (string | undefined)[] = [];
    let t = at("2024-01-01T00:00:00.000Z");
    for (let i = 0; i < 5; i++) {
      const next = s.next(t);
      seen.push(iso(next));
      t = next ?? t;
    }
    expect(seen).toEqual([
      "2024-01-01T06:00:00.000Z",
      "2024-01-01T12:00:00.000Z",
      "2024-01-01T18:00:00.000Z",
      "2024-01-02T00:00:00.000Z",
      "2024-01-02T06:00:00.000Z"
    ]);
  });
});

describe("parseNcrontab: errors name the field", () => {
  const cases: readonly [expression: string, field: string | undefined, fragment: string][] = [
    ["", undefined, "expected six fields"],
    ["* * * *", undefined, "found 4"],
    ["* * * * * * *", undefined, "found 7"],
    ["60 * * * * *", "second", "60 is outside 0–59"],
    ["* 60 * * * *", "minute", "60 is outside 0–59"],
    ["* * 24 * * *", "hour", "24 is outside 0–23"],
    ["* * * 0 * *", "day", "0 is outside 1–31"],
    ["* * * * 13 *", "month", "13 is outside 1–12"],
    ["* * * * * 7", "day-of-week", "7 is outside 0–6"],
    ["* * * * Foo *", "month", "not a month name"],
    ["* * * * * */x", "day-of-week", "step"],
    ["* * * 1,,2 * *", "day", "cannot be empty"],
    ["* * * ? * *", "day", "not a number"],
    ["0 0 0 L * *", "day", "not a number"],
    ["0 0 0 * * 1#2", "day-of-week", "not a number"],
    ["* * * 1- * *", "day", "cannot be empty"],
    ["*/5 * * * 1-x *", "month", "not a month name"]
  ];

  it.each(cases)("%j → %s", (expression, field, fragment) => {
    let error: unknown;
    try {
      parseNcrontab(expression);
    } catch (e) {
      error = e;
    }
    expect(isScanhookError(error, "HOST.SCHEDULE_INVALID")).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(fragment);
    if (field !== undefined) expect(message).toContain(`(${field} field)`);
  });
});

describe("parseTimerSchedule", () => {
  it.each([
    ["00:05:00", 300_000],
    ["01:00:00", 3_600_000],
    ["1.00:00:00", 86_400_000],
    ["00:00:01.5", 1500]
  ] as const)("TimeSpan %s is an interval of %d ms", (expression, ms) => {
    const s = parseTimerSchedule(expression);
    expect(s).toBeInstanceOf(IntervalSchedule);
    expect(s.next(1_000)).toBe(1_000 + ms);
  });

  it("takes NCRONTAB otherwise", () => {
    expect(iso(parseTimerSchedule("0 0 * * * *").next(at("2024-01-01T00:00:00.000Z")))).toBe("2024-01-01T01:00:00.000Z");
  });

  it.each(["00:00:00", "25:00:00", "00:61:00"])("refuses the TimeSpan %s", (expression) => {
    expect(() => parseTimerSchedule(expression)).toThrow(/Invalid timer schedule/);
  });
});
