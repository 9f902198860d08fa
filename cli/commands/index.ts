import type { Command } from "../command.js";
import { dbCommand } from "./db.js";
import { healthCommand } from "./health.js";
import { scanCommand } from "./scan.js";
import { settingsCommand } from "./settings.js";

/** Every `scanhook` subcommand, once. */
export const COMMANDS: readonly Command[] = [settingsCommand, healthCommand, scanCommand, dbCommand];
