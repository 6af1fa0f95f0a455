// Preflight on a real box: a gateway where another firewall manager would
// undo ours fails at preview, saying which and how to turn it off, and
// nothing on the box changes. Debian's nftables package is the real case:
// enabling its service loads /etc/nftables.conf at boot, which begins with
// `flush ruleset` and so would wipe the firewall whenever it starts, restarts
// or reloads, whichever backend holds it.
import { labCli, labSh } from "../../lab/client";
import { TestStack, labSiteStack } from "../pulumi-stack";

jest.setTimeout(600_000);

/** What the stack would change on gw: its rules, forwarding, and our files. */
function gwState(): string {
  return labSh("gw", "ip6tables -S 2>/dev/null || echo 'no ip6tables'; sysctl -n net.ipv6.conf.all.forwarding; ls /etc/radvd.conf /etc/wireguard 2>&1 || true");
}

describe("preflight on the lab's gateway", () => {
  let stack: TestStack;

  beforeAll(() => {
    labCli(["reset"]);
    stack = labSiteStack("e2e-preflight");
    labSh("gw", "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables >/dev/null && systemctl enable --quiet nftables");
  });

  afterAll(() => {
    try {
      stack?.dispose();
    } finally {
      labCli(["reset"]);
    }
  });

  it("fails the preview while nftables.service would flush the ruleset at boot, naming the fix (no stack trace), and changes nothing", () => {
    expect(labSh("gw", "head -n 5 /etc/nftables.conf")).toContain("flush ruleset");
    const before = gwState();
    const preview = stack.preview();
    expect(preview.status).not.toBe(0);
    expect(preview.stdout + preview.stderr).toContain(
      "gateway: nftables.service is enabled and its config starts with 'flush ruleset': whenever it starts, restarts or reloads it deletes every table, this firewall's too",
    );
    expect(preview.stdout + preview.stderr).not.toMatch(/^\s+at /m);
    expect(gwState()).toBe(before);
  });

  it("previews cleanly once the service is disabled", () => {
    labSh("gw", "systemctl disable --quiet nftables");
    const preview = stack.preview();
    expect(preview.stdout + preview.stderr).not.toContain("nftables.service");
    expect(preview.status).toBe(0);
  });
});
