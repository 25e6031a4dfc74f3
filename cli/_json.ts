// deno-lint-ignore-file no-console
/**
 * The one `--json` layout of every subcommand: one document, indented by two spaces, a JSON
 * object whose first key is `"schema"`, so scripts can check which shape they parse.
 *
 * @module
 */

/** The version of the `--json` shapes; raised when a field changes meaning or goes away. */
export const JSON_SCHEMA = 1;

/**
 * The text of one `--json` document: `{"schema": 1, ...fields}`, two-space indented. A field
 * whose value is `undefined` is written as `null` (scripts see every key of the shape).
 *
 * @param fields The document's fields (a `schema` among them is replaced).
 * @returns The JSON text, without a trailing newline.
 */
export function jsonDocument(fields: Record<string, unknown>): string {
  const { schema: _, ...rest } = fields;
  return JSON.stringify(
    { schema: JSON_SCHEMA, ...rest },
    (key, value) => key !== "" && value === undefined ? null : value,
    2,
  );
}

/**
 * Print one `--json` document ({@linkcode jsonDocument}) to stdout.
 *
 * @param fields The document's fields.
 */
export function printJson(fields: Record<string, unknown>): void {
  console.log(jsonDocument(fields));
}
