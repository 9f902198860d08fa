import { loadProcessSettings, SETTINGS, type SettingName } from "../../shared/config.js";
import type { Command } from "../command.js";

export const settingsCommand: Command = {
  name: "settings",
  summary: "[--json]             validate the settings and show them (secrets masked)",
  options: { json: { type: "boolean" } },
  async run(values, _positionals, { out }) {
    const settings = loadProcessSettings();
    const rows = (Object.keys(SETTINGS) as SettingName[]).map((name) => {
      const value = settings[name];
      const shown = value === undefined ? undefined : "secret" in SETTINGS[name] && SETTINGS[name].secret ? "(set)" : value;
      return { name, value: shown };
    });
    if (values.json === true) {
      out(JSON.stringify({ settings: Object.fromEntries(rows.map((r) => [r.name, r.value ?? null])), registries: settings.registries }, null, 2));
      return 0;
    }
    for (const r of rows) out(`${r.name.padEnd(34)} ${r.value === undefined ? "-" : String(r.value)}`);
    out(
      `registries: ${
        settings.registries.length === 0
          ? "none (no registry is trusted)"
          : settings.registries.map((r) => `${r.host} (${r.kind}${r.plainHttp ? ", plain HTTP" : ""}, ${r.credential.type})`).join(", ")
      }`
    );
    if (settings.disabledFunctions.size > 0) out(`disabled functions: ${[...settings.disabledFunctions].join(", ")}`);
    return 0;
  }
};
