// The lab's wiring: a network namespace per box, veth pairs, and bridges in
// the host namespace. Only names from the topology are ever created or
// deleted, and the host's own interfaces, routes and sysctls are not touched
// (only the sysctls of the lab's own host-side links).
import * as fs from "fs";
import { mountPoints } from "./mounts";
import { check, run } from "./run";
import { allHostLinkNames, allNetnsNames, BoxPlan, LabPlan, parkingNetnsFor } from "./topology";

const NETNS_DIR = "/run/netns";

/** `ip -batch` runs many commands in one process; a failure names the line. */
async function ipBatch(what: string, lines: readonly string[], netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(netns ? ["-n", netns] : []), "-batch", "-"];
  await check(what, "ip", args, { input: lines.join("\n") + "\n" });
}

/** Sets sysctls inside a network namespace (/proc/sys/net follows the caller's namespace). */
async function netnsSysctl(netns: string, values: Readonly<Record<string, string>>): Promise<void> {
  const assignments = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (assignments.length === 0) return;
  await check(`setting sysctls in ${netns}`, "nsenter", [`--net=/run/netns/${netns}`, "sysctl", "-q", "-w", ...assignments]);
}

/** Sets an IPv6 sysctl of one of the lab's own host-side links. */
function hostLinkIpv6Conf(ifname: string, key: string, value: string): void {
  fs.writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/${key}`, value);
}

/**
 * `ip netns add` bind-mounts /run/netns onto itself the first time; once no
 * namespace is left in it, that mount is undone so nothing of the lab remains.
 */
async function unmountEmptyNetnsDir(): Promise<void> {
  for (let i = 0; i < 3 && mountPoints().includes(NETNS_DIR); i++) {
    if (fs.readdirSync(NETNS_DIR).length > 0) return;
    await run("umount", [NETNS_DIR]);
  }
}

export async function existingNetns(): Promise<string[]> {
  const r = await run("ip", ["netns", "list"]);
  return r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean);
}

export async function existingLinks(netns?: string): Promise<string[]> {
  const r = await run("ip", [...(netns ? ["-n", netns] : []), "-o", "link", "show"]);
  return r.stdout
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => Boolean(n));
}

function boxInterfaceCommands(box: BoxPlan): string[] {
  const lines: string[] = ["link set lo up"];
  for (const i of box.interfaces) {
    if (i.ipv4) lines.push(`address add ${i.ipv4} dev ${i.name}`);
    if (i.ipv6) lines.push(`address add ${i.ipv6} dev ${i.name} nodad`);
    lines.push(`link set ${i.name} up`);
  }
  for (const r of box.routes) {
    const to = r.to === "default" ? (r.family === 6 ? "::/0" : "0.0.0.0/0") : r.to;
    lines.push(`route add ${to} via ${r.via}${r.dev ? ` dev ${r.dev}` : ""}`);
  }
  return lines;
}

/** Creates every namespace, link, bridge, address and route of the plan. */
export async function setupNetwork(plan: LabPlan): Promise<void> {
  await ipBatch("creating the lab's network namespaces", plan.boxes.map((b) => `netns add ${b.netns}`));
  await Promise.all(plan.boxes.map((b) => netnsSysctl(b.netns, b.sysctls)));

  const byName = new Map(plan.boxes.map((b) => [b.name, b]));
  const mac = (box: string, ifname: string): string => {
    const i = byName.get(box as BoxPlan["name"])?.interfaces.find((x) => x.name === ifname);
    if (!i) throw new Error(`topology: no interface ${box}/${ifname}`);
    return i.mac;
  };

  const create: string[] = [];
  for (const br of plan.bridges) {
    create.push(`link add ${br.name} address ${br.mac} type bridge stp_state 0 mcast_snooping 0`);
  }
  for (const l of plan.links) {
    if (l.kind === "bridge-port") {
      const ns = byName.get(l.box)!.netns;
      const boxEnd = `name ${l.ifname} address ${mac(l.box, l.ifname)} netns ${ns}`;
      create.push(`link add ${l.hostSide} address ${l.hostSideMac} type veth peer ${boxEnd}`);
    } else {
      const a = byName.get(l.a.box)!.netns;
      const b = byName.get(l.b.box)!.netns;
      const aEnd = `${l.a.ifname} netns ${a} address ${mac(l.a.box, l.a.ifname)}`;
      const bEnd = `name ${l.b.ifname} address ${mac(l.b.box, l.b.ifname)} netns ${b}`;
      create.push(`link add ${aEnd} type veth peer ${bEnd}`);
    }
  }
  await ipBatch("creating the lab's links and bridges", create);

  // The host is the admin workstation: IPv6 on its lab bridges never comes
  // from RAs, and bridge ports carry no addresses of their own.
  for (const br of plan.bridges) {
    hostLinkIpv6Conf(br.name, "accept_ra", "0");
    hostLinkIpv6Conf(br.name, "autoconf", "0");
    hostLinkIpv6Conf(br.name, "addr_gen_mode", "0");
  }
  for (const l of plan.links) if (l.kind === "bridge-port") hostLinkIpv6Conf(l.hostSide, "disable_ipv6", "1");

  const hostUp: string[] = [];
  for (const br of plan.bridges) {
    if (br.hostIpv4) hostUp.push(`address add ${br.hostIpv4} dev ${br.name}`);
    if (br.hostIpv6) hostUp.push(`address add ${br.hostIpv6} dev ${br.name} nodad`);
    hostUp.push(`link set ${br.name} up`);
  }
  for (const l of plan.links) if (l.kind === "bridge-port") hostUp.push(`link set ${l.hostSide} master ${l.bridge} up`);
  await ipBatch("attaching the lab's links to its bridges", hostUp);

  await Promise.all(plan.boxes.map(configureBoxInterfaces));
}

/** Per-interface sysctls, addresses, links up and routes of a box, in its namespace. */
async function configureBoxInterfaces(b: BoxPlan): Promise<void> {
  const conf: Record<string, string> = {};
  for (const i of b.interfaces) {
    for (const [k, v] of Object.entries(i.ipv6Conf ?? {})) conf[`net.ipv6.conf.${i.name}.${k}`] = v;
  }
  await netnsSysctl(b.netns, conf);
  await ipBatch(`configuring ${b.name}'s interfaces in ${b.netns}`, boxInterfaceCommands(b), b.netns);
}

/** Takes a box's interfaces down at once (what a power loss does to its links). */
export async function boxLinksDown(box: BoxPlan): Promise<void> {
  await ipBatch(`taking ${box.name}'s links down`, box.interfaces.map((i) => `link set ${i.name} down`), box.netns);
}

/**
 * Gives a stopped box a fresh network namespace, wired as setupNetwork wires
 * it: the same veth ends (so the peers, bridge ports and MACs stay as they
 * are) move into a new namespace with the plan's sysctls, addresses and
 * routes. Everything else the old namespace held (addresses, routes,
 * sysctls, firewall rules, conntrack) goes with it, as a reboot loses it.
 * The ends wait in a parking namespace meanwhile; moving an interface resets
 * its per-interface settings to the new namespace's defaults.
 */
export async function renewBoxNetns(box: BoxPlan): Promise<void> {
  const parking = parkingNetnsFor(box.name);
  const names = box.interfaces.map((i) => i.name);
  if ((await existingNetns()).includes(parking)) await check(`removing ${parking}`, "ip", ["netns", "del", parking]);
  await ipBatch(`making ${parking}`, [`netns add ${parking}`]);
  await ipBatch(`parking ${box.name}'s links in ${parking}`, names.map((n) => `link set ${n} netns ${parking}`), box.netns);
  await check(`removing ${box.name}'s old namespace ${box.netns}`, "ip", ["netns", "del", box.netns]);
  await ipBatch(`making ${box.name}'s fresh namespace ${box.netns}`, [`netns add ${box.netns}`]);
  await netnsSysctl(box.netns, box.sysctls);
  await ipBatch(`moving ${box.name}'s links into ${box.netns}`, names.map((n) => `link set ${n} netns ${box.netns}`), parking);
  await check(`removing ${parking}`, "ip", ["netns", "del", parking]);
  await configureBoxInterfaces(box);
}

/** Deletes every lab link and namespace that exists; returns what could not be deleted. */
export async function teardownNetwork(): Promise<string[]> {
  const problems: string[] = [];
  const ours = new Set(allHostLinkNames());
  for (const link of (await existingLinks()).filter((l) => ours.has(l))) {
    const r = await run("ip", ["link", "del", link]);
    if (r.code !== 0 && (await existingLinks()).includes(link)) problems.push(`link ${link}: ${r.stderr.trim()}`);
  }
  const netns = new Set(allNetnsNames());
  for (const ns of (await existingNetns()).filter((n) => netns.has(n))) {
    const r = await run("ip", ["netns", "del", ns]);
    if (r.code !== 0) problems.push(`netns ${ns}: ${r.stderr.trim()}`);
  }
  await unmountEmptyNetnsDir();
  return problems;
}
