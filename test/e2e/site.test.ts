// The HOWTO, end to end, on the lab: a blank lab becomes a working,
// firewalled IPv6 site with one `pulumi up`; a second changes nothing; a lab
// booted blank again under the old state converges again; destroy gives the
// gateway back as it was.
import { labCli, labSh } from "../../lab/client";
import { TestStack, labSiteStack } from "../pulumi-stack";

jest.setTimeout(600_000);

const C1 = "2001:db8:8888:0:200:5eff:fe00:5311";
const C2 = "2001:db8:8888:0:200:5eff:fe00:5312";

// HOWTO step 17 with the ICMPv6 line on (steps 19 and 25), as `ip6tables -S` prints it.
const HOWTO_RULES = [
  "-P INPUT ACCEPT",
  "-P FORWARD ACCEPT",
  "-P OUTPUT ACCEPT",
  "-N IPV6-INPUT",
  "-A INPUT -j IPV6-INPUT",
  "-A FORWARD -j IPV6-INPUT",
  "-A IPV6-INPUT -i lo -j ACCEPT",
  "-A IPV6-INPUT -p ipv6-icmp -j ACCEPT",
  "-A IPV6-INPUT -p esp -j ACCEPT",
  "-A IPV6-INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
  "-A IPV6-INPUT -i eth0 -m state --state NEW -j ACCEPT",
  "-A IPV6-INPUT -j REJECT --reject-with icmp6-adm-prohibited",
];

describe("the lab site, end to end", () => {
  let stack: TestStack;

  beforeAll(() => {
    labCli(["reset"]);
    stack = labSiteStack("e2e-site");
  });
  afterAll(() => stack?.dispose());

  it("converges a blank lab with one pulumi up, every check passing", () => {
    const up = stack.up();
    expect(up.stderr + up.stdout).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    expect(stack.outputs()).toMatchObject({ checksPassed: true, clientAddresses: { c1: C1, c2: C2 }, gatewayAddress: "2001:db8:8888::1" });
  });

  it("installs the gateway's packages in one apt transaction, each then owned by the component that names it", () => {
    const history = labSh("gw", "grep -E '^Commandline' /var/log/apt/history.log || true").trim().split("\n");
    expect(history).toEqual(["Commandline: apt-get -o DPkg::Lock::Timeout=600 install -y -q iptables iptables-persistent netfilter-persistent radvd wireguard-go wireguard-tools"]);
    // Every package was taken over: the hand-over list is gone.
    expect(labSh("gw", "[ -e /var/lib/ipv6gw/packages ] && echo left || echo gone").trim()).toBe("gone");
  });

  it.each([
    ["c1", C1],
    ["c2", C2],
  ])("%s holds its EUI-64 address, not tentative, and fetches the outside page", (box, address) => {
    expect(labSh(box, "ip -6 -o addr show dev eth0 scope global -tentative")).toContain(` ${address}/64 `);
    expect(labSh(box, "curl -fsS -m 10 'http://[2001:db8:ffff::1]/'")).toContain("ipv6gw lab: hello from outside");
  });

  it("refuses TCP from outside to a client with adm-prohibited, and lets ping through (ICMPv6 on)", () => {
    const out = labSh("outside", `timeout 10 bash -c 'exec 3<>/dev/tcp/${C1}/80' 2>&1 || true`);
    expect(out).toContain("Permission denied");
    expect(labSh("outside", `ping -6 -n -c 1 -W 3 ${C1} >/dev/null && echo answered`)).toContain("answered");
  });

  it("leaves the HOWTO's ruleset on the gateway, comments aside", () => {
    const live = labSh("gw", "ip6tables -S")
      .trim()
      .split("\n")
      .map((l) => l.replace(/ -m comment --comment "[^"]*"/, ""));
    expect(live).toEqual(HOWTO_RULES);
  });

  it("changes nothing on a second up, and previews no changes (with and without a refresh)", () => {
    const again = stack.up();
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/\b(updated|created|deleted|replaced)\b/);
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
    expect(stack.preview(["--expect-no-changes", "--refresh"]).status).toBe(0);
  });

  it("reads each box's facts once per command: a no-op up with its preview, or with a refresh, dials each box once (the update takes the preview's read, and the kernel is not asked again about the rules it holds)", () => {
    const accepted = (box: string) => Number(labSh(box, "journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true").trim());
    const before = { gw: accepted("gw"), c1: accepted("c1"), c2: accepted("c2") };
    const up = stack.run(["up", "--yes"]);
    expect(up.status).toBe(0);
    expect({ gw: accepted("gw") - before.gw, c1: accepted("c1") - before.c1, c2: accepted("c2") - before.c2 }).toEqual({ gw: 1, c1: 1, c2: 1 });
    // And up --refresh: the program takes the facts the refresh read (the outside box too, for the checklist).
    const boxes = ["gw", "c1", "c2", "outside"];
    const was = boxes.map(accepted);
    const refreshed = stack.up(["--refresh"]);
    expect(refreshed.status).toBe(0);
    expect(Object.fromEntries(boxes.map((b, i) => [b, accepted(b) - was[i]]))).toEqual({ gw: 1, c1: 1, c2: 1, outside: 1 });
  });

  it("converges again when the lab was booted blank under the old state", () => {
    labCli(["reset"]);
    expect(labSh("gw", "cat /proc/sys/net/ipv6/conf/all/forwarding").trim()).toBe("0");
    const up = stack.up(["--refresh"]);
    expect(up.status).toBe(0);
    expect(stack.outputs()).toMatchObject({ checksPassed: true });
    expect(labSh("c1", "ip -6 -o addr show dev eth0 scope global -tentative")).toContain(` ${C1}/64 `);
  });

  it("gives the gateway back blank on destroy: forwarding off, no radvd, no rules, no global address", () => {
    const destroyed = stack.run(["destroy", "--yes", "--skip-preview"]);
    expect(destroyed.status).toBe(0);
    expect(labSh("gw", "cat /proc/sys/net/ipv6/conf/all/forwarding").trim()).toBe("0");
    expect(labSh("gw", "pidof radvd || echo none").trim()).toBe("none");
    expect(labSh("gw", "command -v ip6tables && ip6tables -S || echo 'no ip6tables'").trim()).toBe("no ip6tables");
    expect(labSh("gw", "ip -6 -o addr show scope global").trim()).toBe("");
    const left = labSh("gw", "for p in /etc/radvd.conf /etc/wireguard /var/lib/ipv6gw /etc/iptables /etc/sysctl.d/*ipv6gw* /etc/systemd/system/*ipv6gw*; do [ -e \"$p\" ] && echo \"$p\"; done; true");
    expect(left.trim()).toBe("");
  });
});
