// Each box's facts read once per `pulumi` command. `pulumi up` runs the
// program twice, for its preview and then for the update, each time in a new
// process; the update takes what the preview read of each box instead of
// dialling it again, so it applies the plan the preview showed. Entries are
// keyed by the CLI process (its pid and start time, so a reused pid is a new
// command) and the connection (factsKey); those of commands that have ended
// are removed by the next program that starts. A separate `pulumi preview`
// and `pulumi up` are two commands: each reads the boxes itself. A refresh
// before the program (`up --refresh`) puts what HostFacts reads of a box
// here too, so the program takes it instead of dialling the box again.

import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Connection } from "./connection";
import type { HostFactsData } from "./host-facts";

export type FactsReader = (connection: Connection) => Promise<HostFactsData>;

/**
 * Who is asked for facts: the same box, port, user, pinned key and
 * credential read the same (a site with a wrong key must not borrow
 * another site's read). The credential goes in hashed.
 */
export function factsKey(c: Connection): string {
  const proxy = c.proxy ? `${c.proxy.user ?? "root"}@${c.proxy.host}:${c.proxy.port ?? 22}>` : "";
  const credential = crypto.createHash("sha256").update(`${c.privateKey ?? ""}\0${c.password ?? ""}\0${c.proxy?.privateKey ?? ""}`).digest("hex").slice(0, 16);
  return `${proxy}${c.user ?? "root"}@${c.host}:${c.port ?? 22}#${c.hostKey ?? (c.dangerouslySkipHostKeyCheck ? "any" : "")}#${credential}`;
}

/** A process's parent and start time (clock ticks since boot), from /proc/<pid>/stat. */
function procStat(procRoot: string, pid: number): { comm: string; ppid: number; start: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(procRoot, String(pid), "stat"), "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ")".
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(" ");
  const ppid = Number(fields[1]);
  if (!Number.isInteger(ppid) || fields.length < 20) return undefined;
  return { comm: text.slice(text.indexOf("(") + 1, close), ppid, start: fields[19] };
}

/**
 * The `pulumi` CLI process this program runs under, as "<pid>-<start time>",
 * or undefined when there is none (a fleet preview runs programs in its own
 * process) or no /proc to tell.
 */
export function cliCommandId(procRoot = "/proc", pid = process.pid): string | undefined {
  let current = procStat(procRoot, pid);
  // The program's node, its language host, then the CLI; a wrapper or two more at most.
  for (let depth = 0; current && current.ppid > 1 && depth < 8; depth++) {
    const parentPid = current.ppid;
    current = procStat(procRoot, parentPid);
    if (current?.comm === "pulumi") return `${parentPid}-${current.start}`;
  }
  return undefined;
}

/** Whether the command an entry belongs to is still running. */
function commandRunning(procRoot: string, command: string): boolean {
  const m = /^(\d+)-(\d+)$/.exec(command);
  return m !== null && procStat(procRoot, Number(m[1]))?.start === m[2];
}

/**
 * The cache's directory, made if missing: ours alone (owner, mode 0700, not a
 * link), or undefined, and then nothing is cached: facts decide what the
 * program does to a box, so nobody else may write them.
 */
function privateDir(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o077) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

export interface CommandFactsOptions {
  /** Where entries go. Default: ipv6gw-facts-<uid> in the temporary directory. */
  readonly dir?: string;
  /** The command (cliCommandId()); undefined reads every time. */
  readonly command?: string;
  /** Where processes are looked up (tests give a stand-in). */
  readonly procRoot?: string;
  /** An entry older than this is read again, however long the command has run (a prompt left open). */
  readonly maxAgeSeconds?: number;
}

interface Entry {
  readonly at: number;
  readonly facts: HostFactsData;
}

/** The command's remembered facts: what was read of a box in this command, and a place to put a read. */
export interface CommandFacts {
  get(connection: Connection): HostFactsData | undefined;
  put(connection: Connection, facts: HostFactsData): void;
}

/** The command's facts (see the file comment), or undefined when there is no command or no private place for them. */
export function commandFacts(options: CommandFactsOptions = {}): CommandFacts | undefined {
  const procRoot = options.procRoot ?? "/proc";
  const command = options.command;
  const dir = command ? privateDir(options.dir ?? path.join(os.tmpdir(), `ipv6gw-facts-${process.getuid?.() ?? "user"}`)) : undefined;
  if (!command || !dir) return undefined;
  const maxAge = (options.maxAgeSeconds ?? 600) * 1000;
  for (const name of fs.readdirSync(dir)) {
    const owner = name.split("_")[0];
    if (!commandRunning(procRoot, owner)) fs.rmSync(path.join(dir, name), { force: true });
  }
  const fileOf = (connection: Connection) => path.join(dir, `${command}_${crypto.createHash("sha256").update(factsKey(connection)).digest("hex").slice(0, 32)}.json`);
  return {
    get(connection) {
      try {
        const entry = JSON.parse(fs.readFileSync(fileOf(connection), "utf8")) as Entry;
        if (Date.now() - entry.at <= maxAge) return entry.facts;
      } catch {
        // Not read yet in this command (or unreadable).
      }
      return undefined;
    },
    put(connection, facts) {
      const file = fileOf(connection);
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ at: Date.now(), facts } satisfies Entry), { mode: 0o600 });
      fs.renameSync(tmp, file);
    },
  };
}

/** `read`, remembered for the rest of the command (see the file comment). */
export function commandFactsReader(read: FactsReader, options: CommandFactsOptions = {}): FactsReader {
  const cache = commandFacts(options);
  if (!cache) return read;
  return async (connection) => {
    const known = cache.get(connection);
    if (known) return known;
    const facts = await read(connection);
    cache.put(connection, facts);
    return facts;
  };
}
