import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTINGS, type SettingName } from "../../shared/config.js";
import { poisonQueueOf, QUEUES } from "../../shared/queues/queues.js";
import { COSMOS_PARTITION_KEY_PATH, DEFAULT_COSMOS_DATABASE } from "../../shared/store/cosmos.js";
import { IMAGE_FIELDS } from "../../shared/store/image-queries.js";
import { CONTAINER_NAMES } from "../../shared/store/port.js";
import { SQLITE_INDEXES } from "../../shared/store/sqlite.js";

/**
 * Bicep cannot be compiled here, so these checks read its text: every setting that applies in Azure
 * is set on the function app (or listed below as local-only, with the reason), and the templates
 * keep the house rules (AVM-style descriptions, no keys fetched or output, guid-named role
 * assignments with the role named in a comment, nothing Flex Consumption forbids).
 */

const infra = new URL("../../infra/", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, infra), "utf8");

const main = read("main.bicep");
const modules = Object.fromEntries(
  readdirSync(new URL("modules/", infra))
    .filter((f) => f.endsWith(".bicep"))
    .map((f) => [f, read(`modules/${f}`)])
) as Record<string, string>;
const files: Record<string, string> = { "main.bicep": main, ...Object.fromEntries(Object.entries(modules).map(([f, t]) => [`modules/${f}`, t])) };
const functionApp = modules["function-app.bicep"] ?? "";
const storage = modules["storage.bicep"] ?? "";
const cosmos = modules["cosmos.bicep"] ?? "";

/**
 * Settings that are not set in Azure, each with the reason. Everything else in SETTINGS must be an
 * app setting of the function app.
 */
const LOCAL_ONLY: Partial<Record<SettingName, string>> = {
  PORT: "the local host's HTTP port; in Azure the Functions host serves HTTP",
  SCANHOOK_DATA_DIR: "where `npm start` keeps Azurite's files, SQLite and generated keys; Azure has no data directory",
  AzureWebJobsStorage:
    "a connection string needs shared keys, which the account refuses; Azure uses AzureWebJobsStorage__accountName with the identity",
  AZURITE_BLOB_PORT: "Azurite runs only under `npm start`",
  AZURITE_QUEUE_PORT: "Azurite runs only under `npm start`",
  SQLITE_PATH: "STORE is cosmos in Azure",
  COSMOS_KEY: "key auth is off on the account (disableLocalAuth); scanhook uses Entra ID with AZURE_CLIENT_ID",
  SCAN_CACHE_DIR: "the CLI's directory cache; in Azure the per-layer cache is a blob container"
};

/** Flex Consumption rejects or ignores these (Microsoft Learn, "Flex Consumption plan deprecations"). */
const FLEX_FORBIDDEN_SETTINGS = [
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "FUNCTIONS_WORKER_RUNTIME_VERSION",
  "FUNCTIONS_MAX_HTTP_CONCURRENCY",
  "FUNCTIONS_WORKER_PROCESS_COUNT",
  "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTSHARE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
  "SCM_DO_BUILD_DURING_DEPLOYMENT",
  "ENABLE_ORYX_BUILD"
];
const FLEX_FORBIDDEN_SITE_PROPERTIES = [
  "ftpsState",
  "alwaysOn",
  "use32BitWorkerProcess",
  "linuxFxVersion",
  "windowsFxVersion",
  "functionAppScaleLimit",
  "preWarmedInstanceCount",
  "containerSize",
  "netFrameworkVersion",
  "javaVersion",
  "powerShellVersion"
];

/** Text without `//` line comments and `/* … *\/` block comments (strings are left alone). */
function stripComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") {
        out += text[i + 1] ?? "";
        i++;
      } else if (c === "'") {
        inString = false;
      }
    } else if (c === "'") {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
      if (i === 0) break;
    } else {
      out += c;
    }
  }
  return out;
}

/** The bracketed value that follows `anchor` (e.g. `var x = {…}`), brackets matched. */
function blockAfter(text: string, anchor: string): string {
  const code = stripComments(text);
  const start = code.indexOf(anchor);
  if (start < 0) throw new Error(`${anchor} not found`);
  const open = code.slice(start + anchor.length).search(/[{[]/);
  if (open < 0) throw new Error(`no block after ${anchor}`);
  const from = start + anchor.length + open;
  let depth = 0;
  for (let i = from; i < code.length; i++) {
    const c = code[i];
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return code.slice(from, i + 1);
    }
  }
  throw new Error(`unbalanced block after ${anchor}`);
}

/** Keys of an object literal's top level (`Name: value` lines at the first nesting level). */
function topLevelKeys(block: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (const line of block.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*:/.exec(line);
    if (depth === 1 && m?.[1] !== undefined) keys.push(m[1]);
    for (const c of line) {
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") depth--;
    }
  }
  return keys;
}

/** Every app setting name the Bicep sets on the function app. */
function appSettingNames(): string[] {
  const host = topLevelKeys(blockAfter(functionApp, "var hostAppSettings ="));
  const scanhook = topLevelKeys(blockAfter(main, "var scanhookAppSettings ="));
  const keys = [...blockAfter(main, "var keySettings =").matchAll(/setting:\s*'([A-Za-z_][A-Za-z0-9_]*)'/g)].map((m) => m[1] ?? "");
  return [...host, ...scanhook, ...keys];
}

interface ParamDecl {
  file: string;
  name: string;
  hasDefault: boolean;
  decorators: string;
}

/** Each `param` with the decorator lines above it. */
function params(file: string, text: string): ParamDecl[] {
  const lines = text.split("\n");
  const out: ParamDecl[] = [];
  lines.forEach((line, i) => {
    const m = /^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$/.exec(line);
    if (m?.[1] === undefined) return;
    const above: string[] = [];
    for (let j = i - 1; j >= 0; j--) {
      const prev = lines[j] ?? "";
      if (prev.trim() === "" || /^(param|var|resource|module|output|metadata|targetScope|type|import|func)\b/.test(prev) || /^\}/.test(prev)) break;
      above.unshift(prev);
    }
    out.push({ file, name: m[1], hasDefault: /=/.test(m[2] ?? ""), decorators: above.join("\n") });
  });
  return out;
}

interface Block {
  file: string;
  header: string;
  body: string;
}

/** Every `resource` declaration of a type (`Microsoft.Authorization/roleAssignments`), with its body. */
function resourcesOfType(type: string): Block[] {
  const out: Block[] = [];
  for (const [file, text] of Object.entries(files)) {
    const code = stripComments(text);
    const re = new RegExp(`^resource\\s+\\w+\\s+'${type.replace(/[/.]/g, "\\$&")}@[^']+'[^\\n]*$`, "gm");
    for (const m of code.matchAll(re)) {
      out.push({ file, header: m[0], body: blockAfter(code.slice(m.index), "=") });
    }
  }
  return out;
}

describe("infra/: every setting that applies in Azure is set on the function app", () => {
  const names = Object.keys(SETTINGS) as SettingName[];
  const set = appSettingNames();

  it("every SETTINGS name is an app setting or local-only with a reason", () => {
    const missing = names.filter((n) => LOCAL_ONLY[n] === undefined && !set.includes(n));
    expect(missing).toEqual([]);
  });

  it("no local-only setting is set in Azure, and the list names only real settings", () => {
    const localOnly = Object.keys(LOCAL_ONLY);
    expect(localOnly.filter((n) => set.includes(n))).toEqual([]);
    expect(localOnly.filter((n) => !names.includes(n as SettingName))).toEqual([]);
    for (const reason of Object.values(LOCAL_ONLY)) expect(reason.length).toBeGreaterThan(10);
  });

  it("no setting is set twice", () => {
    expect(set.filter((n, i) => set.indexOf(n) !== i)).toEqual([]);
  });

  it("the host reaches storage with the identity, and telemetry authenticates with it", () => {
    for (const s of ["AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId"]) {
      expect(set).toContain(s);
    }
    expect(functionApp).toMatch(/AzureWebJobsStorage__credential:\s*'managedidentity'/);
    expect(set).toContain("APPLICATIONINSIGHTS_CONNECTION_STRING");
    expect(functionApp).toMatch(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING:\s*'ClientId=\$\{identityClientId\};Authorization=AAD'/);
    expect(main).toMatch(/STORE:\s*'cosmos'/);
    expect(main).toMatch(/COSMOS_CREATE_IF_MISSING:\s*'false'/);
  });

  it("every key is a Key Vault reference resolved with the user-assigned identity", () => {
    const keys = names.filter((n) => SETTINGS[n].secret === true && LOCAL_ONLY[n] === undefined);
    const keyBlock = blockAfter(main, "var keySettings =");
    for (const k of keys) expect(keyBlock).toContain(`setting: '${k}'`);
    expect(main).toContain("'@Microsoft.KeyVault(SecretUri=${r.uri})'");
    expect(functionApp).toMatch(/keyVaultReferenceIdentity:\s*identityResourceId/);
    for (const m of keyBlock.matchAll(/secret:\s*'([^']+)'/g)) expect(m[1]).toMatch(/^[a-z][a-z0-9-]*$/);
  });

  it("runs Node in Azure with the heap flag npm start and bench:match use", () => {
    const scripts = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> }).scripts;
    const flag = /NODE_OPTIONS:\s*'([^']+)'/.exec(functionApp)?.[1];
    expect(flag).toBe("--max-semi-space-size=32");
    expect(scripts.start).toContain(`node ${flag ?? ""} `);
    expect(scripts["bench:match"]).toContain(` ${flag ?? ""} bench/match.mjs`);
  });

  it("sets nothing Flex Consumption forbids", () => {
    for (const [file, text] of Object.entries(files)) {
      const code = stripComments(text);
      for (const s of FLEX_FORBIDDEN_SETTINGS) expect(code, `${file} sets ${s}`).not.toMatch(new RegExp(`\\b${s}\\b`));
      for (const p of FLEX_FORBIDDEN_SITE_PROPERTIES) expect(code, `${file} sets ${p}`).not.toMatch(new RegExp(`^\\s*${p}\\s*:`, "m"));
    }
    expect(functionApp).toMatch(/name:\s*'FC1'/);
    expect(functionApp).toMatch(/tier:\s*'FlexConsumption'/);
    expect(functionApp).toMatch(/runtime:\s*\{\s*name:\s*'node'\s*version:\s*nodeVersion/);
    expect(functionApp).toMatch(/type:\s*'UserAssignedIdentity'/);
  });
});

describe("infra/: what the code expects exists", () => {
  it("every queue and its poison twin", () => {
    const queueBlock = blockAfter(main, "var queueNames =");
    for (const q of Object.values(QUEUES)) expect(queueBlock).toContain(`'${q}'`);
    expect(storage).toContain("name: '${queueName}-poison'");
    expect(poisonQueueOf("x")).toBe("x-poison");
  });

  it("the database and every container, partitioned on /id", () => {
    expect(main).toContain(`databaseName: '${DEFAULT_COSMOS_DATABASE}'`);
    const containers = blockAfter(cosmos, "var containers =");
    for (const c of CONTAINER_NAMES) expect(containers).toContain(`name: '${c}'`);
    expect(cosmos).toContain(`var partitionKeyPath = '${COSMOS_PARTITION_KEY_PATH}'`);
  });

  it("the images index covers every field the image queries use, and excludes the rest", () => {
    const policy = blockAfter(cosmos, "var imagesIndexingPolicy =");
    const included = blockAfter(policy, "includedPaths:");
    const excluded = blockAfter(policy, "excludedPaths:");
    const path = (field: string): string => `/${field.split(".").join("/")}`;
    const fields = [...SQLITE_INDEXES.images.fields, IMAGE_FIELDS.deleted, IMAGE_FIELDS.scanState, IMAGE_FIELDS.verdict];
    for (const f of fields) expect(included).toContain(`'${path(f)}/?'`);
    for (const a of SQLITE_INDEXES.images.arrays) expect(included).toContain(`'${path(a)}/[]/?'`);
    expect(excluded).toContain("'/*'");
    expect(cosmos).toMatch(/disableLocalAuth:\s*true/);
    expect(cosmos).toContain("00000000-0000-0000-0000-000000000002");
  });
});

describe("infra/: house rules (Azure Verified Modules style)", () => {
  const allParams = Object.entries(files).flatMap(([file, text]) => params(file, text));

  it("finds the templates", () => {
    expect(Object.keys(modules).length).toBeGreaterThanOrEqual(5);
    expect(allParams.length).toBeGreaterThan(20);
  });

  it("every param has @description('Required. …') or @description('Optional. … Defaults to …')", () => {
    const bad = allParams.filter((p) => {
      const d = /@description\('((?:[^'\\]|\\.)*)'\)/.exec(p.decorators)?.[1];
      if (d === undefined) return true;
      return p.hasDefault ? !(d.startsWith("Optional.") && d.includes("Defaults to")) : !d.startsWith("Required.");
    });
    expect(bad.map((p) => `${p.file}: ${p.name}`)).toEqual([]);
  });

  it("never fetches keys or connection strings from ARM", () => {
    for (const [file, text] of Object.entries(files)) {
      expect(text, file).not.toMatch(/\blist\w*\s*\(/i);
      expect(text, file).not.toMatch(/\.list\w*\(/i);
      expect(text, file).not.toMatch(/AccountKey=|primaryMasterKey|primaryKey/);
    }
  });

  it("outputs carry no secret: no secure parameter, key, connection string or list*() in an output", () => {
    for (const [file, text] of Object.entries(files)) {
      const secure = params(file, text)
        .filter((p) => p.decorators.includes("@secure()"))
        .map((p) => p.name);
      for (const m of stripComments(text).matchAll(/^output\s+(\w+)\s+[^=]+=\s*([\s\S]*?)(?=\n(?:@|output\s|$))/gm)) {
        const [, name = "", value = ""] = m;
        expect(name, `${file}: output ${name}`).not.toMatch(/secret|password|connectionstring|instrumentationkey|accountkey/i);
        expect(value, `${file}: output ${name}`).not.toMatch(/ConnectionString|InstrumentationKey|secretValues|\.value\b|list\w*\(/i);
        for (const s of secure) expect(value, `${file}: output ${name} uses @secure ${s}`).not.toMatch(new RegExp(`\\b${s}\\b`));
      }
    }
  });

  it("role assignments are guid()-named, scoped to the resource, for a service principal", () => {
    const rbac = resourcesOfType("Microsoft.Authorization/roleAssignments");
    expect(rbac.length).toBeGreaterThanOrEqual(3);
    for (const r of rbac) {
      expect(r.body, r.header).toMatch(/^\s*name:\s*guid\(/m);
      expect(r.body, r.header).toMatch(/^\s*scope:\s*\w+/m);
      expect(r.body, r.header).toMatch(/principalType:\s*'ServicePrincipal'/);
    }
    const cosmosRbac = resourcesOfType("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments");
    expect(cosmosRbac.length).toBe(1);
    for (const r of cosmosRbac) expect(r.body, r.header).toMatch(/^\s*name:\s*guid\(/m);
  });

  it("every role definition GUID is named in a comment on its line", () => {
    for (const [file, text] of Object.entries(files)) {
      for (const line of text.split("\n")) {
        if (/'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'/i.test(line)) {
          expect(line, `${file}: ${line.trim()}`).toMatch(/\/\/\s*\S+/);
        }
      }
    }
  });

  it("resources use GA API versions", () => {
    for (const [file, text] of Object.entries(files)) {
      for (const m of text.matchAll(/^resource\s+\w+\s+'([^'@]+)@([^']+)'/gm)) {
        expect(m[2], `${file}: ${m[1]}`).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
    }
  });

  it("the example parameters name real, non-secret parameters", () => {
    const example = JSON.parse(read("main.parameters.json")) as { parameters: Record<string, unknown> };
    const mainParams = params("main.bicep", main);
    for (const name of Object.keys(example.parameters)) {
      const p = mainParams.find((q) => q.name === name);
      expect(p, name).toBeDefined();
      expect(p?.decorators ?? "", name).not.toContain("@secure()");
    }
  });
});
