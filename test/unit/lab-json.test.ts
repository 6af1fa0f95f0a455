// lab.json's one schema: what the lab writes parses, and a lab.json that
// does not fit is refused naming the file, the key path and the fix.
import { LabError } from "../../lab/errors";
import { parseLabJson } from "../../lab/lab-json";
import { labPaths } from "../../lab/paths";
import { buildLabJson, LabJsonInput } from "../../lab/state";
import { planLab, SCENARIOS } from "../../lab/topology";

const FILE = "/var/lib/ipv6gw-lab/lab.json";
const input: LabJsonInput = {
  paths: labPaths({ HOME: "/root", IPV6GW_LAB_DIR: "/var/lib/ipv6gw-lab" }),
  sshPublicKey: "ssh-ed25519 AAAAlab ipv6gw-lab\n",
  hostKeys: Object.fromEntries(["gw", "c1", "c2", "isp", "outside", "natbox", "c3"].map((b) => [b, `ssh-ed25519 AAAA${b}`])),
  pids: Object.fromEntries(["gw", "c1", "c2", "isp", "outside", "natbox", "c3"].map((b, i) => [b, { pid: 100 + i, leader: 200 + i }])),
  wireguard: { isp: { privateKey: "ispPriv=", publicKey: "ispPub=" }, gw: { privateKey: "gwPriv=", publicKey: "gwPub=" } },
  repoPath: "/root/.cache/ipv6gw/lab/trees/apt-repo-x/repo",
  trees: { base: "base-b", repo: "apt-repo-x", infra: "infra-i", tspBroker: "tsp-broker-t" },
  tsp: { userid: "todd", password: "generated" },
  startedAt: new Date(Date.UTC(2024, 0, 1)),
};

function errorOf(f: () => unknown): LabError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    return e as LabError;
  }
  throw new Error("expected an error");
}

describe("parseLabJson", () => {
  it.each(SCENARIOS)("reads back what the lab writes for scenario %s", (scenario) => {
    const json = buildLabJson(planLab(scenario), input);
    expect(parseLabJson(JSON.stringify(json, null, 2), FILE)).toEqual(json);
  });

  it("gives the native scenario its ISP section, and the others none", () => {
    expect(buildLabJson(planLab("native"), { ...input, epoch: 2 }).native).toMatchObject({
      epoch: 2,
      epochPool: "2001:db8:9900:2000::/52",
      delegatedPrefix: "2001:db8:9900:2000::/56",
      dhcpServer: { address: "2001:db8:ffff:1::1/64", linkLocal: "fe80::200:5eff:fe00:5321", running: true },
    });
    expect(buildLabJson(planLab("direct"), input).native).toBeUndefined();
  });

  it("drops keys it does not know, so a newer lab's lab.json still reads", () => {
    const json = { ...buildLabJson(planLab("direct"), input), kea: { server: "2001:db8:ffff:1::1" } };
    expect(parseLabJson(JSON.stringify(json), FILE)).not.toHaveProperty("kea");
  });

  type Spoilable = Record<string, unknown> & { boxes: Record<string, Record<string, unknown>> };
  it.each<[string, (j: Spoilable) => void, string]>([
    ["a missing key", (j) => delete j.sshPrivateKeyPath, "'sshPrivateKeyPath'"],
    ["a box's pid of the wrong type", (j) => (j.boxes.gw.pid = "100"), "'boxes.gw.pid'"],
    ["an unknown box", (j) => (j.boxes.router = j.boxes.gw), "'boxes': Unrecognized key: \"router\""],
    ["another version", (j) => (j.version = 2), "'version'"],
    ["an unknown scenario", (j) => (j.scenario = "bridge"), "'scenario'"],
    ["a malformed host key", (j) => (j.boxes.c1.hostKey = "AAAA"), "'boxes.c1.hostKey': an OpenSSH public key"],
    ["no TSP broker (a lab booted before it)", (j) => delete j.tsp, "'tsp'"],
  ])("refuses %s, naming the file, the key and the fix", (_what, spoil, fragment) => {
    const json = JSON.parse(JSON.stringify(buildLabJson(planLab("direct"), input)));
    spoil(json);
    const err = errorOf(() => parseLabJson(JSON.stringify(json), FILE));
    expect(err.message).toContain(`${FILE} is not a lab.json this code reads: `);
    expect(err.message).toContain(fragment);
    expect(err.message).toMatch(/; run 'npm run lab -- up' again$/);
  });

  it("refuses text that is not JSON", () => {
    expect(errorOf(() => parseLabJson("{", FILE)).message).toMatch(/^\/var\/lib\/ipv6gw-lab\/lab\.json is not JSON \(.*\); run 'npm run lab -- up' again$/);
  });
});
