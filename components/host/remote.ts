// What host resources need from a box: run a POSIX sh script as root, with
// optional stdin, and get its exit code and output. The SSH transport
// implements it; unit tests use a fake that records every script.

export interface RunOptions {
  /** Bytes for the script's stdin: the only way secrets reach a box (never argv). */
  readonly stdin?: string | Buffer;
  /** Seconds before the command is abandoned. Defaults to 600. */
  readonly timeoutSeconds?: number;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /**
   * True when the connection ended before the script's exit status arrived
   * (`code` is then 255): the script may have run to any point, or still run.
   */
  readonly interrupted?: boolean;
}

export interface Remote {
  /** "user@host:port", for messages. */
  readonly where: string;
  /** Runs `script` with /bin/sh as root. Resolves with any exit code; rejects only when the transport fails. */
  run(script: string, options?: RunOptions): Promise<RunResult>;
}

/**
 * An Error with a name to tell kinds apart. Code that runs inside dynamic
 * providers cannot subclass Error: Pulumi's closure serializer turns classes
 * into functions, and `Error.call(this, msg)` sets no message on `this`.
 */
export function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A script that exited non-zero where success was required. */
export function remoteCommandError(where: string, what: string, result: RunResult): Error {
  return namedError("RemoteCommandError", `${what} failed on ${where} (exit ${result.code}): ${lastLines(result.stderr || result.stdout, 12) || "no output"}`);
}

/** Runs a script that must succeed; `what` says what it does, for the error. */
export async function mustRun(remote: Remote, what: string, script: string, options?: RunOptions): Promise<string> {
  const result = await remote.run(script, options);
  if (result.code !== 0) throw remoteCommandError(remote.where, what, result);
  return result.stdout;
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

/** Quotes a string for POSIX sh: the result is one word whatever it contains. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
