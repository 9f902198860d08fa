import { describe, expect, it } from "vitest";
import { cloudEventsWebhookHandshake } from "./cloudevents.js";

describe("cloudEventsWebhookHandshake", () => {
  it("grants Event Grid's request as Event Grid sends it (origin and callback, no rate)", () => {
    const headers = new Headers({
      "webhook-request-origin": "eventgrid.azure.net",
      "webhook-request-callback": "https://eventgrid.azure.net/validate?id=1&key=abc"
    });
    expect(cloudEventsWebhookHandshake(headers)).toEqual({
      kind: "granted",
      status: 200,
      headers: { "WebHook-Allowed-Origin": "eventgrid.azure.net", "WebHook-Allowed-Rate": "*", Allow: "POST, OPTIONS" }
    });
  });

  it("answers a requested rate, capped by the configured one", () => {
    const headers = new Headers({ "WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "120" });
    expect(cloudEventsWebhookHandshake(headers)).toMatchObject({ headers: { "WebHook-Allowed-Rate": "120" } });
    expect(cloudEventsWebhookHandshake(headers, { allowedRate: 100 })).toMatchObject({ headers: { "WebHook-Allowed-Rate": "100" } });
    expect(cloudEventsWebhookHandshake(headers, { allowedRate: 500 })).toMatchObject({ headers: { "WebHook-Allowed-Rate": "120" } });
    const noRate = new Headers({ "WebHook-Request-Origin": "eventgrid.azure.net" });
    expect(cloudEventsWebhookHandshake(noRate, { allowedRate: 60 })).toMatchObject({ headers: { "WebHook-Allowed-Rate": "60" } });
  });

  it("compares origins without regard to case and honours *", () => {
    const headers = new Headers({ "WebHook-Request-Origin": "EventGrid.Azure.net" });
    expect(cloudEventsWebhookHandshake(headers)).toMatchObject({ kind: "granted", headers: { "WebHook-Allowed-Origin": "EventGrid.Azure.net" } });
    const other = new Headers({ "WebHook-Request-Origin": "eventemitter.example.com" });
    expect(cloudEventsWebhookHandshake(other, { allowedOrigins: ["*"] })).toMatchObject({ kind: "granted" });
  });

  it.each<[string, Record<string, string>, 400 | 403, string]>([
    ["no origin", {}, 400, "WebHook-Request-Origin: the header is required"],
    ["a blank origin", { "WebHook-Request-Origin": "  " }, 400, "WebHook-Request-Origin: the header is required"],
    ["an origin that is not a DNS name", { "WebHook-Request-Origin": "https://evil/" }, 400, "WebHook-Request-Origin: expected a DNS name"],
    ["an origin not allowed", { "WebHook-Request-Origin": "eventemitter.example.com" }, 403, 'WebHook-Request-Origin: origin "eventemitter.example.com" is not allowed'],
    ["a rate of zero", { "WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "0" }, 400, "WebHook-Request-Rate: expected a positive whole number of requests per minute"],
    ["a rate that is not a number", { "WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "lots" }, 400, "WebHook-Request-Rate: expected a positive whole number of requests per minute"]
  ])("refuses %s without granting headers", (_name, headers, status, reason) => {
    expect(cloudEventsWebhookHandshake(new Headers(headers))).toEqual({ kind: "refused", status, reason });
  });
});
