// The stack file's schema: every mistake a site's owner can make is named at
// preview with its key path and the fix, all at once, and nothing crashes.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseSiteConfig } from "../../components/config";
import { unknownConfigKeys, secretProblems } from "../../components/stack-config";
import { describeProblem } from "../../components/problems";

const stack = (name: string) => parse(fs.readFileSync(path.join(__dirname, "../../stacks", `Pulumi.${name}.yaml`), "utf8")).config;
const lab = () => stack("lab")["ipv6gw:site"];

/** The problem lines of a config that must not parse (the error's lines between the header and the fix). */
function problemsOf(site: unknown): string[] {
  try {
    parseSiteConfig(site);
  } catch (e) {
    const lines = (e as Error).message.split("\n");
    expect(lines[0]).toMatch(/^stack config has \d+ problem\(s\):$/);
    expect(lines[lines.length - 1]).toBe("Fix them in stacks/Pulumi.<stack>.yaml.");
    return lines.slice(1, -1).map((l) => l.trim());
  }
  throw new Error("the config parsed, but it should not have");
}

describe("stack config", () => {
  it("reads the lab stack with its defaults", () => {
    const site = parseSiteConfig(lab());
    expect(site.tunnel).toMatchObject({ kind: "wireguard", lab: true, interface: "wg0", persistentKeepalive: 25 });
    expect(site.firewall).toMatchObject({ preset: "howto", icmpv6: true, rules: [], rollbackSeconds: 30 });
    expect(site.gateway).toMatchObject({ lanInterface: "eth0", uplinkInterface: "wan0", uplinkAutoconf: false });
    expect(site.clients.map((c) => [c.name, c.interface, c.privacy])).toEqual([
      ["c1", "eth0", false],
      ["c2", "eth0", false],
    ]);
  });

  it("reads the lab's native site: two LANs of the delegated prefix, c3 on the second", () => {
    const site = parseSiteConfig(stack("lab-native")["ipv6gw:site"]);
    expect(site.tunnel).toEqual({
      kind: "dhcpv6-pd",
      wanInterface: "wan0",
      prefixLength: 56,
      lans: [
        { interface: "eth0", subnetId: 0 },
        { interface: "eth1", subnetId: 1 },
      ],
      requestAddress: false,
      waitSeconds: 60,
      preferredLifetimeLimit: 2700,
      validLifetimeLimit: 5400,
    });
    expect(site.gateway.lanInterface).toBeUndefined();
    expect(site.clients.map((c) => [c.name, c.lan])).toEqual([
      ["c1", undefined],
      ["c2", undefined],
      ["c3", "eth1"],
    ]);
  });

  it("reads the native example: per-LAN DNS options, a ULA, a client on the guest LAN", () => {
    const site = parseSiteConfig(stack("example-native")["ipv6gw:site"]);
    expect(site.tunnel).toMatchObject({ kind: "dhcpv6-pd", wanInterface: "enp1s0", lans: [{ interface: "enp2s0", subnetId: 0 }, { interface: "enp3s0", subnetId: 1, rdnss: ["2001:db8:ffff::53"] }] });
    expect(site.clients.map((c) => c.lan)).toEqual([undefined, "enp3s0"]);
  });

  it.each([
    ["a prefix hint of 40", { prefixLength: 40 }, "ipv6gw:site.tunnel.prefixLength: is 40: ask for a prefix of 48 to 64 bits"],
    ["a subnet id beyond a /60", { prefixLength: 60, lans: [{ interface: "eth0", subnetId: 16 }] }, "ipv6gw:site.tunnel.lans[0].subnetId: is 16, which does not fit a /60"],
    ["a LAN on the WAN", { lans: [{ interface: "wan0", subnetId: 0 }] }, "ipv6gw:site.tunnel.lans[0].interface: is 'wan0', the WAN interface"],
    ["no LAN", { lans: [] }, "ipv6gw:site.tunnel.lans: must name at least one LAN"],
    ["a LAN key misspelt", { lans: [{ interface: "eth0", subnetID: 0 }] }, "ipv6gw:site.tunnel.lans[0]: unknown key 'subnetID' (did you mean 'subnetId'?)"],
  ])("names a native site's %s at preview", (_what, tunnel, line) => {
    const native = stack("lab-native")["ipv6gw:site"];
    const problems = problemsOf({ ...native, tunnel: { ...native.tunnel, ...tunnel } });
    expect(problems).toContainEqual(expect.stringContaining(line));
  });

  it("reads the HOWTO-shaped gw6c example, defaults from gw6c's own contract", () => {
    const site = parseSiteConfig(stack("example-gw6c")["ipv6gw:site"]);
    expect(site.tunnel).toMatchObject({ kind: "gw6c", server: "broker.example.net", authMethod: "any", hostType: "router", logFile: 2, installDir: "/usr/local/gw6c", retryDelay: 30 });
  });

  it.each([
    // 9.3: malformed prefixes are named, never a crash
    ["a prefix longer than 128", { lan: { prefix: "2001:db8::/129" } }, "ipv6gw:site.lan.prefix: is not an IPv6 prefix: length '129' is not a decimal number 0..128"],
    ["an IPv4 prefix for the LAN", { lan: { prefix: "192.0.2.0/24" } }, "ipv6gw:site.lan.prefix: is not an IPv6 prefix: '192.0.2.0' is not an IPv6 address: expected 8 groups, got 2"],
    ["a garbled LAN prefix", { lan: { prefix: "2001:db8:::zz/64" } }, "ipv6gw:site.lan.prefix: is not an IPv6 prefix: '2001:db8:::zz' is not an IPv6 address: '::' may appear only once"],
    ["a LAN prefix that is not a /64", { lan: { prefix: "2001:db8:8888::/56" } }, "ipv6gw:site.lan.prefix: must be a /64: SLAAC needs 64-bit interface identifiers"],
    // 9.4: unknown keys, with the closest known one
    ["a misspelt section", { firewal: { preset: "rfc4890" } }, "ipv6gw:site: unknown key 'firewal' (did you mean 'firewall'?)"],
    ["a misspelt firewall key", { firewall: { rollbackSecond: 5 } }, "ipv6gw:site.firewall: unknown key 'rollbackSecond' (did you mean 'rollbackSeconds'?)"],
    ["a misspelt gateway key", { gateway: { connection: { lab: "gw" }, lanInterfaces: "eth0" } }, "ipv6gw:site.gateway: unknown key 'lanInterfaces' (did you mean 'lanInterface'?)"],
    ["a client key that does not exist", { clients: [{ name: "c1", connection: { lab: "c1" }, mac: "00:00:5e:00:53:11" }] }, "ipv6gw:site.clients[0]: unknown key 'mac' (did you mean 'lan'?)"],
    ["an unknown key in a rule", { firewall: { rules: [{ name: "a", action: "accept", protocl: "tcp" }] } }, "ipv6gw:site.firewall.rules[0]: unknown key 'protocl' (did you mean 'protocol'?)"],
    ["an unknown gw6c.conf setting", { tunnel: { kind: "gw6c", source: { tarball: "x.tgz" }, server: "b.example.net", settings: { keepaliveIntervall: 5 } } }, "ipv6gw:site.tunnel.settings: unknown key 'keepaliveIntervall' (did you mean 'keepaliveInterval'?)"],
    // 9.6: semantic cases
    ["a LAN prefix outside the routed prefix", { tunnel: { kind: "wireguard", endpoint: "198.51.100.1:51820", peerPublicKey: "cHVibGlja2V5cHVibGlja2V5cHVibGlja2V5cHViMDA=", address: "2001:db8:ffff:100::2/64", routedPrefix: "2001:db8:8888::/48" }, lan: { prefix: "2001:db8:9999::/64" } }, "ipv6gw:site.lan.prefix: is 2001:db8:9999::/64, outside the tunnel's routed prefix 2001:db8:8888::/48: the far end routes only that prefix here, so the LAN would be unreachable; pick a /64 inside it"],
    ["an uplink equal to the LAN interface", { gateway: { connection: { lab: "gw" }, lanInterface: "eth0", uplinkInterface: "eth0" } }, "ipv6gw:site.gateway.uplinkInterface: is the LAN interface 'eth0': the uplink and the LAN must be different interfaces"],
    ["a port next to lab:", { gateway: { connection: { lab: "gw", port: 2222 } } }, "ipv6gw:site.gateway.connection.port: cannot be set with lab: gw: the lab's lab.json gives the box's address, port, key and host key; remove it, or use host: instead of lab:"],
    ["a far end given with lab: true", { tunnel: { kind: "wireguard", lab: true, endpoint: "198.51.100.9:51820" } }, "ipv6gw:site.tunnel.endpoint: cannot be set with lab: true: the lab's isp gives it; remove it, or set lab: false"],
    // 9.7: a malformed host key is named as such
    ["a malformed host key", { gateway: { connection: { host: "192.0.2.1", hostKey: "ssh-ed25519 not-base64!" } } }, "ipv6gw:site.gateway.connection.hostKey: is neither an OpenSSH public key ('ssh-ed25519 AAAA...', as ssh-keyscan prints it) nor a fingerprint ('SHA256:' and 43 base64 characters)"],
    ["a missing host key", { gateway: { connection: { host: "192.0.2.1" } } }, "ipv6gw:site.gateway.connection.hostKey: is required so the box's identity is checked"],
    // types of values that reach a box
    ["an interface name with a newline", { gateway: { connection: { lab: "gw" }, lanInterface: "eth0\n-A INPUT" } }, "ipv6gw:site.gateway.lanInterface: must be a Linux interface name"],
    ["a rule interface that injects a rule", { firewall: { rules: [{ name: "a", action: "accept", inInterface: "wan0\n-A IPV6-INPUT -s ::/0" }] } }, "ipv6gw:site.firewall.rules[0].inInterface: must be a Linux interface name"],
    ["a ping target that runs a command", { checks: { pingTarget: "$(touch /tmp/pwned-ping)" } }, "ipv6gw:site.checks.pingTarget: is not a DNS name"],
    ["extra matches with a target", { firewall: { rules: [{ name: "a", action: "accept", extraMatches: "-m hl --hl-eq 255 -j DROP" }] } }, "ipv6gw:site.firewall.rules[0].extraMatches: has '-j', which is not a match"],
    ["extra matches on two lines", { firewall: { rules: [{ name: "a", action: "accept", extraMatches: "-m hl\n-A INPUT" }] } }, "ipv6gw:site.firewall.rules[0].extraMatches: must be one line of printable ASCII"],
    ["a make variable with a command", { tunnel: { kind: "gw6c", source: { tarball: "x.tgz", makeArgs: ["CFLAGS=`id`"] }, server: "b.example.net" } }, "ipv6gw:site.tunnel.source.makeArgs[0]: must be a make variable NAME=value"],
    ["an http URL with a quote", { checks: { pingTarget: "2001:db8:ffff::1", httpUrl: "http://[2001:db8:ffff::1]/'; id #" } }, "ipv6gw:site.checks.httpUrl: is not an http(s) URL"],
    // earlier cases
    ["a wireguard tunnel without its far end", { tunnel: { kind: "wireguard" } }, "ipv6gw:site.tunnel.endpoint: is required for a wireguard tunnel (or set lab: true on a lab stack)"],
    ["an unknown tunnel kind", { tunnel: { kind: "6to4" } }, "ipv6gw:site.tunnel.kind: kind must be one of wireguard, gw6c, sit6in4"],
    ["a port without a protocol", { firewall: { rules: [{ name: "ssh", action: "accept", port: 22 }] } }, "ipv6gw:site.firewall.rules[0].port: needs protocol tcp or udp"],
    ["a duplicate rule name", { firewall: { rules: [{ name: "a", action: "accept" }, { name: "a", action: "drop" }] } }, "ipv6gw:site.firewall.rules[1].name: 'a' is used twice; rule names must be unique"],
    ["a user rule named like a preset rule", { firewall: { rules: [{ name: "reject", action: "accept" }] } }, "ipv6gw:site.firewall.rules[0].name: 'reject' is the name of one of the howto preset's own rules; pick another name"],
    ["a per-chain rule on the howto preset", { firewall: { rules: [{ name: "a", action: "accept", chain: "input" }] } }, "ipv6gw:site.firewall.rules[0].chain: the howto preset has one chain"],
    ["a connection with neither lab nor host", { gateway: { connection: { user: "root" } } }, "ipv6gw:site.gateway.connection: needs either lab: <box> or host: <address>"],
    ["a bad source prefix", { firewall: { rules: [{ name: "a", action: "accept", source: "2001:db8::zz/64" }] } }, "ipv6gw:site.firewall.rules[0].source: is not an IPv6 prefix"],
  ])("names %s with its key path and the fix", (_what, patch, line) => {
    const problems = problemsOf({ ...lab(), ...patch });
    expect(problems).toContainEqual(expect.stringContaining(line));
    expect(problems.find((p) => p.includes(line))!.startsWith(line)).toBe(true);
  });

  it("lists every problem at once", () => {
    expect(problemsOf({ ...lab(), lan: { prefix: "nope" }, firewall: { preset: "nft" } })).toEqual([
      expect.stringMatching(/^ipv6gw:site.lan.prefix: /),
      expect.stringMatching(/^ipv6gw:site.firewall.preset: /),
    ]);
  });

  it("names config keys this program does not read, with the closest known key", () => {
    expect(unknownConfigKeys({ "ipv6gw:site": "{}", "ipv6gw:sitee": "{}", "ipv6gw:gw6cPasword": "x", "aws:region": "x" }).map(describeProblem)).toEqual([
      "ipv6gw:sitee: is not a key this program reads (did you mean ipv6gw:site?)",
      "ipv6gw:gw6cPasword: is not a key this program reads (did you mean ipv6gw:gw6cPassword?)",
    ]);
  });

  it("checks secrets without ever showing them", () => {
    const problems = secretProblems({ wireguardPrivateKey: "SECRET-not-a-key", gw6cPassword: "SECRET\nnewline", heUpdateKey: "SECRET;rm", sshPrivateKey: "SECRET /home/me/.ssh/id_ed25519" }).map(describeProblem);
    expect(problems).toHaveLength(4);
    for (const p of problems) expect(p).not.toContain("SECRET");
    expect(secretProblems({ wireguardPrivateKey: "cHVibGlja2V5cHVibGlja2V5cHVibGlja2V5cHViMDA=", gw6cPassword: "p$(x)'\"`;", heUpdateKey: "abcdef0123456789" })).toEqual([]);
  });
});
