import type { Command } from "../command.js";
import { dbCommand } from "./db.js";
import { healthCommand } from "./health.js";
import { sbomCommand } from "./sbom.js";
import { scanCommand } from "./scan.js";
import { settingsCommand } from "./settings.js";
import { policyCommand } from "./policy.js";
import { verdictCommand } from "./verdict.js";

/** Every `scanhook` subcommand, once. */
export const COMMANDS: readonly Command[] = [settingsCommand, healthCommand, scanCommand, dbCommand, verdictCommand, policyCommand, sbomCommand];
