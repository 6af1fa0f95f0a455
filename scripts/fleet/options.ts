// `npm run fleet -- preview [options]`: the command line, parsed. Pure.

export interface FleetOptions {
  readonly command: "preview";
  /** Stacks to preview; default every site stack in stacks/ (scripts/list-stacks.ts). */
  readonly stacks?: readonly string[];
  /** Sites previewed at once. */
  readonly concurrency: number;
  /** Refresh state from the boxes first (drift shows), as the PR workflow does. */
  readonly refresh: boolean;
  /** Run the policy pack (policy/). */
  readonly policy: boolean;
  /** The program every site runs (a module exporting it as `export =`); default the repository's index.ts. */
  readonly program?: string;
  /** Also write the summary as Markdown (the PR comment) and as JSON. */
  readonly markdown?: string;
  readonly json?: string;
}

export const USAGE = `usage: npm run fleet -- preview [--stacks a,b,...] [--concurrency N] [--no-refresh] [--no-policy] [--program file.ts] [--markdown file] [--json file]

Previews every site stack (stacks/Pulumi.<site>.yaml but the lab and example-*) with the
policy pack, several at once, and prints one summary. Exit status 1 when any site has
errors or mandatory policy violations.`;

export const DEFAULT_CONCURRENCY = 10;

/** Parses the arguments after `npm run fleet --`; throws a usage message on a mistake. */
export function parseFleetArgs(argv: readonly string[]): FleetOptions {
  const [command, ...rest] = argv;
  if (command !== "preview") throw new Error(command ? `unknown command '${command}': the fleet knows 'preview'\n${USAGE}` : USAGE);
  const options: { -readonly [K in keyof FleetOptions]: FleetOptions[K] } = { command, concurrency: DEFAULT_CONCURRENCY, refresh: true, policy: true };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case "--stacks":
        options.stacks = value().split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "--concurrency": {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--concurrency must be a whole number 1-64\n${USAGE}`);
        options.concurrency = n;
        break;
      }
      case "--refresh":
        options.refresh = true;
        break;
      case "--no-refresh":
        options.refresh = false;
        break;
      case "--no-policy":
        options.policy = false;
        break;
      case "--program":
        options.program = value();
        break;
      case "--markdown":
        options.markdown = value();
        break;
      case "--json":
        options.json = value();
        break;
      default:
        throw new Error(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  return options;
}
