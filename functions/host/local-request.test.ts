import { describe, expect, it } from "vitest";
import { readBody } from "../http.js";
import { LocalHttpRequest } from "./local-request.js";

const make = (method: string, body?: string) =>
  new LocalHttpRequest({
    method,
    url: new URL("http://127.0.0.1:7071/api/things/a%2Fb?x=1&x=2&code=k"),
    headers: new Headers({ "Content-Type": "application/json", "X-Functions-Key": "k" }),
    params: { id: "a/b" },
    body: body === undefined ? undefined : Buffer.from(body)
  });

describe("LocalHttpRequest", () => {
  it("has the HttpRequest shape handlers use", async () => {
    const r = make("POST", '{"a":1}');
    expect(r.method).toBe("POST");
    expect(r.headers.get("x-functions-key")).toBe("k");
    expect(r.query.get("x")).toBe("1");
    expect(r.query.getAll("x")).toEqual(["1", "2"]);
    expect(r.params).toEqual({ id: "a/b" });
    expect(r.user).toBeNull();
    expect(r.bodyUsed).toBe(false);
    expect(await r.clone().text()).toBe('{"a":1}');
    expect(await r.json()).toEqual({ a: 1 });
    expect(r.bodyUsed).toBe(true);
    await expect(r.text()).rejects.toThrow(TypeError);
  });

  it("streams its body once, and only when read", async () => {
    const r = make("PUT", "x".repeat(100));
    expect(r.body).not.toBeNull();
    expect(r.bodyUsed).toBe(false);
    expect((await readBody(r, 1000)).toString()).toBe("x".repeat(100));
    expect(r.bodyUsed).toBe(true);
  });

  it("carries no body on GET, as the Functions host", async () => {
    const r = make("GET", "ignored");
    expect(r.body).toBeNull();
    expect(await r.text()).toBe("");
  });
});
