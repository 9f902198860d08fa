import { describe, expect, it } from "vitest";
import type { LogLevel } from "@azure/functions";
import { LocalInvocationContext } from "./local-context.js";

describe("LocalInvocationContext", () => {
  it("maps log calls to the Functions levels, as the SDK's context does", () => {
    const lines: [LogLevel, unknown[]][] = [];
    const c = new LocalInvocationContext({ functionName: "f", logHandler: (level, ...args) => lines.push([level, args]) });
    c.log("a");
    c.trace("b");
    c.debug("c");
    c.info("d", 1);
    c.warn("e");
    c.error("f");
    expect(lines).toEqual([
      ["information", ["a"]],
      ["trace", ["b"]],
      ["debug", ["c"]],
      ["information", ["d", 1]],
      ["warning", ["e"]],
      ["error", ["f"]]
    ]);
  });

  it("makes an invocation id on first read and keeps it; keeps a given one", () => {
    const c = new LocalInvocationContext({ functionName: "f", logHandler: () => undefined });
    const id = c.invocationId;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.invocationId).toBe(id);
    expect(new LocalInvocationContext({ functionName: "f", logHandler: () => undefined, invocationId: "given" }).invocationId).toBe("given");
  });

  it("holds extra inputs and outputs by binding name, and the trigger metadata it was given", () => {
    const c = new LocalInvocationContext({ functionName: "q", logHandler: () => undefined, triggerMetadata: { dequeueCount: 2 } });
    c.extraOutputs.set("out", 1);
    c.extraOutputs.set({ name: "blob", type: "blob" }, 2);
    expect(c.extraOutputs.get("out")).toBe(1);
    expect(c.extraOutputs.get("blob")).toBe(2);
    expect(c.extraInputs.get("none")).toBeUndefined();
    expect(c.triggerMetadata).toEqual({ dequeueCount: 2 });
    expect(c.functionName).toBe("q");
    expect(c.options.trigger).toEqual({ name: "unknown", type: "unknown" });
  });
});
