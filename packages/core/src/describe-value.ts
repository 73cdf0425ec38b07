/**
 * A short description of a value for error messages: `5`, `"x"`, `null`, `an object`, ...
 *
 * @example
 * ```ts
 * describeValue(0); // "0"
 * describeValue("5"); // '"5"'
 * describeValue([]); // "an array"
 * describeValue(new Map()); // "an object (Map)"
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "symbol":
      return value.toString();
    case "function":
      return "a function";
    default:
      return Array.isArray(value) ? "an array" : `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  }
}
