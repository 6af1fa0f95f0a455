// How to reach a box over SSH. The shape is @pulumi/command's
// `remote.ConnectionArgs` (host, port, user, password, privateKey,
// privateKeyPassword, hostKey, proxy, dialErrorLimit, perDialTimeout,
// agentSocketPath), so one connection object serves both our host resources
// and a user's own `remote.Command`s. One difference is deliberate: a missing
// `hostKey` is an error here, not "don't check"; skipping the check takes the
// loudly named `dangerouslySkipHostKeyCheck`.

import * as crypto from "crypto";
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { loginNameProblem, portProblem, sshHostProblem } from "../net/values";

type CommandConnectionArgs = command.types.input.remote.ConnectionArgs;

/**
 * A jump host on the way to the box: @pulumi/command's ProxyConnectionArgs
 * (host, port, user, password, privateKey, privateKeyPassword, agentSocketPath,
 * hostKey, dialErrorLimit, perDialTimeout) plus `dangerouslySkipHostKeyCheck`.
 */
export interface ProxyConnectionArgs extends Omit<CommandConnectionArgs, "proxy"> {
  /** Address or name of the box. */
  readonly host: pulumi.Input<string>;
  /** SSH port. Defaults to 22. */
  readonly port?: pulumi.Input<number>;
  /** Login user. Defaults to "root"; other users need passwordless sudo. */
  readonly user?: pulumi.Input<string>;
  /** Password (secret). Used when no private key or agent is given. */
  readonly password?: pulumi.Input<string>;
  /** Private key in OpenSSH or PEM format (secret). Preferred over the password. */
  readonly privateKey?: pulumi.Input<string>;
  /** Passphrase of an encrypted private key (secret). */
  readonly privateKeyPassword?: pulumi.Input<string>;
  /** ssh-agent socket. Defaults to none (unlike @pulumi/command, SSH_AUTH_SOCK is never read implicitly). */
  readonly agentSocketPath?: pulumi.Input<string>;
  /**
   * The host's public key, OpenSSH one-line form ("ssh-ed25519 AAAA...") or its
   * SHA256 fingerprint ("SHA256:..."). Required unless `dangerouslySkipHostKeyCheck`
   * (where @pulumi/command would skip the check silently).
   */
  readonly hostKey?: pulumi.Input<string>;
  /** Accept any host key. Defaults to false. Only for throwaway boxes: it allows a man in the middle. */
  readonly dangerouslySkipHostKeyCheck?: pulumi.Input<boolean>;
  /** Connection attempts before giving up; -1 for unlimited. Defaults to 3. */
  readonly dialErrorLimit?: pulumi.Input<number>;
  /** Seconds per connection attempt; 0 for no limit. Defaults to 15. */
  readonly perDialTimeout?: pulumi.Input<number>;
}

/**
 * How to reach a box: @pulumi/command's `remote.ConnectionArgs` (a type test
 * keeps the two assignable both ways), so one object serves our host
 * resources and a user's own `remote.Command`s.
 */
export interface ConnectionArgs extends ProxyConnectionArgs {
  /** A jump host to connect through. Defaults to none. */
  readonly proxy?: pulumi.Input<ProxyConnectionArgs>;
}

/** A connection with every Input resolved: what providers receive and the SSH layer dials. */
export type Connection = pulumi.Unwrap<ConnectionArgs>;

/** "user@host:port", with IPv6 literals bracketed, and the jump host if any. */
export function describeConnection(c: Pick<Connection, "host" | "port" | "user"> & { proxy?: Pick<Connection, "host" | "port" | "user"> }): string {
  const host = c.host.includes(":") ? `[${c.host}]` : c.host;
  const self = `${c.user ?? "root"}@${host}:${c.port ?? 22}`;
  return c.proxy ? `${self} (via ${describeConnection(c.proxy)})` : self;
}

/** Why a host key text is not usable, or undefined: an OpenSSH public key line or a SHA256 fingerprint. */
export function hostKeyProblem(text: string): string | undefined {
  return parseHostKey(text) === undefined
    ? "is neither an OpenSSH public key ('ssh-ed25519 AAAA...', as ssh-keyscan prints it) nor a fingerprint ('SHA256:' and 43 base64 characters)"
    : undefined;
}

/**
 * The zod schema of a resolved connection. Built in a function because dynamic
 * providers serialize what they capture and a module-level zod object does
 * not serialize (pulumi/pulumi#5294).
 */
export function connectionSchema() {
  const { z } = require("zod") as typeof import("zod");
  const base = {
    host: z.string({ error: "is required: the box's address or name" }).refine((h) => !sshHostProblem(h), { error: (i) => sshHostProblem(i.input as string) }),
    port: z.number().refine((p) => !portProblem(p), "is not a port: use a whole number 1-65535").optional(),
    user: z
      .string()
      .refine((u) => !loginNameProblem(u), "is not a valid login name")
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
      .refine((k) => !hostKeyProblem(k), { error: (i) => hostKeyProblem(i.input as string) })
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
