import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isFunctionDisabled, loadSettings, readLocalSettings } from "./config.js";
import { ConfigError } from "./domain/errors.js";

describe("settings", () => {
  it("applies defaults", () => {
    const s = loadSettings([{}]);
    expect(s.PORT).toBe(7071);
    expect(s.SCANHOOK_DATA_DIR).toBe(".scanhook");
    expect(s.STORE).toBe("sqlite");
    expect(s.COSMOS_CREATE_IF_MISSING).toBe(false);
    expect(s.HTTP_MAX_BODY_BYTES).toBe(1048576);
    expect(s.registries).toEqual([]);
    expect(s.WEBHOOK_KEY).toBeUndefined();
  });

  it("takes the environment before local.settings.json before defaults", () => {
    const s = loadSettings([{ PORT: "8080" }, { PORT: "9090", LOG_LEVEL: "debug" }]);
    expect(s.PORT).toBe(8080);
    expect(s.LOG_LEVEL).toBe("debug");
  });

  it("names every bad setting and never echoes a secret", () => {
    let error: unknown;
    try {
      loadSettings([{ PORT: "http", STORE: "postgres", READ_KEY: "short-secret-value", REGISTRIES: "a.io,a.io" }]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.split(":")[0])).toEqual(["PORT", "STORE", "READ_KEY", "REGISTRIES"]);
    expect(problems.join("\n")).not.toContain("short-secret-value");
    expect(problems[0]).toContain('"http"');
  });

  it("needs a Cosmos endpoint for the cosmos store", () => {
    expect(() => loadSettings([{ STORE: "cosmos" }])).toThrow(/COSMOS_ENDPOINT: required/);
  });

  it("reads AzureWebJobs.<name>.Disabled like the Functions host", () => {
    const s = loadSettings([{ "AzureWebJobs.health.Disabled": "true", "AzureWebJobs.scan.Disabled": "false", AzureWebJobs__rematch__Disabled: "1" }]);
    expect(isFunctionDisabled(s, "health")).toBe(true);
    expect(isFunctionDisabled(s, "scan")).toBe(false);
    expect(isFunctionDisabled(s, "rematch")).toBe(true);
  });

  it("reads local.settings.json Values", () => {
    const dir = mkdtempSync(join(tmpdir(), "scanhook-settings-"));
    expect(readLocalSettings(dir)).toEqual({});
    writeFileSync(join(dir, "local.settings.json"), JSON.stringify({ IsEncrypted: false, Values: { PORT: 7100, LOG_LEVEL: "warn" } }));
    expect(readLocalSettings(dir)).toEqual({ PORT: "7100", LOG_LEVEL: "warn" });
    writeFileSync(join(dir, "local.settings.json"), JSON.stringify({ Values: ["x"] }));
    expect(() => readLocalSettings(dir)).toThrow(ConfigError);
  });
});
