import { changedTrees } from "../../lab/lab";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabError } from "../../lab/errors";
import { labPaths } from "../../lab/paths";
import { acquireLock, buildLabJson, LabJsonInput } from "../../lab/state";
import { planLab } from "../../lab/topology";

const paths = labPaths({ HOME: "/root", IPV6GW_LAB_DIR: "/var/lib/ipv6gw-lab" });

const input: LabJsonInput = {
  paths,
  sshPublicKey: "ssh-ed25519 AAAAlab ipv6gw-lab\n",
  hostKeys: Object.fromEntries(["gw", "c1", "c2", "isp", "outside", "natbox"].map((b) => [b, `ssh-ed25519 AAAA${b}`])),
  pids: { gw: { pid: 100, leader: 101 } },
  wireguard: { isp: { privateKey: "ispPriv=", publicKey: "ispPub=" }, gw: { privateKey: "gwPriv=", publicKey: "gwPub=" } },
  repoPath: "/root/.cache/ipv6gw/lab/trees/apt-repo-x/repo",
  trees: { base: "base-b", repo: "apt-repo-x", infra: "infra-i", tspBroker: "tsp-broker-t" },
  tsp: { userid: "todd", password: "generated" },
  startedAt: new Date(Date.UTC(2024, 0, 1)),
};

describe("lab.json", () => {
  const json = buildLabJson(planLab("direct"), input);

  it("has the keys the Pulumi program reads", () => {
    expect(json).toMatchObject({
      version: 1,
      scenario: "direct",
      sshPrivateKeyPath: "/root/.cache/ipv6gw/lab/keys/id_ed25519",
      sshPublicKey: "ssh-ed25519 AAAAlab ipv6gw-lab",
      knownHostsPath: "/var/lib/ipv6gw-lab/known_hosts",
      wireguard: {
        endpoint: "198.51.100.1:51820",
        peerPublicKey: "ispPub=",
        privateKey: "gwPriv=",
        address: "2001:db8:ffff:100::2/64",
        routedPrefix: "2001:db8:8888::/48",
        lanPrefix: "2001:db8:8888::/64",
      },
      outside: { url: "http://[2001:db8:ffff::1]/", pingTarget: "2001:db8:ffff::1" },
    });
    expect(Object.keys(json.boxes)).toEqual(["gw", "c1", "c2", "isp", "outside"]);
  });

  it("describes each box: address, user, pinned key, pid, netns, interfaces", () => {
    expect(json.boxes.gw).toEqual({
      host: "fe80::200:5eff:fe00:5301%ipv6gw-lan",
      port: 22,
      user: "root",
      users: ["root", "admin", "nosudo"],
      hostKey: "ssh-ed25519 AAAAgw",
      pid: 100,
      leaderPid: 101,
      netns: "ipv6gw-gw",
      machineId: "affaaf58e39caa50005a72417baf7c46",
      interfaces: {
        eth0: { mac: "00:00:5e:00:53:01", linkLocal: "fe80::200:5eff:fe00:5301", ipv4: "192.0.2.1/24" },
        wan0: { mac: "00:00:5e:00:53:02", linkLocal: "fe80::200:5eff:fe00:5302", ipv4: "198.51.100.2/24" },
      },
    });
    expect(json.boxes.isp!.host).toBe("2001:db8:ffff::fe");
    expect(json.boxes.outside!.interfaces.inet0.ipv6).toBe("2001:db8:ffff::1/64");
  });

  it("describes the TSP broker on isp, with the user's stable addresses", () => {
    expect(json.tsp).toEqual({
      server: "198.51.100.1",
      port: 3653,
      userid: "todd",
      password: "generated",
      tunnelPrefix: "2001:db8:ffff:200::/64",
      serverAddress: "2001:db8:ffff:200::1",
      delegationPrefix: "2001:db8:7777::/48",
      userAddress: "2001:db8:ffff:200::1:2",
      userPrefix: "2001:db8:7777:1::/64",
      dnsServer: "2001:db8:ffff::fe",
      anonymousFirstSlot: 256,
      box: "isp",
      sessionsFile: "/run/ipv6gw-tsp-broker/sessions.json",
      tunnelModes: ["v6udpv4"],
    });
    expect(json.trees.tspBroker).toBe("tsp-broker-t");
  });

  it("tells how to reach natbox in the nat scenario", () => {
    const nat = buildLabJson(planLab("nat"), input);
    expect(nat.boxes.natbox).toMatchObject({ host: "203.0.113.1", viaNetns: "ipv6gw-natbox" });
    expect(nat.boxes.gw!.interfaces.wan0.ipv4).toBe("203.0.113.2/24");
  });

  it("records the host's own lab addresses", () => {
    expect(json.host).toEqual({
      lanInterface: "ipv6gw-lan",
      lanLinkLocal: "fe80::200:5eff:fe00:5310",
      inetInterface: "ipv6gw-inet",
      inetAddress: "2001:db8:ffff::10/64",
    });
    expect(json.aptRepo.sourcesLine).toBe("deb [trusted=yes] file:/srv/ipv6gw-apt ./");
  });
});

describe("the lab lock", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-lock-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("refuses a second holder while the first one's process lives, naming it", () => {
    const p = labPaths({ IPV6GW_LAB_DIR: dir, HOME: dir });
    // pid 1 is always alive: stands for another running `lab up`.
    fs.writeFileSync(p.lock, JSON.stringify({ pid: 1, verb: "up", since: "2024-01-01T00:00:00.000Z" }));
    expect(() => acquireLock(p, "up")).toThrow(LabError);
    expect(() => acquireLock(p, "up")).toThrow(
      "lab up: another lab command is running: 'lab up' (pid 1, since 2024-01-01T00:00:00.000Z). " +
        "Wait for it to finish, or stop it with 'kill 1'",
    );
  });

  it("takes over a lock whose holder is gone, and releases it", () => {
    const p = labPaths({ IPV6GW_LAB_DIR: dir, HOME: dir });
    fs.writeFileSync(p.lock, JSON.stringify({ pid: 2 ** 22 + 1, verb: "up", since: "x" }));
    const release = acquireLock(p, "down");
    expect(JSON.parse(fs.readFileSync(p.lock, "utf8"))).toMatchObject({ pid: process.pid, verb: "down" });
    release();
    expect(fs.existsSync(p.lock)).toBe(false);
  });
});

describe("a running lab against the current recipe", () => {
  const current = { base: "base-b", repo: "apt-repo-r", infra: "infra-i" };

  it("has nothing to restart when it booted from the current cache entries", () => {
    expect(changedTrees(current, current)).toEqual([]);
  });

  it("names each entry whose recipe changed since it booted", () => {
    expect(changedTrees({ ...current, repo: "apt-repo-old", infra: "infra-old" }, current)).toEqual(["repo", "infra"]);
  });

  it("counts a lab.json from before trees were recorded as all changed", () => {
    expect(changedTrees(undefined, current)).toEqual(["base", "repo", "infra"]);
  });

  it("restarts a lab that booted without the TSP broker or with an older build of it", () => {
    const now = { ...current, tspBroker: "tsp-broker-new" };
    expect(changedTrees(current, now)).toEqual(["tspBroker"]);
    expect(changedTrees({ ...current, tspBroker: "tsp-broker-old" }, now)).toEqual(["tspBroker"]);
  });
});
