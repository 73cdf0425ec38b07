import { parseArgs } from "node:util";

/** What the demo was asked to do. */
export interface DemoFlags {
  readonly count: number;
  readonly workers: number;
  readonly help: boolean;
}

/** A flag or value the demo cannot run with; the message says what is wrong. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const DEFAULT_COUNT = 1000;
export const DEFAULT_WORKERS = 32;
const MAX_COUNT = 1_000_000;
const MAX_WORKERS = 1000;

export const USAGE = `Usage: pnpm start [--count N] [--workers N]

Starts a slow, flaky HTTP API on 127.0.0.1 (it serves 24 requests at once and refuses
more with a 429) and fetches N records from it through a sluice pipeline, then again with
workers: "auto", with live progress and a summary that compares the runs with the same
job done one request at a time.

Options:
  --count N     records to fetch, 1..${MAX_COUNT} (default ${DEFAULT_COUNT})
  --workers N   requests in flight at once in the first run, 1..${MAX_WORKERS} (default ${DEFAULT_WORKERS})
  -h, --help    show this help

Ctrl-C stops the run cleanly and still prints the summary (exit status 0);
a second Ctrl-C exits at once (status 130). A bad flag or value exits with status 2.`;

/** Parses the demo's command line (without `node` and the script path). Throws a {@link UsageError}. */
export function parseFlags(argv: readonly string[]): DemoFlags {
  // `pnpm start -- --count 5` hands the script a leading "--"; accept both spellings.
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  let values: { count?: string | undefined; workers?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError(explain(error));
  }
  return {
    count: integerFlag("count", values.count, DEFAULT_COUNT, MAX_COUNT),
    workers: integerFlag("workers", values.workers, DEFAULT_WORKERS, MAX_WORKERS),
    help: values.help === true,
  };
}

function integerFlag(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max} (received ${JSON.stringify(raw)})`);
  }
  return value;
}

// Say what node:util's parse error says, in the demo's words and without its advice on dashes.
function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  const flag = /^(?:-\w, )?(--?[\w-]+)/.exec(quoted)?.[1] ?? quoted;
  switch ((error as { code?: unknown }).code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${flag}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /does not take/.test(message) ? `${flag} does not take a value` : `${flag} needs a value, as in ${flag} 100`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${JSON.stringify(quoted)}`;
    default:
      return message;
  }
}
