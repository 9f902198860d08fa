import { readFile } from "node:fs/promises";
import { parsePolicy, POLICY_LIMITS } from "../../shared/domain/policy.js";
import type { Command } from "../command.js";

/** `scanhook policy validate <file>`: the server's own validation, offline; exit 0 valid, 1 invalid, 2 usage. */
export const policyCommand: Command = {
  name: "policy",
  summary: "validate <file> [--json]  check a policy document (YAML or JSON); each problem as file:line:column: field: message",
  options: { json: { type: "boolean" } },
  positionals: true,
  async run(values, positionals, { out, err }) {
    const [sub, file, ...extra] = positionals;
    if (sub !== "validate" || file === undefined || extra.length > 0) {
      err("usage: scanhook policy validate <file>");
      return 2;
    }
    let text: string;
    try {
      const bytes = await readFile(file);
      if (bytes.length > POLICY_LIMITS.bytes) {
        err(`${file}: larger than ${POLICY_LIMITS.bytes} bytes`);
        return 1;
      }
      text = bytes.toString("utf8");
    } catch (e) {
      err(`scanhook policy validate: cannot read ${file}: ${(e as Error).message}`);
      return 2;
    }
    const parsed = parsePolicy(text);
    if (values.json === true) {
      out(JSON.stringify(parsed.ok ? { valid: true, version: parsed.policy.version } : { valid: false, problems: parsed.problems }, null, 2));
      return parsed.ok ? 0 : 1;
    }
    if (parsed.ok) {
      out(`${file}: valid, version ${parsed.policy.version}`);
      return 0;
    }
    for (const p of parsed.problems) out(`${file}:${p.line ?? 0}:${p.column ?? 0}: ${p.field}: ${p.message}`);
    return 1;
  }
};
