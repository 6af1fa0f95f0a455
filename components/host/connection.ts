// How to reach a box over SSH. The shape is @pulumi/command's
// `remote.ConnectionArgs` (host, port, user, password, privateKey,
// privateKeyPassword, hostKey, proxy, dialErrorLimit, perDialTimeout,
// agentSocketPath), so one connection object serves both our host resources
// and a user's own `remote.Command`s. One difference is deliberate: a missing
// `hostKey` is an error here, not "don't check"; skipping the check takes the
// loudly named `dangerouslySkipHostKeyCheck`.

import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/** A jump host on the way to the box; same fields as the box itself. */
export interface ProxyConnectionArgs {
  /** Address or name of the jump host. */
  readonly host: pulumi.Input<string>;
  /** SSH port. Defaults to 22. */
  readonly port?: pulumi.Input<number>;
  /** Login user. Defaults to "root". */
  readonly user?: pulumi.Input<string>;
  /** Password (secret). Used when no private key or agent is given. */
  readonly password?: pulumi.Input<string>;
  /** Private key in OpenSSH or PEM format (secret). Preferred over the password. */
  readonly privateKey?: pulumi.Input<string>;
  /** Passphrase of an encrypted private key (secret). */
  readonly privateKeyPassword?: pulumi.Input<string>;
  /** ssh-agent socket. Defaults to none (unlike @pulumi/command, we never read SSH_AUTH_SOCK implicitly). */
  readonly agentSocketPath?: pulumi.Input<string>;
  /**
   * The host's public key, OpenSSH one-line form ("ssh-ed25519 AAAA...") or its
   * SHA256 fingerprint ("SHA256:..."). Required unless `dangerouslySkipHostKeyCheck`.
   */
  readonly hostKey?: pulumi.Input<string>;
  /** Accept any host key. Defaults to false. Only for throwaway boxes: it allows a man in the middle. */
  readonly dangerouslySkipHostKeyCheck?: pulumi.Input<boolean>;
  /** Connection attempts before giving up; -1 for unlimited. Defaults to 3. */
  readonly dialErrorLimit?: pulumi.Input<number>;
  /** Seconds per connection attempt; 0 for no limit. Defaults to 15. */
  readonly perDialTimeout?: pulumi.Input<number>;
}

/** How to reach a box. */
export interface ConnectionArgs extends ProxyConnectionArgs {
  /** A jump host to connect through. Defaults to none. */
  readonly proxy?: pulumi.Input<ProxyConnectionArgs>;
}

/** A connection with every Input resolved, as providers receive it. */
export interface ResolvedProxyConnection {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly privateKey?: string;
  readonly privateKeyPassword?: string;
  readonly agentSocketPath?: string;
  readonly hostKey?: string;
  readonly dangerouslySkipHostKeyCheck?: boolean;
  readonly dialErrorLimit?: number;
  readonly perDialTimeout?: number;
}

export interface ResolvedConnection extends ResolvedProxyConnection {
  readonly proxy?: ResolvedProxyConnection;
}

/** A connection with defaults applied. */
export interface Endpoint {
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

/**
 * The zod schema of a resolved connection. Built in a function because dynamic
 * providers serialize what they capture and a module-level zod object does
 * not serialize (pulumi/pulumi#5294).
 */
export function connectionSchema() {
  const { z } = require("zod") as typeof import("zod");
  const base = {
    host: z.string({ error: "is required: the box's address or name" }).trim().min(1, "is required: the box's address or name"),
    port: z.number().int().min(1).max(65535, "must be a TCP port 1-65535").optional(),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_.-]*\$?$/i, "is not a valid login name")
      .optional(),
    password: z.string().optional(),
    privateKey: z
      .string()
      .regex(
        /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
        "is not a private key in OpenSSH or PEM format (expected a '-----BEGIN ... PRIVATE KEY-----' block); pass the key's contents, not its path",
      )
      .optional(),
    privateKeyPassword: z.string().optional(),
    agentSocketPath: z.string().optional(),
    hostKey: z
      .string()
      .refine((k) => parseHostKey(k) !== undefined, "is neither an OpenSSH public key ('ssh-ed25519 AAAA...') nor a fingerprint ('SHA256:...')")
      .optional(),
    dangerouslySkipHostKeyCheck: z.boolean().optional(),
    dialErrorLimit: z.number().int().min(-1).optional(),
    perDialTimeout: z.number().int().min(0).optional(),
  };
  type Shape = { hostKey?: string; dangerouslySkipHostKeyCheck?: boolean; privateKey?: string; password?: string; agentSocketPath?: string };
  const rules = (c: Shape, ctx: { addIssue: (i: { code: "custom"; path: string[]; message: string }) => void }) => {
    if (c.privateKey === undefined && c.password === undefined && c.agentSocketPath === undefined) {
      ctx.addIssue({ code: "custom", path: ["privateKey"], message: "no credential: set privateKey (preferred), password or agentSocketPath" });
    }
    if (c.hostKey === undefined && c.dangerouslySkipHostKeyCheck !== true) {
      ctx.addIssue({
        code: "custom",
        path: ["hostKey"],
        message:
          "is required so the box's identity is checked: set it to the box's public host key ('ssh-keyscan -t ed25519 <host>' prints it; verify it out of band) or its SHA256 fingerprint, or set dangerouslySkipHostKeyCheck: true for a throwaway box",
      });
    }
  };
  const proxy = z.object(base).superRefine(rules);
  return z.object({ ...base, proxy: proxy.optional() }).superRefine(rules);
}

/** Applies defaults; assumes `connectionProblems` found nothing. */
export function toEndpoint(c: ResolvedConnection): Endpoint {
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
    proxy: c.proxy ? toEndpoint(c.proxy) : undefined,
  };
}

/** "user@host:port", with IPv6 literals bracketed, and the jump host if any. */
export function describeEndpoint(e: Endpoint): string {
  const host = e.host.includes(":") ? `[${e.host}]` : e.host;
  const self = `${e.user}@${host}:${e.port}`;
  return e.proxy ? `${self} (via ${describeEndpoint(e.proxy)})` : self;
}

/** A pinned host key: the full key blob, or only its SHA256 fingerprint. */
export type PinnedHostKey =
  | { readonly kind: "key"; readonly type: string; readonly blob: Buffer; readonly fingerprint: string }
  | { readonly kind: "fingerprint"; readonly fingerprint: string };

/** OpenSSH's fingerprint form: "SHA256:" + unpadded base64 of SHA-256(blob). */
export function fingerprintOf(blob: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** Reads the key type out of an SSH wire-format public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

export function parseHostKey(text: string): PinnedHostKey | undefined {
  const t = text.trim();
  const fp = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(t);
  if (fp) return { kind: "fingerprint", fingerprint: `SHA256:${fp[1]}` };
  const m = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/.exec(t);
  if (!m) return undefined;
  const blob = Buffer.from(m[2], "base64");
  if (keyTypeOf(blob) !== m[1]) return undefined;
  return { kind: "key", type: m[1], blob, fingerprint: fingerprintOf(blob) };
}

/** Host key algorithms to offer so the server presents the pinned key's type. */
export function hostKeyAlgorithmsFor(pin: PinnedHostKey): string[] | undefined {
  if (pin.kind !== "key") return undefined;
  if (pin.type === "ssh-rsa") return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  return [pin.type];
}
