// The command line and environment for @pulumi/pulumi's `cmd/run`, as the
// official Go language host builds them (sdk/nodejs/cmd/pulumi-language-nodejs,
// constructArguments / execRuntime). Pure, so it is tested without an engine.

export interface RunArgumentsInput {
  readonly runPath: string;
  readonly monitor: string;
  readonly engine: string;
  readonly organization: string;
  readonly project: string;
  readonly rootDirectory: string;
  readonly stack: string;
  readonly pwd: string;
  readonly dryRun: boolean;
  readonly parallel: number;
  readonly entryPoint: string;
  readonly programArgs: readonly string[];
  /** Pulumi.yaml `runtime.options.nodeargs`, split on spaces. */
  readonly nodeargs: string;
  /** A module node preloads (-r) before cmd/run: scripts/preload/defer-modules.js. */
  readonly preload?: string;
}

export function runArguments(input: RunArgumentsInput): string[] {
  const args = input.preload ? ["-r", input.preload] : [];
  args.push(...input.nodeargs.split(/\s+/).filter((a) => a !== ""));
  args.push(input.runPath);
  const flag = (name: string, value: string) => {
    if (value !== "") args.push(`--${name}`, value);
  };
  flag("monitor", input.monitor);
  flag("engine", input.engine);
  flag("organization", input.organization);
  flag("project", input.project);
  flag("root-directory", input.rootDirectory);
  flag("stack", input.stack);
  flag("pwd", input.pwd);
  if (input.dryRun) args.push("--dry-run");
  flag("parallel", String(input.parallel));
  args.push(input.entryPoint, ...input.programArgs);
  return args;
}

export interface RunEnvironmentInput {
  /** Config as the engine sends it: keys `<namespace>:<name>`. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys: readonly string[];
  /** Pulumi.yaml `runtime.options`. */
  readonly options: Readonly<Record<string, unknown>>;
}

export function runEnvironment(input: RunEnvironmentInput): Record<string, string> {
  // The SDK reads the old key shape `<namespace>:config:<name>`, as the Go host sends it.
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.config)) {
    const colon = key.indexOf(":");
    if (colon < 0) throw new Error(`config key "${key}" has no namespace; expected <namespace>:<name>`);
    config[`${key.slice(0, colon)}:config:${key.slice(colon + 1)}`] = value;
  }
  const env: Record<string, string> = {
    PULUMI_CONFIG: JSON.stringify(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(input.secretKeys),
  };
  // TypeScript is on unless the project turns it off, as in the Go host.
  if (input.options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (typeof input.options.tsconfig === "string" && input.options.tsconfig !== "") {
    env.PULUMI_NODEJS_TSCONFIG_PATH = input.options.tsconfig;
  }
  return env;
}

export interface PolicyPackArgumentsInput {
  /** @pulumi/pulumi's cmd/run-policy-pack, resolved from the pack's directory. */
  readonly runPath: string;
  /** What the CLI asks to pass (the engine address, tracing flags). */
  readonly pluginArgs: readonly string[];
  /** The policy pack's directory (PulumiPolicy.yaml). */
  readonly programDirectory: string;
}

/**
 * The command line of a policy pack, as the Go host's RunPlugin builds it
 * for kind "analyzer": the plugin's arguments first, the pack's directory
 * last (for other plugin kinds it comes first).
 */
export function policyPackArguments(input: PolicyPackArgumentsInput): string[] {
  return [input.runPath, ...input.pluginArgs, input.programDirectory];
}

/**
 * A policy pack's environment: the CLI's (it sends the whole of it), plus
 * TypeScript on unless the pack's PulumiPolicy.yaml turns it off.
 */
export function policyPackEnvironment(cliEnv: readonly string[], options: Readonly<Record<string, unknown>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of cliEnv) {
    const eq = kv.indexOf("=");
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (typeof options.tsconfig === "string" && options.tsconfig !== "") env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
  return env;
}
