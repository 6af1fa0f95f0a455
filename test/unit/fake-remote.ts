// A stand-in for an SSH session: records every script (and its stdin) and
// answers from a list of rules, one per script the test expects. A script no
// rule matches fails the test, so a provider that starts running something
// new, or something changed, cannot pass on a default answer.
import type { Clock } from "../../components/host/provider-kit";
import { Remote, RunOptions, RunResult } from "../../components/host/remote";

export type Answer = Partial<RunResult> | ((script: string, stdin?: string) => Partial<RunResult> | Promise<Partial<RunResult>>);

/**
 * Which script, and what the box answers. A string matches the whole script
 * exactly (build it with the provider's own exported script builder and the
 * arguments the test expects); a RegExp must match all of it, not a part.
 */
export type Rule = [string | RegExp, Answer];

// Scripts no rule matched, across every FakeRemote of the running test. A
// provider may catch the error `run` throws (a probe records it as a failed
// check, a confirm treats it as an unreachable box), so the test fails
// afterwards too.
const strays: string[] = [];

/** Throws if a script no rule matched was run since the last call; run after each test. */
export function checkNoStrays(): void {
  const found = strays.splice(0);
  if (found.length > 0) throw new Error(`scripts no rule matched during this test (the provider may have caught the error):\n\n${found.join("\n\n")}`);
}

afterEach(checkNoStrays);

function matches(pattern: string | RegExp, script: string): boolean {
  if (typeof pattern === "string") return pattern === script;
  const m = new RegExp(pattern.source, pattern.flags.replace("g", "")).exec(script);
  return m !== null && m.index === 0 && m[0] === script;
}

function strayMessage(where: string, script: string, stdin?: string): string {
  const lines = script.split("\n");
  const shown = lines.slice(0, 6).map((l) => `    | ${l}`);
  if (lines.length > 6) shown.push(`    | ... (${lines.length - 6} more lines)`);
  return [
    `FakeRemote ${where} was not told about this script${stdin === undefined ? "" : ` (stdin: ${JSON.stringify(stdin.slice(0, 60))}${stdin.length > 60 ? "..." : ""})`}:`,
    ...shown,
    "If the provider is meant to run it, add a rule to the FakeRemote's list: [exactScript, { code, stdout, stderr }],",
    "where exactScript comes from the provider's script builder with the arguments you expect (a RegExp must match the whole script).",
  ].join("\n");
}

export class FakeRemote implements Remote {
  readonly calls: { script: string; stdin?: string }[] = [];
  constructor(
    private readonly rules: Rule[] = [],
    readonly where = "root@fake.example:22",
  ) {}

  async run(script: string, options: RunOptions = {}): Promise<RunResult> {
    const stdin = options.stdin === undefined ? undefined : options.stdin.toString();
    this.calls.push({ script, stdin });
    const rule = this.rules.find(([pattern]) => matches(pattern, script));
    if (!rule) {
      const message = strayMessage(this.where, script, stdin);
      strays.push(message);
      throw new Error(message);
    }
    const answer = typeof rule[1] === "function" ? await rule[1](script, stdin) : rule[1];
    return { code: 0, stdout: "", stderr: "", ...answer };
  }

  /** The scripts run so far, joined, for assertions on what reached the box. */
  get transcript(): string {
    return this.calls.map((c) => c.script).join("\n----\n");
  }

  /** The scripts run so far, in order. */
  get scripts(): string[] {
    return this.calls.map((c) => c.script);
  }
}

/** Answers in turn, the last one repeated: for a script the box answers differently each time. */
export function inTurn(...answers: Partial<RunResult>[]): () => Partial<RunResult> {
  let i = 0;
  return () => answers[Math.min(i++, answers.length - 1)];
}

/** A clock that never waits: `sleep` records the time asked for and moves `now` on by it. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

export const connection = {
  host: "192.0.2.1",
  user: "root",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKi0T01RggbGXVQcwimgy5tZDId2EEabCN2uqYY1iUQp",
};

export const opener = (remote: Remote) => async () => remote;
