// Keys the lab generates once and keeps in its cache, so they are stable
// across runs: the lab's SSH key pair, each box's SSH host key, the
// WireGuard keys of isp and gw, and the TSP broker account's password.
import { generateKeyPairSync, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { LabPaths } from "./paths";
import { check } from "./run";

export interface WireguardKeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
}

export interface WireguardKeys {
  readonly isp: WireguardKeyPair;
  readonly gw: WireguardKeyPair;
}

/** A WireGuard key pair (Curve25519), both keys in the base64 form `wg` uses. */
export function newWireguardKeyPair(): WireguardKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const d = privateKey.export({ format: "jwk" }).d;
  const x = publicKey.export({ format: "jwk" }).x;
  if (!d || !x) throw new Error("x25519 key export returned no key material");
  // Clamp as `wg genkey` does; X25519 clamps anyway, so the public key is unchanged.
  const secret = Buffer.from(d, "base64url");
  secret[0] &= 248;
  secret[31] = (secret[31] & 127) | 64;
  return { privateKey: secret.toString("base64"), publicKey: Buffer.from(x, "base64url").toString("base64") };
}

/** "ssh-ed25519 AAAA..." from an OpenSSH public key line (drops the comment). */
export function publicKeyWithoutComment(line: string): string {
  const [type, key] = line.trim().split(/\s+/);
  if (!type || !key) throw new Error(`not an OpenSSH public key line: '${line.trim()}'`);
  return `${type} ${key}`;
}

async function ensureSshKey(file: string, comment: string): Promise<void> {
  if (fs.existsSync(file) && fs.existsSync(`${file}.pub`)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.pub`, { force: true });
  await check(`generating SSH key ${file}`, "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}

/** The lab's client key pair; returns the public key line. */
export async function ensureLabKey(paths: LabPaths): Promise<string> {
  await ensureSshKey(paths.sshPrivateKey, "ipv6gw-lab");
  fs.chmodSync(paths.sshPrivateKey, 0o600);
  return fs.readFileSync(paths.sshPublicKey, "utf8").trim();
}

export function hostKeyFile(paths: LabPaths, box: string): string {
  return path.join(paths.hostKeys, box, "ssh_host_ed25519_key");
}

/** A box's SSH host key pair; returns the public key line without comment. */
export async function ensureHostKey(paths: LabPaths, box: string): Promise<string> {
  const file = hostKeyFile(paths, box);
  await ensureSshKey(file, `root@${box}`);
  return publicKeyWithoutComment(fs.readFileSync(`${file}.pub`, "utf8"));
}

export function ensureWireguardKeys(paths: LabPaths): WireguardKeys {
  if (fs.existsSync(paths.wireguardKeys)) {
    return JSON.parse(fs.readFileSync(paths.wireguardKeys, "utf8")) as WireguardKeys;
  }
  const keys: WireguardKeys = { isp: newWireguardKeyPair(), gw: newWireguardKeyPair() };
  fs.mkdirSync(path.dirname(paths.wireguardKeys), { recursive: true, mode: 0o700 });
  fs.writeFileSync(paths.wireguardKeys, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
  return keys;
}

export interface TspAccount {
  readonly userid: string;
  readonly password: string;
}

/** The broker account's password, generated once per machine (kept with the lab's other keys). */
export function ensureTspAccount(paths: LabPaths, userid: string): TspAccount {
  const file = path.join(paths.keys, "tsp-account.json");
  if (fs.existsSync(file)) {
    const account = JSON.parse(fs.readFileSync(file, "utf8")) as TspAccount;
    if (account.userid === userid && account.password) return account;
  }
  // Letters and digits only: it travels in gw6c.conf and PLAIN/DIGEST-MD5 messages unescaped.
  const account: TspAccount = { userid, password: randomBytes(24).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 24) };
  fs.mkdirSync(paths.keys, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(account, null, 2) + "\n", { mode: 0o600 });
  return account;
}
