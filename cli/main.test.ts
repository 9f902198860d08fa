import { describe, expect, it } from "vitest";
import { main } from "./main.js";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("scanhook CLI", () => {
  it("prints usage with exit 2 when no command is given, 0 for --help", async () => {
    expect((await run([])).code).toBe(2);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("scanhook settings");
  });

  it("rejects unknown commands and options with exit 2", async () => {
    const r = await run(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command: frobnicate");
    expect((await run(["settings", "--nope"])).code).toBe(2);
  });

  it("shows settings with secrets masked", async () => {
    const before = process.env.READ_KEY;
    process.env.READ_KEY = "r".repeat(40);
    try {
      const r = await run(["settings", "--json"]);
      expect(r.code).toBe(0);
      const parsed = JSON.parse(r.out) as { settings: Record<string, unknown> };
      expect(parsed.settings.READ_KEY).toBe("(set)");
      expect(parsed.settings.PORT).toBe(7071);
      expect(r.out).not.toContain("r".repeat(40));
    } finally {
      if (before === undefined) delete process.env.READ_KEY;
      else process.env.READ_KEY = before;
    }
  });

  it("names a bad setting with exit 2", async () => {
    process.env.PORT = "seventy";
    try {
      const r = await run(["settings"]);
      expect(r.code).toBe(2);
      expect(r.err).toContain("PORT");
    } finally {
      delete process.env.PORT;
    }
  });
});
