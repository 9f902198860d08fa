import type { Command } from "../command.js";

export const healthCommand: Command = {
  name: "health",
  summary: "[--url URL] [--key K]  ask a running scanhook whether its store and queues answer",
  options: { url: { type: "string" }, key: { type: "string" } },
  async run(values, _positionals, { out }) {
    const url = typeof values.url === "string" ? values.url : (process.env.SCANHOOK_URL ?? "http://127.0.0.1:7071/");
    const key = typeof values.key === "string" ? values.key : process.env.SCANHOOK_KEY;
    const target = new URL("api/health", url.endsWith("/") ? url : `${url}/`);
    const response = await fetch(target, { headers: key === undefined ? {} : { "x-functions-key": key }, signal: AbortSignal.timeout(10_000) });
    out(JSON.stringify(await response.json(), null, 2));
    return response.ok ? 0 : 1;
  }
};
