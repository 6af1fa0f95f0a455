import {
  renderIfcfgKeys,
  renderIfupdownStanza,
  renderNetworkdDropIn,
  renderNetworkManagerConf,
  RenderedFile,
} from "../../components/render";
import { expectGolden } from "./golden";

const HEADER = "# Managed by ipv6gw (Pulumi). Changes made here are overwritten.";

// Each case: description, golden name, rendered file, expected path and mode.
describe.each<[string, string, () => RenderedFile, string]>([
  ["NetworkManager: EUI-64 with privacy", "networkmanager-privacy-eui64.conf", () => renderNetworkManagerConf({ privacy: true, eui64: true }), "/etc/NetworkManager/conf.d/60-ipv6gw-slaac.conf"],
  ["NetworkManager: stable-privacy, no temporary addresses", "networkmanager-stable-privacy.conf", () => renderNetworkManagerConf({ privacy: false, eui64: false }), "/etc/NetworkManager/conf.d/60-ipv6gw-slaac.conf"],
  ["networkd: privacy and EUI-64 for 10-eth0.network", "networkd-privacy-eui64.conf", () => renderNetworkdDropIn({ networkFile: "10-eth0.network", privacy: true, eui64: true }), "/etc/systemd/network/10-eth0.network.d/60-ipv6gw-slaac.conf"],
  ["networkd: RA only, networkd's defaults", "networkd-plain.conf", () => renderNetworkdDropIn({ networkFile: "20-lan.network", privacy: false, eui64: false }), "/etc/systemd/network/20-lan.network.d/60-ipv6gw-slaac.conf"],
  ["ifupdown: inet6 auto with privext 2", "ifupdown-privacy", () => renderIfupdownStanza({ interface: "eth0", privacy: true }), "/etc/network/interfaces.d/60-ipv6gw-eth0"],
  ["ifupdown: inet6 auto without privacy", "ifupdown-plain", () => renderIfupdownStanza({ interface: "enp1s0", privacy: false }), "/etc/network/interfaces.d/60-ipv6gw-enp1s0"],
])("client golden: %s", (_description, golden, render, expectedPath) => {
  it("matches the golden file, path and mode", () => {
    const file = render();
    expect(file.path).toBe(expectedPath);
    expect(file.mode).toBe(0o644);
    expect(file.content.split("\n")[0]).toBe(HEADER);
    expectGolden(`client-ipv6/${golden}`, file.content);
  });
});

describe("renderIfcfgKeys (HOWTO step 21)", () => {
  it.each<[string, boolean, object]>([
    [
      "with privacy: IPV6_PRIVACY=rfc3041",
      true,
      [
        { path: "/etc/sysconfig/network", set: { NETWORKING_IPV6: "yes" }, remove: [] },
        { path: "/etc/sysconfig/network-scripts/ifcfg-eth0", set: { IPV6INIT: "yes", IPV6_AUTOCONF: "yes", IPV6_PRIVACY: "rfc3041" }, remove: [] },
      ],
    ],
    [
      "without privacy: IPV6_PRIVACY removed",
      false,
      [
        { path: "/etc/sysconfig/network", set: { NETWORKING_IPV6: "yes" }, remove: [] },
        { path: "/etc/sysconfig/network-scripts/ifcfg-eth0", set: { IPV6INIT: "yes", IPV6_AUTOCONF: "yes" }, remove: ["IPV6_PRIVACY"] },
      ],
    ],
  ])("%s", (_d, privacy, expected) => {
    expect(renderIfcfgKeys({ interface: "eth0", privacy })).toEqual(expected);
  });

  it("keeps the key order of the HOWTO", () => {
    expect(Object.keys(renderIfcfgKeys({ interface: "eth0", privacy: true })[1].set)).toEqual(["IPV6INIT", "IPV6_AUTOCONF", "IPV6_PRIVACY"]);
  });
});

describe("client validation", () => {
  it.each<[string, () => unknown, string]>([
    ["ifcfg: an interface with a space", () => renderIfcfgKeys({ interface: "eth 0", privacy: true }), "ifcfg keys: 'interface' must be a Linux interface name"],
    ["NetworkManager: eui64 missing", () => renderNetworkManagerConf({ privacy: true } as never), "NetworkManager SLAAC defaults: 'eui64' must be true or false, got undefined"],
    ["networkd: a path instead of a file name", () => renderNetworkdDropIn({ networkFile: "/etc/systemd/network/10-eth0.network", privacy: true, eui64: true }), "systemd-networkd SLAAC drop-in: 'networkFile' must be a bare .network file name"],
    ["networkd: not a .network file", () => renderNetworkdDropIn({ networkFile: "10-eth0.netdev", privacy: true, eui64: true }), "'networkFile' must be a bare .network file name (letters, digits, _ . @ -), as networkctl status <interface> shows it, got '10-eth0.netdev'"],
    ["ifupdown: an interface starting with '-'", () => renderIfupdownStanza({ interface: "-eth0", privacy: true }), "ifupdown SLAAC stanza: 'interface' must be a Linux interface name"],
  ])("rejects %s", (_d, run, fragment) => {
    expect(run).toThrow(fragment);
  });
});
