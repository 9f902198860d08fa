import type { FunctionDeclaration } from "./declaration.js";
import { health } from "./health.js";
import { scanRequests } from "./scan-requests.js";
import { verdict } from "./verdict.js";
import { imagesList } from "./images-list.js";
import { imagesGet } from "./images-get.js";
import { imagesFindings } from "./images-findings.js";
import { imagesSbom } from "./images-sbom.js";
import { imagesReport } from "./images-report.js";
import { imagesRescan } from "./images-rescan.js";
import { policyGet } from "./policy-get.js";
import { policyValidate } from "./policy-validate.js";
import { policyPut } from "./policy-put.js";
import { verdictSweep } from "./verdict-sweep.js";
import { verdictBatch } from "./verdict-batch.js";
import { stats } from "./stats.js";
import { rematchRequests } from "./rematch-requests.js";
import { vulndbPending } from "./vulndb-pending.js";
import { vulndbRefresh } from "./vulndb-refresh.js";
import type { Services } from "./services.js";
import { webhookAcr } from "./webhook-acr.js";
import { webhookDistribution } from "./webhook-distribution.js";
import { webhookEventGrid } from "./webhook-eventgrid.js";

/**
 * Every function, once (DESIGN principle 7). Azure registration (`index.ts`) and the local host
 * both read this list; adding a function is one file and one line here.
 */
export const FUNCTIONS: readonly FunctionDeclaration<Services>[] = checkUnique([health, webhookAcr, webhookEventGrid, webhookDistribution, scanRequests, verdict, imagesList, imagesGet, imagesFindings, imagesSbom, imagesReport, imagesRescan, policyGet, policyValidate, policyPut, verdictSweep, verdictBatch, stats, rematchRequests, vulndbRefresh, vulndbPending]);

function checkUnique<T extends { name: string }>(list: T[]): T[] {
  const seen = new Set<string>();
  for (const fn of list) {
    const key = fn.name.toLowerCase();
    if (seen.has(key)) throw new Error(`two functions are named ${fn.name}`);
    seen.add(key);
  }
  return list;
}
