// A stand-in for an SSH session: records every script (and its stdin) and
// answers from a list of rules, so provider hooks run without a box.
import { Remote, RunOptions, RunResult } from "../../components/host/remote";

export type Rule = [RegExp, Partial<RunResult> | ((script: string, stdin?: string) => Partial<RunResult>)];

export class FakeRemote implements Remote {
  readonly where = "root@fake.example:22";
  readonly calls: { script: string; stdin?: string }[] = [];
  constructor(private readonly rules: Rule[] = []) {}

  async run(script: string, options: RunOptions = {}): Promise<RunResult> {
    const stdin = options.stdin === undefined ? undefined : options.stdin.toString();
    this.calls.push({ script, stdin });
    const rule = this.rules.find(([re]) => re.test(script));
    const answer = rule ? (typeof rule[1] === "function" ? rule[1](script, stdin) : rule[1]) : {};
    return { code: 0, stdout: "", stderr: "", ...answer };
  }

  /** The scripts run so far, joined, for assertions on what reached the box. */
  get transcript(): string {
    return this.calls.map((c) => c.script).join("\n----\n");
  }
}

export const connection = {
  host: "192.0.2.1",
  user: "root",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKi0T01RggbGXVQcwimgy5tZDId2EEabCN2uqYY1iUQp",
};

export const opener = (remote: Remote) => async () => remote;
