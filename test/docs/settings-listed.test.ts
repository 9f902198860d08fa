import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../shared/config.js";

/** STYLE practice 11: the README table and the example local settings list the same names as the schema. */
const names = Object.keys(SETTINGS).sort();
const root = new URL("../../", import.meta.url);

describe("every setting is documented", () => {
  it("in local.settings.example.json", () => {
    const example = JSON.parse(readFileSync(new URL("local.settings.example.json", root), "utf8")) as { Values: Record<string, string> };
    const listed = Object.keys(example.Values).filter((k) => !k.startsWith("AzureWebJobs.") && k !== "FUNCTIONS_WORKER_RUNTIME");
    expect(listed.sort()).toEqual(names);
  });

  it("in the README settings table", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const rows = [...readme.matchAll(/^\| `([A-Za-z_][A-Za-z0-9_]*)` \|/gm)].map((m) => m[1]);
    expect(names.filter((n) => !rows.includes(n))).toEqual([]);
  });
});
