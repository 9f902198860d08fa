import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseQueueSettings } from "./host/host-json.js";
import { app } from "./azure-functions.js";
import { FUNCTIONS } from "./all.js";
import { invokeHttp, invokeQueue, invokeTimer } from "./invoke.js";
import { servicesFromEnvironment } from "./services.js";
import { PACKAGE_ROOT } from "../shared/version.js";

/**
 * The Azure Functions entry point (`main` in package.json): registers every declaration with the
 * v4 programming model. HTTP functions are anonymous at the Functions level because scanhook checks
 * its own keys (DESIGN, "Who may call what"). Services are built on the first invocation, not at
 * import, so a cold start that only serves one request pays only for what it uses.
 */
const queueSettings = parseQueueSettings(JSON.parse(readFileSync(join(PACKAGE_ROOT, "host.json"), "utf8")) as unknown);

for (const fn of FUNCTIONS) {
  switch (fn.kind) {
    case "http":
      app.http(fn.name, {
        route: fn.route,
        methods: [...fn.methods],
        authLevel: "anonymous",
        handler: async (request, context) => invokeHttp(fn, request, context, await servicesFromEnvironment())
      });
      break;
    case "queue":
      app.storageQueue(fn.name, {
        queueName: fn.queueName,
        connection: "AzureWebJobsStorage",
        handler: async (message, context) => invokeQueue(fn, message, context, await servicesFromEnvironment(), queueSettings.maxDequeueCount)
      });
      break;
    case "timer":
      app.timer(fn.name, {
        schedule: fn.schedule,
        runOnStartup: fn.runOnStartup ?? false,
        handler: async (timer, context) => invokeTimer(fn, timer, context, await servicesFromEnvironment())
      });
      break;
  }
}
