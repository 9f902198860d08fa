// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The pure core: no Azure SDK, no storage engine, no adapter folder. Adapters live beside their
 * ports (shared/store, shared/queues, shared/blobs, …) and the core reaches them only through the
 * interfaces it defines (DESIGN principle 6).
 */
const pureCore = ["shared/domain/**/*.ts", "shared/events/**/*.ts", "shared/vulndb/versions/**/*.ts"];
const adapterImports = {
  patterns: [
    { group: ["@azure/*"], message: "The pure core must not depend on Azure SDKs: define a port and put the adapter beside it." },
    { group: ["better-sqlite3", "azurite", "@vercel/*"], message: "Storage engines belong in adapters." },
    {
      group: ["**/store/*", "**/queues/*", "**/blobs/*", "**/functions/*", "**/host/*", "**/cli/*", "**/adapters/*"],
      message: "The pure core must not import adapters, functions or the CLI."
    }
  ]
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "test-results/**", ".scanhook/**", "coverage/**", ".cache/**", ".tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { project: ["./tsconfig.check.json"], tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off"
    }
  },
  { files: pureCore, ignores: ["**/*.test.ts"], rules: { "no-restricted-imports": ["error", adapterImports] } },
  { files: ["**/*.js"], ...tseslint.configs.disableTypeChecked }
);
