import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { ScanhookError } from "../shared/domain/errors.js";

/** JSON answers; every error body is `{ error: { code, message } }`. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { "cache-control": "no-store", ...headers } };
}

export function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): HttpResponseInit {
  return json(status, { error: { code, message } }, headers);
}

/**
 * Reads a request body, refusing more than `limit` bytes (413) before reading it all: by the
 * declared length when there is one, and by counting while it streams when there is not.
 */
export async function readBody(request: HttpRequest, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (request.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): ScanhookError {
  return new ScanhookError("REQUEST.TOO_LARGE", `request body is larger than ${limit} bytes (HTTP_MAX_BODY_BYTES)`, { status: 413 });
}

/** Parses a JSON body within the size limit; 400 with the parser's reason when it is not JSON. */
export async function readJson(request: HttpRequest, limit: number): Promise<unknown> {
  const bytes = await readBody(request, limit);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new ScanhookError("REQUEST.INVALID_JSON", `request body is not JSON: ${(e as Error).message}`, { status: 400 });
  }
}

/** `decodeURIComponent`, or the value as sent when its escapes are malformed (a handler's own check then refuses it with a 400). */
export function decodedOrRaw(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
