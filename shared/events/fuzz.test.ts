import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { registryEventDedupeKey, registryEventSchema } from "../domain/registry-event.js";
import { parseAcrWebhook } from "./acr-webhook.js";
import { parseDistribution } from "./distribution.js";
import { parseEventGrid } from "./event-grid.js";
import type { EventParseResult } from "./result.js";

const EXAMPLES_DIR = new URL("./examples/", import.meta.url);
const examples = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

/** Each example goes to the endpoint its name says, with the content type its sender uses. */
function parseFor(file: string, body: string, contentType?: string): EventParseResult {
  if (file.startsWith("acr-")) return parseAcrWebhook(body);
  if (file.startsWith("distribution-v1")) return parseDistribution(contentType ?? "application/vnd.docker.distribution.events.v1+json", body);
  if (file.startsWith("distribution-v2")) return parseDistribution(contentType ?? "application/vnd.docker.distribution.events.v2+json", body);
  if (file === "cloudevents-image-pushed.json") return parseEventGrid(contentType ?? "application/cloudevents+json", body);
  if (file.startsWith("cloudevents-")) return parseEventGrid(contentType ?? "application/cloudevents-batch+json", body);
  return parseEventGrid(contentType ?? "application/json", body);
}

const parsers: readonly [string, (contentType: string | undefined, body: string) => EventParseResult][] = [
  ["acr", (_ct, body) => parseAcrWebhook(body)],
  ["eventgrid", (ct, body) => parseEventGrid(ct, body)],
  ["distribution", (ct, body) => parseDistribution(ct, body)]
];

const contentTypes = fc.constantFrom(
  undefined,
  "application/json",
  "application/cloudevents+json",
  "application/cloudevents-batch+json",
  "application/vnd.docker.distribution.events.v1+json",
  "application/vnd.docker.distribution.events.v2+json",
  "text/plain",
  ""
);

/** What every result must satisfy, whatever went in. */
function checkResult(result: EventParseResult): void {
  switch (result.kind) {
    case "events":
      for (const event of result.events) {
        expect(registryEventSchema.safeParse(event).success).toBe(true);
        expect(registryEventDedupeKey(event).length).toBeLessThan(1000);
      }
      for (const ignored of result.ignored) expect(ignored.reason.length).toBeLessThan(300);
      break;
    case "invalid":
      expect(result.field.length).toBeGreaterThan(0);
      expect(result.reason.startsWith(`${result.field}: `)).toBe(true);
      expect(result.reason.length).toBeLessThan(2000);
      break;
    case "unsupported-media-type":
      expect(result.reason.length).toBeLessThan(400);
      break;
    case "subscription-validation":
      expect(result.response.validationResponse).toBe(result.validationCode);
      break;
  }
}

type Path = readonly (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v: unknown, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  }
  return out;
}

type Mutation = { readonly op: "delete" } | { readonly op: "set"; readonly value: unknown };

/** A copy of `root` with the value at `path` deleted or replaced (the root itself can be replaced). */
function mutate(root: unknown, path: Path, mutation: Mutation): unknown {
  if (path.length === 0) return mutation.op === "set" ? mutation.value : undefined;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (mutation.op === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else Reflect.deleteProperty(parent, last);
  } else parent[last] = mutation.value;
  return copy;
}

const hostile = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom("", " ", "\u0000", "sha256:", "SHA256:ABC", "-1", "NaN", "null", "Infinity", "__proto__", "constructor", "ping", "push", "delete", "pull", "mount", "1.0"),
  fc.constantFrom(-1, 0, 1.5, Number.MAX_SAFE_INTEGER + 2, 1e308),
  fc.string({ minLength: 3000, maxLength: 5000 }),
  fc.constant({ __proto__: { action: "push" } })
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(fc.constant<Mutation>({ op: "delete" }), hostile.map((value): Mutation => ({ op: "set", value })));

describe("every example", () => {
  it("is here for every format", () => {
    expect(examples.length).toBeGreaterThanOrEqual(20);
  });

  it.each(examples)("%s parses to a valid result whose events pass the RegistryEvent schema", (file) => {
    const body = readFileSync(new URL(file, EXAMPLES_DIR), "utf8");
    const result = parseFor(file, body);
    expect(["events", "subscription-validation"]).toContain(result.kind);
    checkResult(result);
    // Parsing is a pure function of the body: a redelivery gives the same events.
    expect(parseFor(file, body)).toEqual(result);
  });
});

describe("junk never throws", () => {
  it.each(parsers)("%s: any string", (_name, parse) => {
    fc.assert(
      fc.property(contentTypes, fc.string({ maxLength: 400 }), (contentType, body) => {
        checkResult(parse(contentType, body));
      }),
      { numRuns: 500 }
    );
  });

  it.each(parsers)("%s: any JSON value", (_name, parse) => {
    fc.assert(
      fc.property(contentTypes, fc.jsonValue(), (contentType, value) => {
        checkResult(parse(contentType, JSON.stringify(value)));
      }),
      { numRuns: 500 }
    );
  });

  it.each(examples)("%s with any one field deleted or replaced", (file) => {
    const original: unknown = JSON.parse(readFileSync(new URL(file, EXAMPLES_DIR), "utf8"));
    const paths = pathsOf(original);
    fc.assert(
      fc.property(fc.nat({ max: paths.length - 1 }), mutation, contentTypes, fc.boolean(), (index, change, contentType, ownType) => {
        const mutated = mutate(original, paths[index] ?? [], change);
        const body = JSON.stringify(mutated) ?? "";
        checkResult(parseFor(file, body, ownType ? undefined : contentType));
      }),
      { numRuns: 300 }
    );
  });

  it.each(examples)("%s with two fields changed", (file) => {
    const original: unknown = JSON.parse(readFileSync(new URL(file, EXAMPLES_DIR), "utf8"));
    const paths = pathsOf(original);
    fc.assert(
      fc.property(fc.nat({ max: paths.length - 1 }), mutation, fc.nat({ max: paths.length - 1 }), mutation, (i, a, j, b) => {
        const once = mutate(original, paths[i] ?? [], a);
        let twice: unknown = once;
        try {
          twice = mutate(once, paths[j] ?? [], b);
        } catch {
          // The first change removed the second path's parent: the first change alone is the case.
        }
        checkResult(parseFor(file, JSON.stringify(twice) ?? ""));
      }),
      { numRuns: 200 }
    );
  });
});
