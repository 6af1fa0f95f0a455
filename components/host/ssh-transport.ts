// The SSH transport behind every host resource.
//
// One connection per box per deployment: every dynamic resource runs in the
// same provider process, so connections live in a process-wide pool (on
// globalThis, because each provider is serialized separately and would
// otherwise get its own copy of this module). Commands share the connection
// as separate channels, at most MAX_CHANNELS at a time (sshd's MaxSessions
// defaults to 10).

import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import * as crypto from "crypto";
import { Connection, describeConnection, fingerprintOf, hostKeyAlgorithmsFor, keyTypeOf, parseHostKey } from "./connection";
import { Remote, RunOptions, RunResult, namedError, shq } from "./remote";
import { processRole, processStart, traceMark } from "../trace";

const MAX_CHANNELS = 8;

/** A connection with its defaults applied: what this transport dials. */
interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly privateKey?: string;
  readonly privateKeyPassword?: string;
  readonly agentSocketPath?: string;
  readonly hostKey?: string;
  readonly dangerouslySkipHostKeyCheck: boolean;
  readonly dialErrorLimit: number;
  readonly perDialTimeout: number;
  readonly proxy?: Endpoint;
}

function toEndpoint(c: Connection | NonNullable<Connection["proxy"]>): Endpoint {
  return {
    host: c.host,
    port: c.port ?? 22,
    user: c.user ?? "root",
    password: c.password,
    privateKey: c.privateKey,
    privateKeyPassword: c.privateKeyPassword,
    agentSocketPath: c.agentSocketPath,
    hostKey: c.hostKey,
    dangerouslySkipHostKeyCheck: c.dangerouslySkipHostKeyCheck ?? false,
    dialErrorLimit: c.dialErrorLimit ?? 3,
    perDialTimeout: c.perDialTimeout ?? 15,
    proxy: "proxy" in c && c.proxy ? toEndpoint(c.proxy) : undefined,
  };
}

const describeEndpoint = (e: Endpoint): string => describeConnection(e);
const DEFAULT_TIMEOUT_SECONDS = 600;

/** The box presented a host key other than the pinned one. Never retried. */
export function hostKeyMismatchError(where: string, expected: string, presented: string): Error {
  return namedError(
    "HostKeyMismatchError",
    `host key mismatch for ${where}: expected ${expected}, the server presented ${presented}. ` +
      "If the box was reinstalled, verify its new key out of band and update hostKey; otherwise someone may be intercepting the connection.",
  );
}

/** The private key cannot be used (unreadable, encrypted without a passphrase). Never retried. */
export function privateKeyError(where: string, detail: string): Error {
  return namedError("PrivateKeyError", `cannot use the private key for ${where}: ${detail}; pass an unencrypted OpenSSH or PEM key, or set privateKeyPassword`);
}

/** The box refused our credentials. Never retried. */
export function authenticationError(where: string, detail: string): Error {
  return namedError(
    "AuthenticationError",
    `authentication failed for ${where} (${detail}): check user and privateKey (or password), and that the public key is in the user's authorized_keys`,
  );
}

/** No SSH session could be set up (refused, unreachable, timed out). */
export function unreachableError(where: string, attempts: number, detail: string): Error {
  return namedError(
    "UnreachableError",
    `cannot reach ${where} after ${attempts} attempt(s): ${detail}. Check the address, that sshd runs, and routes and firewalls on the way`,
  );
}

/** A non-root user could not become root with `sudo -n`. */
export function sudoRefusedError(where: string, detail: string): Error {
  return namedError(
    "SudoRefusedError",
    `sudo refused on ${where}: ${detail}. Host resources need root: connect as root, or give this user passwordless sudo (NOPASSWD)`,
  );
}

/** A command ran longer than its timeout and was abandoned. */
export function remoteTimeoutError(where: string, seconds: number, script: string): Error {
  return namedError("RemoteTimeoutError", `command on ${where} did not finish within ${seconds} s: ${script.split("\n")[0].slice(0, 120)}`);
}

interface Pool {
  readonly sessions: Map<string, Promise<SshSession>>;
  /** Connections opened by this process, per endpoint, for diagnostics and tests. */
  readonly opened: Map<string, number>;
}

function pool(): Pool {
  const g = globalThis as { __ipv6gwSshPool?: Pool };
  if (!g.__ipv6gwSshPool) {
    g.__ipv6gwSshPool = { sessions: new Map(), opened: new Map() };
    traceMark(processRole(), "start", {}, processStart());
  }
  return g.__ipv6gwSshPool;
}

function poolKey(e: Endpoint): string {
  const secret = crypto
    .createHash("sha256")
    .update(JSON.stringify([e.privateKey, e.password, e.agentSocketPath, e.hostKey, e.dangerouslySkipHostKeyCheck]))
    .digest("hex");
  return `${describeEndpoint(e)}#${secret}`;
}

/** A pooled session to the box, opened on first use. */
export async function openRemote(connection: Connection): Promise<Remote> {
  const endpoint = toEndpoint(connection);
  const key = poolKey(endpoint);
  const sessions = pool().sessions;
  let session = sessions.get(key);
  if (!session) {
    // A session that loses its connection reconnects on its next command,
    // so it stays pooled; only a failed first dial is forgotten.
    session = SshSession.open(endpoint);
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}

/**
 * A new connection outside the pool: proves that the box accepts new
 * sessions right now (the firewall's confirm step). The caller closes it.
 */
export async function openFreshRemote(connection: Connection): Promise<Remote & { close(): void }> {
  return SshSession.open(toEndpoint(connection), 1);
}

/** How many connections this process opened to each endpoint. */
export function connectionsOpened(): ReadonlyMap<string, number> {
  return pool().opened;
}

/** Closes every pooled connection (end of a test, end of a bench run). */
export function closeAllRemotes(): void {
  const sessions = pool().sessions;
  for (const s of sessions.values()) s.then((x) => x.close(), () => undefined);
  sessions.clear();
}

// Dynamic providers are serialized by Pulumi's closure serializer, which
// keeps constructor bodies but drops class field initializers: state is
// therefore set in constructors, never in field declarations.
class Semaphore {
  private active: number;
  private readonly waiting: (() => void)[];
  constructor(private readonly limit: number) {
    this.active = 0;
    this.waiting = [];
  }
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    return () => {
      this.active--;
      this.waiting.shift()?.();
    };
  }
}

export class SshSession implements Remote {
  readonly where: string;
  private readonly channels: Semaphore;
  private closed: boolean;

  private constructor(
    private readonly endpoint: Endpoint,
    private client: Client,
  ) {
    this.where = describeEndpoint(endpoint);
    this.channels = new Semaphore(MAX_CHANNELS);
    this.closed = false;
    this.watch(client);
  }

  static async open(endpoint: Endpoint, attempts?: number): Promise<SshSession> {
    return new SshSession(endpoint, await dialWithRetry(endpoint, attempts));
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }

  private watch(client: Client): void {
    client.on("close", () => {
      if (client === this.client) this.closed = true;
    });
    // After "ready", errors surface through the close event and failed channels.
    client.on("error", () => undefined);
  }

  async run(script: string, options: RunOptions = {}): Promise<RunResult> {
    const release = await this.channels.acquire();
    try {
      return await this.collect(await this.openChannelRetrying(script), script, options);
    } finally {
      release();
    }
  }

  /**
   * Opens a channel for the script. The command has not started when this
   * fails, so trying again is safe: on a dropped connection, over a new one;
   * on "open failed" (sshd still counts a just-closed session against
   * MaxSessions), after a short pause.
   */
  private async openChannelRetrying(script: string): Promise<ClientChannel> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.openChannel(script);
      } catch (err) {
        if (this.closed) {
          this.client = await dialWithRetry(this.endpoint);
          this.closed = false;
          this.watch(this.client);
        } else if (!(err instanceof Error && /open failed/.test(err.message)) || attempt >= 5) {
          throw err;
        } else {
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
        if (attempt >= 5) throw err;
      }
    }
  }

  private command(script: string): string {
    const sh = `/bin/sh -c ${shq(script)}`;
    // sudo resets the environment: SSH_CONNECTION (how this session reached the box) goes through as an argument.
    return this.endpoint.user === "root" ? sh : `sudo -n -- env IPV6GW_SSH_CONNECTION="$SSH_CONNECTION" ${sh}`;
  }

  private openChannel(script: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(this.command(script), (err, channel) => (err ? reject(err) : resolve(channel)));
      } catch (err) {
        reject(err);
      }
    });
  }

  private collect(channel: ClientChannel, script: string, options: RunOptions): Promise<RunResult> {
    const timeout = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let code: number | undefined;
      const timer = setTimeout(() => {
        channel.close();
        reject(remoteTimeoutError(this.where, timeout, script));
      }, timeout * 1000);
      channel.on("data", (b: Buffer) => out.push(b));
      channel.stderr.on("data", (b: Buffer) => err.push(b));
      channel.on("exit", (c: number | null, signal?: string) => {
        code = c ?? (signal ? 128 : 255);
      });
      // The exit status comes with "exit", or only with "close" when the server sends it late.
      channel.on("close", (c?: number | null) => {
        clearTimeout(timer);
        if (code === undefined && typeof c === "number") code = c;
        const result = {
          code: code ?? 255,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
          ...(code === undefined ? { interrupted: true } : {}),
        };
        const refusal = this.endpoint.user === "root" ? undefined : sudoRefusal(result);
        if (refusal) reject(sudoRefusedError(this.where, refusal));
        else resolve(result);
      });
      channel.end(options.stdin ?? "");
    });
  }
}

/** sudo's own refusal messages, as opposed to a failing script. */
export function sudoRefusal(result: RunResult): string | undefined {
  if (result.code === 0) return undefined;
  const line = result.stderr.split("\n").find((l) => l.startsWith("sudo: ") || / is not in the sudoers file/.test(l));
  if (!line) return undefined;
  if (/password is required|not in the sudoers|may not run sudo|not allowed to execute|command not found|no tty present/.test(line)) {
    return line.trim();
  }
  return undefined;
}

function isPermanent(err: unknown): boolean {
  return err instanceof Error && ["HostKeyMismatchError", "AuthenticationError", "PrivateKeyError"].includes(err.name);
}

async function dialWithRetry(endpoint: Endpoint, attempts?: number): Promise<Client> {
  const limit = attempts ?? (endpoint.dialErrorLimit < 0 ? Infinity : Math.max(1, endpoint.dialErrorLimit));
  let lastError: unknown;
  for (let attempt = 1; attempt <= limit; attempt++) {
    const started = Date.now();
    try {
      const client = await dial(endpoint);
      traceMark(processRole(), "ssh-dial", { where: describeEndpoint(endpoint), ms: Date.now() - started });
      const opened = pool().opened;
      opened.set(describeEndpoint(endpoint), (opened.get(describeEndpoint(endpoint)) ?? 0) + 1);
      return client;
    } catch (err) {
      if (isPermanent(err)) throw err;
      lastError = err;
      if (attempt < limit) await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** (attempt - 1), 8000)));
    }
  }
  const detail = lastError instanceof Error ? lastError.message : String(lastError);
  throw unreachableError(describeEndpoint(endpoint), limit, detail);
}

async function dial(endpoint: Endpoint): Promise<Client> {
  const ssh2 = require("ssh2") as typeof import("ssh2");
  const where = describeEndpoint(endpoint);
  let sock: ConnectConfig["sock"];
  let jump: Client | undefined;
  if (endpoint.proxy) {
    jump = await dialWithRetry(endpoint.proxy);
    sock = await new Promise((resolve, reject) =>
      jump!.forwardOut("127.0.0.1", 0, endpoint.host, endpoint.port, (err, stream) => {
        if (err) reject(new Error(`jump host ${describeEndpoint(endpoint.proxy!)} could not open a tunnel to ${endpoint.host}:${endpoint.port}: ${err.message}`));
        else resolve(stream);
      }),
    );
  }
  const pin = endpoint.hostKey ? parseHostKey(endpoint.hostKey) : undefined;
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let verdict: Error | undefined;
    client.on("close", () => jump?.end());
    client.on("ready", () => resolve(client));
    client.on("error", (err: Error & { level?: string; code?: string }) => {
      if (verdict) reject(verdict);
      else if (err.level === "client-authentication") reject(authenticationError(where, err.message));
      else if (/privateKey|private key|key format/i.test(err.message)) reject(privateKeyError(where, err.message));
      else reject(new Error(err.code ? `${err.code}: ${err.message}` : err.message));
    });
    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      privateKey: endpoint.privateKey,
      passphrase: endpoint.privateKeyPassword,
      password: endpoint.password,
      agent: endpoint.agentSocketPath,
      sock,
      readyTimeout: endpoint.perDialTimeout > 0 ? endpoint.perDialTimeout * 1000 : 2 ** 31 - 1,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer) => {
        if (endpoint.dangerouslySkipHostKeyCheck && !pin) return true;
        const presented = `${fingerprintOf(key)} (${keyTypeOf(key)})`;
        if (!pin) {
          verdict = hostKeyMismatchError(where, "a pinned hostKey (none is set)", presented);
          return false;
        }
        const ok = pin.kind === "key" ? key.equals(pin.blob) : fingerprintOf(key) === pin.fingerprint;
        if (!ok) {
          const expected = pin.kind === "key" ? `${pin.fingerprint} (${pin.type})` : pin.fingerprint;
          verdict = hostKeyMismatchError(where, expected, presented);
        }
        return ok;
      },
    };
    const algorithms = pin ? hostKeyAlgorithmsFor(pin) : undefined;
    if (algorithms) config.algorithms = { serverHostKey: algorithms as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] };
    try {
      client.connect(config);
      // Without it, Nagle's algorithm holds each small packet for the box's delayed ACK: about 40 ms a
      // round trip, 80 ms of each command's 95. (A socket through a jump host is a channel: no-op.)
      client.setNoDelay(true);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      reject(/privateKey|private key|key format/i.test(message) ? privateKeyError(where, message) : err);
    }
  });
}
