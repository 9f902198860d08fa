import { pipeline } from "node:stream";
import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import { ScanhookError } from "../domain/errors.js";
import type { RegistryConfig } from "../domain/registries.js";
import type { RegistryLimits } from "./guard.js";
import { limitStream, readBounded, type RegistryTransport } from "./transport.js";

/**
 * An Azure SDK `HttpClient` (the pipeline's last step, https://learn.microsoft.com/javascript/api/@azure/core-rest-pipeline/httpclient)
 * that sends through scanhook's guarded transport, so `@azure/container-registry` obeys the same
 * rules as the OCI client: only the listed registry is contacted, redirects lose the credential
 * on another host, every body read into memory is bounded, and the user agent starts with
 * `scanhook/<version>`. The transport follows redirects itself, so the SDK's redirect policy
 * (which ACR's clients set to follow cross-origin redirects) never sees one.
 */
export function createGuardedHttpClient(transport: RegistryTransport, registry: RegistryConfig, limits: RegistryLimits): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url);
      const method = request.method;
      if (method !== "GET" && method !== "HEAD" && method !== "POST") {
        // scanhook only reads; a write would mean the SDK is used for something it must not do.
        throw new ScanhookError("REGISTRY.NOT_ALLOWED", `scanhook does not send ${method} to registries`, { meta: { host: url.host } });
      }
      const body = requestBody(request);
      const response = await transport.send(url, {
        method,
        purpose: "origin",
        from: registry,
        headers: request.headers.toJSON({ preserveCase: true }),
        ...(body === undefined ? {} : { body }),
        ...(request.abortSignal === undefined ? {} : { abortSignal: request.abortSignal })
      });
      const headers = createHttpHeaders();
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      const limit = limitFor(url, response.status, limits);
      const what = `${url.pathname.includes("/manifests/") ? "manifest" : "response"} from ${url.host}`;
      const streamed = request.streamResponseStatusCodes?.has(response.status) === true || request.streamResponseStatusCodes?.has(Number.POSITIVE_INFINITY) === true;
      if (streamed) {
        const declared = Number(response.headers["content-length"]);
        if (Number.isFinite(limit) && Number.isFinite(declared) && declared > limit) {
          response.body.destroy();
          throw new ScanhookError("REGISTRY.TOO_LARGE", `${what} is larger than the limit of ${limit} bytes`, { meta: { host: url.host, declared, limit }, status: 502 });
        }
        const readableStreamBody = Number.isFinite(limit)
          ? pipeline(response.body, limitStream(limit, what, { host: url.host }), () => undefined)
          : response.body;
        return { request, status: response.status, headers, readableStreamBody };
      }
      const bytes = await readBounded(response, Number.isFinite(limit) ? limit : limits.listPageMaxBytes, what);
      return { request, status: response.status, headers, bodyAsText: bytes.toString("utf8") };
    }
  };
}

function requestBody(request: PipelineRequest): string | Uint8Array | undefined {
  const body = request.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new ScanhookError("REGISTRY.NOT_ALLOWED", "streamed request bodies are not sent to registries");
}

/** How much of a response may be read, by what it is. */
function limitFor(url: URL, status: number, limits: RegistryLimits): number {
  if (status >= 300) return limits.errorMaxBytes;
  const path = url.pathname;
  if (/\/manifests\/[^/]+$/.test(path)) return limits.manifestMaxBytes;
  if (path.startsWith("/oauth2/")) return limits.tokenMaxBytes;
  if (/\/blobs\/[^/]+$/.test(path)) return Number.POSITIVE_INFINITY;
  return limits.listPageMaxBytes;
}
