import type { Command } from "../command.js";
import { healthCommand } from "./health.js";
import { settingsCommand } from "./settings.js";

/** Every `scanhook` subcommand, once. */
export const COMMANDS: readonly Command[] = [settingsCommand, healthCommand];
