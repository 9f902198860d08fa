import { isDigest } from "../../shared/domain/digest.js";
import { parseReference } from "../../shared/usecases/verdicts.js";
import type { Command } from "../command.js";

/** Exit codes of `scanhook verdict`, so a pipeline can gate a release on the answer admission gives. */
export const VERDICT_EXIT = { allowed: 0, denied: 1, usage: 2, noAnswer: 3 } as const;

interface Answer {
  status?: string;
  verdict?: string;
  admission?: { verdict: string; rule: string };
  decidedBy?: { rule: string; code?: string; message: string; registry?: string; repository?: string; platform?: string };
  reason?: string;
  error?: { code: string; message: string };
  policyVersion?: string;
}

export const verdictCommand: Command = {
  name: "verdict",
  summary:
    "<digest|registry/repo[:tag]@digest> [--platform os/arch] [--server URL] [--key K] [--strict] [--json]  ask a running scanhook; exit 0 allow/warn, 1 deny (warn too with --strict), 3 no answer",
  options: { server: { type: "string" }, key: { type: "string" }, platform: { type: "string" }, strict: { type: "boolean" }, json: { type: "boolean" } },
  positionals: true,
  async run(values, positionals, { out, err }) {
    const [target, ...extra] = positionals;
    if (target === undefined || extra.length > 0) {
      err("scanhook verdict: give exactly one digest or reference (registry/repository[:tag]@digest)");
      return VERDICT_EXIT.usage;
    }
    let digest: string;
    let reference: string | undefined;
    if (isDigest(target)) {
      digest = target;
    } else {
      const parsed = parseReference(target);
      if (parsed?.digest === undefined) {
        err("scanhook verdict: a reference must carry @sha256:<digest> (scanhook judges digests; resolve the tag first, e.g. with `crane digest`)");
        return VERDICT_EXIT.usage;
      }
      digest = parsed.digest;
      // Pinned by digest, so a tag beside it does not make the reference tag-only.
      reference = `${parsed.registry}/${parsed.repository}${parsed.tag === undefined ? "" : `:${parsed.tag}`}@${parsed.digest}`;
    }
    const server = typeof values.server === "string" ? values.server : (process.env.SCANHOOK_URL ?? "http://127.0.0.1:7071/");
    const key = typeof values.key === "string" ? values.key : process.env.SCANHOOK_KEY;
    const url = new URL(`api/verdicts/${digest}`, server.endsWith("/") ? server : `${server}/`);
    if (reference !== undefined) url.searchParams.set("reference", reference);
    if (typeof values.platform === "string") url.searchParams.set("platform", values.platform);
    let response: Response;
    try {
      response = await fetch(url, { headers: key === undefined ? {} : { "x-functions-key": key }, signal: AbortSignal.timeout(15_000) });
    } catch (e) {
      err(`scanhook verdict: ${url.origin} did not answer: ${(e as Error).message}`);
      return VERDICT_EXIT.noAnswer;
    }
    const answer = (await response.json().catch(() => ({}))) as Answer;
    if (values.json === true) out(JSON.stringify(answer, null, 2));
    // What admission would do: the verdict, or the policy's answer for pending and unknown.
    let decided: string | undefined;
    if (response.status === 200) decided = answer.verdict;
    else if (response.status === 202 || response.status === 404) decided = answer.admission?.verdict;
    else if (response.status === 422) decided = "deny";
    if (decided === undefined) {
      err(`scanhook verdict: ${response.status} ${answer.error?.code ?? ""} ${answer.error?.message ?? ""}`.trim());
      return VERDICT_EXIT.noAnswer;
    }
    if (values.json !== true) {
      const why =
        response.status === 200
          ? `${answer.decidedBy?.rule ?? "default"}${answer.decidedBy?.code === undefined ? "" : ` / ${answer.decidedBy.code}`}: ${answer.decidedBy?.message ?? ""}`
          : response.status === 422
            ? `not an image: ${answer.reason ?? ""}`
            : `${answer.status ?? ""}: ${answer.error?.message ?? (answer as { message?: string }).message ?? ""}`;
      out(`${decided}  ${digest}${reference === undefined ? "" : ` at ${reference}`}  (policy ${answer.policyVersion ?? "?"})`);
      out(`  ${why}`);
    }
    return decided === "deny" || (decided === "warn" && values.strict === true) ? VERDICT_EXIT.denied : VERDICT_EXIT.allowed;
  }
};
