/**
 * CVSS v4.0 base scores (CVSS-B) from `CVSS:4.0/…` vector strings, as the OSV `severity[].score`
 * field carries them for `CVSS_V4` (https://ossf.github.io/osv-schema/#severityscore-field).
 *
 * Scoring follows the CVSS v4.0 specification, section 8 (https://www.first.org/cvss/v4.0/specification-document):
 * the vector's MacroVector (its levels in the equivalence sets EQ1 … EQ6) gives a published score
 * (`cvss4-table.ts`); the vector is then placed below it by its severity distance from the
 * MacroVector's highest-severity vector, in proportion to each EQ's depth and to the score drop to
 * the next lower MacroVector in that EQ, averaged over the EQs that have a lower MacroVector;
 * rounded to one decimal. The arithmetic is on integers (tenths), so rounding is exact.
 *
 * The vector string (section 7): the `CVSS:4.0` prefix, then `metric:value` pairs separated by `/`.
 * - All eleven base metrics (AV AC AT PR UI VC VI VA SC SI SA) are required.
 * - Threat (E), environmental (CR IR AR MAV MAC MAT MPR MUI MVC MVI MVA MSC MSI MSA) and
 *   supplemental (S AU R V RE U) metrics are accepted when their values are valid, and ignored:
 *   this is the base score, which is what OSV's severity field asks for (and what scanhook's
 *   policies compare against). A vector with `E:U` or `MAV:P` thus scores as its base metrics do;
 *   its CVSS-BT or CVSS-BTE score would be lower.
 * - Metrics may come in any order. FIRST's calculator insists on the specification's order;
 *   scanhook reads others' data and the order changes nothing, so it accepts any, as it does for v3.
 *
 * Returns undefined for a vector that does not parse: another version's prefix, an unknown metric,
 * one given twice, a missing base metric, a value the metric does not have (values are
 * case-sensitive), an empty part. The caller then falls back to the next severity source.
 */
import { CVSS4_MACROVECTOR_SCORES, CVSS4_MAX_SEVERITY_DEPTH, CVSS4_MAX_VECTORS } from "./cvss4-table.js";

/**
 * Base metrics in slot order, each value with its severity level in steps of 0.1, 0 the most severe
 * (the distances of section 8). SC/SI/SA start at 1 because MSI/MSA have a Safety value above High.
 */
const BASE_LEVELS: readonly (readonly [string, Readonly<Record<string, number>>])[] = [
  ["AV", { N: 0, A: 1, L: 2, P: 3 }],
  ["AC", { L: 0, H: 1 }],
  ["AT", { N: 0, P: 1 }],
  ["PR", { N: 0, L: 1, H: 2 }],
  ["UI", { N: 0, P: 1, A: 2 }],
  ["VC", { H: 0, L: 1, N: 2 }],
  ["VI", { H: 0, L: 1, N: 2 }],
  ["VA", { H: 0, L: 1, N: 2 }],
  ["SC", { H: 1, L: 2, N: 3 }],
  ["SI", { H: 1, L: 2, N: 3 }],
  ["SA", { H: 1, L: 2, N: 3 }]
];
const [AV, AC, AT, PR, UI, VC, VI, VA, SC, SI, SA] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
/** The levels of None (VC/VI/VA, SC/SI/SA) and High (SC/SI/SA) in the tables above. */
const V_NONE = 2;
const S_NONE = 3;
const S_HIGH = 1;

/** The other metrics and their values (spec tables of sections 3–5), validated and not scored. */
const OTHER_VALUES: Readonly<Record<string, readonly string[]>> = {
  E: ["X", "A", "P", "U"],
  CR: ["X", "H", "M", "L"],
  IR: ["X", "H", "M", "L"],
  AR: ["X", "H", "M", "L"],
  MAV: ["X", "N", "A", "L", "P"],
  MAC: ["X", "L", "H"],
  MAT: ["X", "N", "P"],
  MPR: ["X", "N", "L", "H"],
  MUI: ["X", "N", "P", "A"],
  MVC: ["X", "H", "L", "N"],
  MVI: ["X", "H", "L", "N"],
  MVA: ["X", "H", "L", "N"],
  MSC: ["X", "H", "L", "N"],
  MSI: ["X", "S", "H", "L", "N"],
  MSA: ["X", "S", "H", "L", "N"],
  S: ["X", "N", "P"],
  AU: ["X", "N", "Y"],
  R: ["X", "A", "U", "I"],
  V: ["X", "D", "C"],
  RE: ["X", "L", "M", "H"],
  U: ["X", "Clear", "Green", "Amber", "Red"]
};

interface MetricDef {
  /** Bit in the seen-set: base metrics take bits 0–10 (their slots), the others the next 21. */
  readonly bit: number;
  readonly slot: number | undefined;
  /** Value → level (base) or → 0 (others: valid, not scored). */
  readonly values: ReadonlyMap<string, number>;
}

const METRICS: ReadonlyMap<string, MetricDef> = (() => {
  const out = new Map<string, MetricDef>();
  BASE_LEVELS.forEach(([name, levels], slot) => out.set(name, { bit: 1 << slot, slot, values: new Map(Object.entries(levels)) }));
  for (const [name, values] of Object.entries(OTHER_VALUES)) out.set(name, { bit: 1 << out.size, slot: undefined, values: new Map(values.map((v) => [v, 0])) });
  if (out.size > 32) throw new Error("cvss4: more metrics than seen-set bits");
  return out;
})();
const ALL_BASE = (1 << BASE_LEVELS.length) - 1;

/** The base metrics' levels in slot order, or undefined when the vector is not a valid v4.0 vector. */
function parse(vector: string): Int8Array | undefined {
  const text = vector.trim();
  if (!text.startsWith("CVSS:4.0/")) return undefined;
  const levels = new Int8Array(BASE_LEVELS.length);
  let seen = 0;
  let start = "CVSS:4.0/".length;
  while (start <= text.length) {
    let end = text.indexOf("/", start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", start);
    if (colon <= start || colon >= end) return undefined;
    const def = METRICS.get(text.slice(start, colon));
    if (def === undefined || (seen & def.bit) !== 0) return undefined;
    const level = def.values.get(text.slice(colon + 1, end));
    if (level === undefined) return undefined;
    seen |= def.bit;
    if (def.slot !== undefined) levels[def.slot] = level;
    start = end + 1;
  }
  return (seen & ALL_BASE) === ALL_BASE ? levels : undefined;
}

/** MacroVector scores in tenths, indexed densely by the six EQ levels; NaN where none is published. */
const EQ_LEVELS = [3, 2, 3, 3, 3, 2] as const;
const MACRO_TENTHS = (() => {
  const out = new Float64Array(EQ_LEVELS.reduce((a, b) => a * b, 1)).fill(Number.NaN);
  for (const [key, score] of Object.entries(CVSS4_MACROVECTOR_SCORES)) {
    const eq = [...key].map(Number) as [number, number, number, number, number, number];
    out[macroIndex(...eq)] = Math.round(score * 10);
  }
  return out;
})();

function macroIndex(e1: number, e2: number, e3: number, e4: number, e5: number, e6: number): number {
  return ((((e1 * 2 + e2) * 3 + e3) * 3 + e4) * 3 + e5) * 2 + e6;
}

/** The MacroVector's score in tenths, or undefined when those levels have none (past the lowest). */
function macroTenths(e1: number, e2: number, e3: number, e4: number, e5: number, e6: number): number | undefined {
  if (e1 >= EQ_LEVELS[0] || e2 >= EQ_LEVELS[1] || e3 >= EQ_LEVELS[2] || e4 >= EQ_LEVELS[3] || e5 >= EQ_LEVELS[4] || e6 >= EQ_LEVELS[5]) return undefined;
  const t = MACRO_TENTHS[macroIndex(e1, e2, e3, e4, e5, e6)];
  return t === undefined || Number.isNaN(t) ? undefined : t;
}

/** Highest-severity vectors as level tuples, per EQ level (from `CVSS4_MAX_VECTORS`). */
function levelsOf(slots: readonly number[], rows: readonly (readonly string[])[]): number[][] {
  return rows.map((row) =>
    row.map((value, i) => {
      const level = BASE_LEVELS[slots[i] as number]?.[1][value];
      if (level === undefined) throw new Error(`cvss4: bad max vector value ${value}`);
      return level;
    })
  );
}
const EQ1_SLOTS = [AV, PR, UI];
const EQ2_SLOTS = [AC, AT];
const EQ3_SLOTS = [VC, VI, VA];
const EQ4_SLOTS = [SC, SI, SA];
const MAX_EQ1 = CVSS4_MAX_VECTORS.eq1.map((rows) => levelsOf(EQ1_SLOTS, rows));
const MAX_EQ2 = CVSS4_MAX_VECTORS.eq2.map((rows) => levelsOf(EQ2_SLOTS, rows));
const MAX_EQ3EQ6: Readonly<Record<string, number[][]>> = Object.fromEntries(Object.entries(CVSS4_MAX_VECTORS.eq3eq6).map(([k, rows]) => [k, levelsOf(EQ3_SLOTS, rows)]));
const MAX_EQ4 = CVSS4_MAX_VECTORS.eq4.map((rows) => levelsOf(EQ4_SLOTS, rows));

/**
 * The severity distance (in tenths) of the vector from the first highest-severity vector of its
 * level that it is nowhere more severe than; undefined if none is (never for a base vector: the
 * tests score all 104,976 of them).
 */
function distance(levels: Int8Array, slots: readonly number[], maxes: readonly (readonly number[])[] | undefined): number | undefined {
  for (const max of maxes ?? []) {
    let sum = 0;
    let fits = true;
    for (let i = 0; i < slots.length; i++) {
      const d = (levels[slots[i] as number] as number) - (max[i] as number);
      if (d < 0) {
        fits = false;
        break;
      }
      sum += d;
    }
    if (fits) return sum;
  }
  return undefined;
}

/** The base score in tenths (0–100), or undefined if the tables have no answer (not for a valid base vector). */
function scoreTenths(l: Int8Array): number | undefined {
  const at = (slot: number): number => l[slot] as number;
  // Section 8: no impact on either system scores 0.
  if (at(VC) === V_NONE && at(VI) === V_NONE && at(VA) === V_NONE && at(SC) === S_NONE && at(SI) === S_NONE && at(SA) === S_NONE) return 0;

  // MacroVector (section 8, the EQ1 … EQ6 tables) with the threat and environmental defaults a
  // base score assumes: E:A (EQ5 level 0) and CR/IR/AR:H, so EQ6 is 0 when any VC/VI/VA is High.
  // Level 0 is the most severe value: AV:N, PR:N, UI:N, AC:L, AT:N, VC/VI/VA:H; AV level 3 is P.
  const anyN = at(AV) === 0 || at(PR) === 0 || at(UI) === 0;
  const e1 = at(AV) === 0 && at(PR) === 0 && at(UI) === 0 ? 0 : anyN && at(AV) !== 3 ? 1 : 2;
  const e2 = at(AC) === 0 && at(AT) === 0 ? 0 : 1;
  const anyHigh = at(VC) === 0 || at(VI) === 0 || at(VA) === 0;
  const e3 = at(VC) === 0 && at(VI) === 0 ? 0 : anyHigh ? 1 : 2;
  const e4 = at(SC) === S_HIGH || at(SI) === S_HIGH || at(SA) === S_HIGH ? 1 : 2;
  const e5 = 0;
  const e6 = anyHigh ? 0 : 1;

  const value = macroTenths(e1, e2, e3, e4, e5, e6);
  if (value === undefined) return undefined;

  // Next lower MacroVector per EQ; EQ3 and EQ6 move together (00 → the higher of 01 and 10,
  // 01 → 11, 10 → 11, 11 → 21, 21 → none).
  const lower1 = macroTenths(e1 + 1, e2, e3, e4, e5, e6);
  const lower2 = macroTenths(e1, e2 + 1, e3, e4, e5, e6);
  let lower36: number | undefined;
  if (e3 === 0 && e6 === 0) {
    const left = macroTenths(e1, e2, e3, e4, e5, e6 + 1);
    const right = macroTenths(e1, e2, e3 + 1, e4, e5, e6);
    lower36 = left === undefined ? right : right === undefined ? left : Math.max(left, right);
  } else if (e3 === 1 && e6 === 0) lower36 = macroTenths(e1, e2, e3, e4, e5, e6 + 1);
  else if (e3 === 2 && e6 === 1) lower36 = undefined;
  else lower36 = macroTenths(e1, e2, e3 + 1, e4, e5, e6);
  const lower4 = macroTenths(e1, e2, e3, e4 + 1, e5, e6);
  const lower5 = macroTenths(e1, e2, e3, e4, e5 + 1, e6);

  const key36 = `${e3}${e6}`;
  // Each EQ with a lower MacroVector contributes (value − lower) × distance ∕ depth; EQ5's
  // distance is always 0 (E is not a base metric) but it still counts in the mean.
  // Exact: the sum is kept as a fraction over the product of the depths.
  const depths = [CVSS4_MAX_SEVERITY_DEPTH.eq1[e1], CVSS4_MAX_SEVERITY_DEPTH.eq2[e2], CVSS4_MAX_SEVERITY_DEPTH.eq3eq6[key36], CVSS4_MAX_SEVERITY_DEPTH.eq4[e4]];
  const dists = [distance(l, EQ1_SLOTS, MAX_EQ1[e1]), distance(l, EQ2_SLOTS, MAX_EQ2[e2]), distance(l, EQ3_SLOTS, MAX_EQ3EQ6[key36]), distance(l, EQ4_SLOTS, MAX_EQ4[e4])];
  if (dists.includes(undefined) || depths.includes(undefined)) return undefined;
  const lowers = [lower1, lower2, lower36, lower4];
  let denominator = 1;
  for (const d of depths) denominator *= d as number;
  let numerator = 0;
  let count = lower5 === undefined ? 0 : 1;
  for (let i = 0; i < 4; i++) {
    const lower = lowers[i];
    if (lower === undefined) continue;
    count++;
    numerator += (value - lower) * (dists[i] as number) * (denominator / (depths[i] as number));
  }
  if (count === 0) return value;
  // score = value − numerator ∕ (denominator × count), rounded half up to a whole tenth, exactly.
  // FIRST's calculator computes in floating point and, before RedHatProductSecurity/cvss-v4-calculator
  // #67 (issue #66), rounded 522 base vectors' x.x5 ties down (8.549999… → 8.5 for
  // AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H); exact arithmetic gives the fixed 8.6.
  const q = denominator * count;
  const scaled = value * q - numerator;
  const rounded = Math.floor((2 * scaled + q) / (2 * q));
  return Math.min(100, Math.max(0, rounded));
}

/** The CVSS v4.0 base score (CVSS-B) of a `CVSS:4.0/…` vector, or undefined. */
export function cvss4BaseScore(vector: string): number | undefined {
  const levels = parse(vector);
  const tenths = levels === undefined ? undefined : scoreTenths(levels);
  return tenths === undefined ? undefined : tenths / 10;
}
