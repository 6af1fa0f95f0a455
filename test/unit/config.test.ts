import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseSiteConfig } from "../../components/config";

const stack = (name: string) => parse(fs.readFileSync(path.join(__dirname, "../../stacks", `Pulumi.${name}.yaml`), "utf8")).config;
const lab = () => stack("lab")["ipv6gw:site"];

describe("stack config", () => {
  it("reads the lab stack with its defaults", () => {
    const site = parseSiteConfig(lab());
    expect(site.tunnel).toMatchObject({ kind: "wireguard", lab: true, interface: "wg0", persistentKeepalive: 25 });
    expect(site.firewall).toMatchObject({ preset: "howto", icmpv6: true, rules: [], rollbackSeconds: 30 });
    expect(site.clients.map((c) => [c.name, c.interface, c.privacy])).toEqual([
      ["c1", "eth0", false],
      ["c2", "eth0", false],
    ]);
  });

  it("reads the HOWTO-shaped gw6c example", () => {
    const site = parseSiteConfig(stack("example-gw6c")["ipv6gw:site"]);
    expect(site.tunnel).toMatchObject({ kind: "gw6c", server: "broker.freenet6.net", authMethod: "any", hostType: "router", logFile: 2 });
  });

  it.each([
    ["a wireguard tunnel without its far end", { tunnel: { kind: "wireguard" } }, "tunnel.endpoint: is required for a wireguard tunnel"],
    ["an unknown tunnel kind", { tunnel: { kind: "6to4" } }, "tunnel.kind"],
    ["a LAN prefix that is not a /64", { lan: { prefix: "2001:db8:8888::/56" } }, "lan.prefix: must be a /64"],
    ["a port without a protocol", { firewall: { rules: [{ name: "ssh", action: "accept", port: 22 }] } }, "firewall.rules.0.port: needs protocol tcp or udp"],
    ["a duplicate rule name", { firewall: { rules: [{ name: "a", action: "accept" }, { name: "a", action: "drop" }] } }, "firewall.rules.1.name: 'a' is used twice"],
    ["a per-chain rule on the howto preset", { firewall: { rules: [{ name: "a", action: "accept", chain: "input" }] } }, "firewall.rules.0.chain: the howto preset has one chain"],
    ["a connection with neither lab nor host", { gateway: { connection: { user: "root" } } }, "gateway.connection: needs either lab: <box> or host: <address>"],
    ["a bad source prefix", { firewall: { rules: [{ name: "a", action: "accept", source: "2001:db8::zz/64" }] } }, "firewall.rules.0.source: is not an IPv6 address or prefix"],
  ])("names the key and the fix for %s", (_what, patch, fragment) => {
    expect(() => parseSiteConfig({ ...lab(), ...patch })).toThrow(fragment);
  });

  it("lists every problem at once", () => {
    expect(() => parseSiteConfig({ ...lab(), lan: { prefix: "nope" }, firewall: { preset: "nft" } })).toThrow(/has 2 problem\(s\):\n {2}ipv6gw:site.lan.prefix: .*\n {2}ipv6gw:site.firewall.preset/);
  });
});
