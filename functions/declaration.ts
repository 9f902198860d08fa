import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from "@azure/functions";

/**
 * One declaration per function (DESIGN principle 7). `functions/index.ts` registers each with
 * `@azure/functions`; the local host (`functions/host/`) mounts the very same objects for
 * `npm start`. Handlers are plain async functions of (trigger, context, services), so tests call
 * them directly and both runtimes share one invocation path (`functions/invoke.ts`).
 */

/** Which of scanhook's own keys a function asks for ("Who may call what" in DESIGN.md). */
export type KeyRole = "webhook" | "read" | "admin" | "admission" | "none";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

export interface HttpFunction<S> {
  readonly kind: "http";
  readonly name: string;
  /** Full route without a leading slash (host.json sets routePrefix to ""), e.g. `api/health`. `{name}` is a parameter, `{*rest}` a catch-all. */
  readonly route: string;
  readonly methods: readonly HttpMethod[];
  /** `admission` takes the secret from the route parameter `{secret}` (the API server sends no headers). */
  readonly key: KeyRole;
  readonly handler: (request: HttpRequest, context: InvocationContext, services: S) => Promise<HttpResponseInit>;
}

export interface QueueFunction<S> {
  readonly kind: "queue";
  readonly name: string;
  readonly queueName: string;
  /**
   * Called with the message body as the Functions host gives it (JSON parsed when it is JSON,
   * else a string); the handler parses it with its schema. Throwing means "retry": the message
   * comes back after host.json's `visibilityTimeout`. On the last attempt the invoker writes the
   * message and the reason to `<queue>-poison` itself (the host's own move carries no reason).
   */
  readonly handler: (message: unknown, context: InvocationContext, services: S) => Promise<void>;
}

export interface TimerFunction<S> {
  readonly kind: "timer";
  readonly name: string;
  /** NCRONTAB with seconds: `{second} {minute} {hour} {day} {month} {day-of-week}`. */
  readonly schedule: string;
  readonly runOnStartup?: boolean;
  readonly handler: (timer: Timer, context: InvocationContext, services: S) => Promise<void>;
}

export type FunctionDeclaration<S> = HttpFunction<S> | QueueFunction<S> | TimerFunction<S>;
