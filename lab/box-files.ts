// What makes one box itself: the files the lab writes into its fresh overlay
// before it boots (hostname, machine-id, host key, authorized keys, the
// services it runs). Pure: returns the files, writes nothing.
import { epochPool } from "./delegation";
import { KEA_CONFIG_FILE, renderKeaConfig } from "./kea-config";
import { renderIspRadvdConfig } from "./isp-radvd-config";
import { WireguardKeys } from "./keys";
import { LAB_USERS, SERVICE_UNITS } from "./recipe";
import { BoxPlan, LabPlan } from "./topology";

export interface BoxFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface BoxSymlink {
  readonly path: string;
  readonly target: string;
}

export interface BoxFilesInput {
  /** The lab's public key line, authorized for root, admin and nosudo. */
  readonly labPublicKey: string;
  /** The box's ed25519 host key pair (OpenSSH private key file text, public key line). */
  readonly hostPrivateKey: string;
  readonly hostPublicKey: string;
  readonly wireguard: WireguardKeys;
}

/** isp's wg-quick configuration: one peer, the gw, routed the delegated prefix. */
export function ispWireguardConfig(plan: LabPlan, keys: WireguardKeys): string {
  const wg = plan.wireguard;
  const gwHost = wg.gwAddress.split("/")[0];
  return [
    "# ipv6gw lab: isp's end of the gw tunnel (wireguard-go through wg-quick)",
    "[Interface]",
    `Address = ${wg.ispAddress}`,
    `ListenPort = ${wg.listenPort}`,
    `PrivateKey = ${keys.isp.privateKey}`,
    "",
    "[Peer]",
    "# the gw",
    `PublicKey = ${keys.gw.publicKey}`,
    `AllowedIPs = ${wg.routedPrefix}, ${gwHost}/128`,
    "",
  ].join("\n");
}

function hostsFile(name: string): string {
  return [
    "127.0.0.1\tlocalhost",
    `127.0.1.1\t${name}`,
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    "",
  ].join("\n");
}

function rootFile(path: string, content: string, mode = 0o644): BoxFile {
  return { path, content, mode, uid: 0, gid: 0 };
}

export function boxFiles(box: BoxPlan, plan: LabPlan, input: BoxFilesInput): { files: BoxFile[]; symlinks: BoxSymlink[] } {
  const authorized = `${input.labPublicKey.trim()}\n`;
  const files: BoxFile[] = [
    rootFile("/etc/hostname", `${box.name}\n`),
    rootFile("/etc/machine-id", `${box.machineId}\n`, 0o444),
    rootFile("/etc/hosts", hostsFile(box.name)),
    rootFile("/etc/ssh/ssh_host_ed25519_key", input.hostPrivateKey, 0o600),
    rootFile("/etc/ssh/ssh_host_ed25519_key.pub", `${input.hostPublicKey.trim()} root@${box.name}\n`),
    rootFile("/root/.ssh/authorized_keys", authorized, 0o600),
    { path: "/home/admin/.ssh/authorized_keys", content: authorized, mode: 0o600, uid: LAB_USERS.admin, gid: LAB_USERS.admin },
    { path: "/home/nosudo/.ssh/authorized_keys", content: authorized, mode: 0o600, uid: LAB_USERS.nosudo, gid: LAB_USERS.nosudo },
  ];
  if (box.services.includes("wireguard")) {
    files.push(rootFile("/etc/wireguard/wg0.conf", ispWireguardConfig(plan, input.wireguard), 0o600));
  }
  if (box.services.includes("dhcp6") && plan.native) {
    files.push(rootFile(KEA_CONFIG_FILE, renderKeaConfig({ native: plan.native, pool: epochPool(plan.native, 0), epoch: 0 })));
  }
  if (box.services.includes("radvd") && plan.native) files.push(rootFile("/etc/radvd.conf", renderIspRadvdConfig(plan.native)));
  const symlinks = box.services.map((s) => ({
    path: `/etc/systemd/system/multi-user.target.wants/${SERVICE_UNITS[s].unit}`,
    target: SERVICE_UNITS[s].target,
  }));
  return { files, symlinks };
}
