// The HOWTO's "behind NAT" case, with today's tunnel: the gateway's WAN is a
// private address behind the lab's natbox (the nat scenario), and WireGuard
// over UDP, kept open by keepalives, reaches isp through it. The lab site's
// config converges unchanged; only the scenario differs. The lab is put back
// into the direct scenario afterwards, for the suites that follow.
import { labCli, labSh } from "../../lab/client";
import { TestStack, labSiteStack } from "../pulumi-stack";

jest.setTimeout(600_000);

const C1 = "2001:db8:8888:0:200:5eff:fe00:5311";

describe("the lab site behind NAT", () => {
  let stack: TestStack | undefined;

  beforeAll(() => {
    labCli(["down"]);
    labCli(["up", "--scenario", "nat"]);
    stack = labSiteStack("e2e-nat");
  });

  afterAll(() => {
    try {
      stack?.dispose();
    } finally {
      labCli(["down"]);
      labCli(["up", "--scenario", "direct"]);
    }
  });

  it("puts gw behind natbox: a private WAN address, and isp sees natbox's address instead", () => {
    expect(labSh("gw", "ip -4 -o addr show dev wan0")).toContain(" 203.0.113.2/24 ");
    expect(labSh("natbox", "iptables -t nat -S POSTROUTING")).toContain("-A POSTROUTING -o wan0 -j MASQUERADE");
    expect(labSh("gw", "ping -4 -n -c 1 -W 3 198.51.100.1 >/dev/null && echo reached")).toContain("reached");
  });

  it("converges with one pulumi up, every check passing", () => {
    const up = stack!.up();
    expect(up.stderr + up.stdout).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    expect(stack!.outputs()).toMatchObject({ checksPassed: true, gatewayAddress: "2001:db8:8888::1" });
  });

  it("runs the tunnel through the NAT: isp knows gw's peer by natbox's address, with keepalives on", () => {
    const endpoints = labSh("isp", "wg show wg0 endpoints");
    expect(endpoints).toMatch(/\t198\.51\.100\.3:\d+\n?$/);
    expect(labSh("gw", "wg show wg0 persistent-keepalive")).toMatch(/\t25\n?$/);
  });

  it("lets c1 out to the outside page, and keeps outside's TCP out with adm-prohibited", () => {
    expect(labSh("c1", "curl -fsS -m 10 'http://[2001:db8:ffff::1]/'")).toContain("ipv6gw lab: hello from outside");
    const out = labSh("outside", `timeout 10 bash -c 'exec 3<>/dev/tcp/${C1}/80' 2>&1 || true`);
    expect(out).toContain("Permission denied");
  });

  it("previews no changes afterwards, even after a refresh", () => {
    expect(stack!.preview(["--expect-no-changes", "--refresh"]).status).toBe(0);
  });
});
