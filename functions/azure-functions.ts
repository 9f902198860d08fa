import azureFunctions from "@azure/functions";

/**
 * `@azure/functions` is CommonJS; under native ESM its classes are reached through the default
 * export (named imports of the classes are not there at run time). Types are imported directly.
 */
export const { app, InvocationContext } = azureFunctions;
