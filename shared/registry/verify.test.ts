import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Digest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";
import { digestOf, verifyBytes, verifyingStream } from "./verify.js";

async function run(chunks: Buffer[], expected: Digest, options: Parameters<typeof verifyingStream>[1] = {}): Promise<string> {
  const out: Buffer[] = [];
  try {
    for await (const c of Readable.from(chunks).pipe(verifyingStream(expected, options))) out.push(c as Buffer);
  } catch (e) {
    if (e instanceof ScanhookError) return e.code;
    throw e;
  }
  return Buffer.concat(out).toString("utf8");
}

describe("verifyingStream", () => {
  const data = [Buffer.from("hello "), Buffer.from("world")];
  const digest = digestOf(Buffer.from("hello world"));

  it("passes the bytes through and ends when they match", async () => {
    expect(await run(data, digest)).toBe("hello world");
    expect(await run(data, digest, { expectedSize: 11, maxBytes: 11 })).toBe("hello world");
    expect(await run([Buffer.from("hello world")], digestOf(Buffer.from("hello world"), "sha512"))).toBe("hello world");
  });

  it("errors instead of ending on a mismatch, a wrong length, or too many bytes", async () => {
    expect(await run([Buffer.from("hello w0rld")], digest)).toBe("REGISTRY.DIGEST_MISMATCH");
    expect(await run(data, digest, { expectedSize: 12 })).toBe("REGISTRY.DIGEST_MISMATCH");
    expect(await run(data, digest, { expectedSize: 5 })).toBe("REGISTRY.DIGEST_MISMATCH");
    expect(await run(data, digest, { maxBytes: 10 })).toBe("REGISTRY.TOO_LARGE");
    expect(await run([], digest)).toBe("REGISTRY.DIGEST_MISMATCH");
  });
});

describe("verifyBytes", () => {
  it("checks sha256 and sha512 digests", () => {
    const bytes = Buffer.from("{}");
    expect(() => verifyBytes(bytes, digestOf(bytes), "m")).not.toThrow();
    expect(() => verifyBytes(bytes, digestOf(bytes, "sha512"), "m")).not.toThrow();
    expect(() => verifyBytes(bytes, digestOf(Buffer.from("[]")), "m")).toThrow(/expected sha256:/);
  });
});
