import type { FunctionDeclaration } from "./declaration.js";
import { health } from "./health.js";
import { scanRequests } from "./scan-requests.js";
import { verdict } from "./verdict.js";
import type { Services } from "./services.js";
import { webhookAcr } from "./webhook-acr.js";
import { webhookDistribution } from "./webhook-distribution.js";
import { webhookEventGrid } from "./webhook-eventgrid.js";

/**
 * Every function, once (DESIGN principle 7). Azure registration (`index.ts`) and the local host
 * both read this list; adding a function is one file and one line here.
 */
export const FUNCTIONS: readonly FunctionDeclaration<Services>[] = checkUnique([health, webhookAcr, webhookEventGrid, webhookDistribution, scanRequests, verdict]);

function checkUnique<T extends { name: string }>(list: T[]): T[] {
  const seen = new Set<string>();
  for (const fn of list) {
    const key = fn.name.toLowerCase();
    if (seen.has(key)) throw new Error(`two functions are named ${fn.name}`);
    seen.add(key);
  }
  return list;
}
