import { createHash } from "crypto";
import {
  renderWgQuickConf,
  renderWgQuickUserspaceDropIn,
  WgQuickConf,
  WgQuickPeer,
} from "../../components/render";
import { expectGolden } from "./golden";

// Deterministic, well-formed test keys (32 bytes, base64): not real key pairs.
const key = (label: string): string => createHash("sha256").update(label).digest("base64");
const PRIVATE = key("gw private (test only)");
const PSK = key("preshared (test only)");
const VPS = key("vps public");
const VPS2 = key("second vps public");

const HEADER = "# Managed by ipv6gw (Pulumi). Changes made here are overwritten.";

const peer = (over: Partial<WgQuickPeer> = {}): WgQuickPeer => ({
  publicKey: VPS,
  endpoint: "198.51.100.1:51820",
  allowedIps: ["::/0"],
  ...over,
});
const conf = (over: Partial<WgQuickConf> = {}): WgQuickConf => ({
  privateKey: PRIVATE,
  addresses: ["2001:db8:ffff::2/64"],
  peers: [peer()],
  ...over,
});

describe.each<[string, string, WgQuickConf]>([
  ["gateway to a VPS: IPv6 default route through the tunnel, keepalive 25 by default", "vps-default-route", conf()],
  [
    "routed prefix from a VPS: PSK, DNS endpoint, fixed port and MTU, two routes, dual-stack addresses",
    "routed-prefix-psk",
    conf({
      addresses: ["2001:DB8:FFFF::2/64", "10.99.0.2/24"],
      listenPort: 51820,
      mtu: 1420,
      routes: ["2000::/3", "2001:db8:1::/48"],
      peers: [
        peer({
          publicKey: VPS,
          presharedKey: PSK,
          endpoint: "vps.example.net:51820",
          allowedIps: ["2000::/3", "10.99.0.0/24"],
          persistentKeepalive: 15,
        }),
      ],
    }),
  ],
  [
    "two peers: IPv6 endpoint in brackets, keepalive off on the second",
    "two-peers",
    conf({
      routes: ["2001:db8:1::/48", "2001:db8:2::/48"],
      peers: [
        peer({ endpoint: "[2001:db8:ffff::fe]:51820", allowedIps: ["2001:db8:1::/48"] }),
        peer({ publicKey: VPS2, endpoint: "203.0.113.9:4500", allowedIps: ["2001:db8:2::/48"], persistentKeepalive: 0 }),
      ],
    }),
  ],
])("wg-quick golden: %s", (_description, name, model) => {
  it("matches the golden file", () => {
    expectGolden(`wireguard/${name}.conf`, renderWgQuickConf(model));
  });
});

describe.each<[string, string, () => string]>([
  ["wg-quick@ drop-in for wireguard-go (kernel without the wireguard module)", "userspace-wireguard-go.conf", () => renderWgQuickUserspaceDropIn()],
  ["wg-quick@ drop-in for boringtun-cli, which needs WG_SUDO=1", "userspace-boringtun.conf", () => renderWgQuickUserspaceDropIn({ implementation: "boringtun-cli" })],
])("wg-quick drop-in golden: %s", (_description, file, render) => {
  it("matches the golden file", () => {
    expectGolden(`wireguard/${file}`, render());
  });
});

describe("renderWgQuickConf", () => {
  it("keeps wg-quick from deriving routes and manages ::/0 explicitly", () => {
    const lines = renderWgQuickConf(conf()).split("\n");
    expect(lines[0]).toBe(HEADER);
    expect(lines).toContain("Table = off");
    expect(lines).toContain("PostUp = ip -6 route replace ::/0 dev %i");
    expect(lines).toContain("PreDown = ip -6 route del ::/0 dev %i || true");
  });

  it("keeps the host part of interface addresses (they are addresses, not networks)", () => {
    const out = renderWgQuickConf(conf({ addresses: ["2001:DB8:FFFF:0::2/64", "10.99.0.2/24"] }));
    expect(out).toContain("Address = 2001:db8:ffff::2/64, 10.99.0.2/24\n");
  });

  it("sets WG_SUDO only for boringtun", () => {
    expect(renderWgQuickUserspaceDropIn()).not.toContain("WG_SUDO");
    expect(renderWgQuickUserspaceDropIn({ implementation: "boringtun-cli" })).toContain("Environment=WG_SUDO=1");
  });
});

describe("wg-quick validation", () => {
  it.each<[string, WgQuickConf, string]>([
    ["a short private key", conf({ privateKey: "abc" }), "wg-quick config: 'privateKey' must be a WireGuard key: 44 characters of base64 encoding 32 bytes, got a value of 3 characters"],
    ["a private key of 33 bytes", conf({ privateKey: `${PRIVATE.slice(0, 42)}B=` }), "'privateKey' must be a WireGuard key"],
    ["a bad public key", conf({ peers: [peer({ publicKey: "not-a-key" })] }), "'peers[0].publicKey' must be a WireGuard key: 44 characters of base64 encoding 32 bytes, got 'not-a-key'"],
    ["our private key as the peer's public key", conf({ peers: [peer({ publicKey: PRIVATE })] }), "'peers[0].publicKey' equals this side's private key"],
    ["a bad preshared key", conf({ peers: [peer({ presharedKey: "x".repeat(44) })] }), "'peers[0].presharedKey' must be a WireGuard key"],
    ["two peers with one key", conf({ peers: [peer(), peer()] }), "'peers[1].publicKey' is used by two peers"],
    ["no addresses", conf({ addresses: [] }), "'addresses' must list at least one interface address"],
    ["an address without length", conf({ addresses: ["2001:db8:ffff::2"] }), "'addresses[0]' must be address/length, got '2001:db8:ffff::2'"],
    ["an IPv4 address with /33", conf({ addresses: ["10.0.0.2/33"] }), "'addresses[0]' has an IPv4 length outside 0..32"],
    ["no peers", conf({ peers: [] }), "'peers' must list at least one peer"],
    ["a bare IPv6 endpoint", conf({ peers: [peer({ endpoint: "2001:db8::1:51820" })] }), "'peers[0].endpoint' must put an IPv6 host in brackets"],
    ["an endpoint without port", conf({ peers: [peer({ endpoint: "vps.example.net" })] }), "'peers[0].endpoint' must be host:port, got 'vps.example.net'"],
    ["an endpoint port 0", conf({ peers: [peer({ endpoint: "198.51.100.1:0" })] }), "'peers[0].endpoint' has a port outside 1..65535"],
    ["an endpoint port 70000", conf({ peers: [peer({ endpoint: "198.51.100.1:70000" })] }), "has a port outside 1..65535"],
    ["an endpoint with a bad IPv6", conf({ peers: [peer({ endpoint: "[2001:db8::g]:51820" })] }), "has an invalid IPv6 address in brackets"],
    ["an endpoint host with an underscore", conf({ peers: [peer({ endpoint: "vps_1.example.net:51820" })] }), "has a host that is neither an IPv4 address nor a DNS name"],
    ["an endpoint with a short IPv4", conf({ peers: [peer({ endpoint: "198.51.100:51820" })] }), "has a host that is neither an IPv4 address nor a DNS name"],
    ["AllowedIPs with host bits", conf({ peers: [peer({ allowedIps: ["2001:db8::1/64"] })] }), "'peers[0].allowedIps[0]' is not a valid IPv6 prefix, got '2001:db8::1/64'"],
    ["AllowedIPs IPv4 with host bits", conf({ peers: [peer({ allowedIps: ["::/0", "10.0.0.1/24"] })] }), "'peers[0].allowedIps[1]' has host bits set beyond /24"],
    ["AllowedIPs not a prefix", conf({ peers: [peer({ allowedIps: ["anything"] })] }), "'peers[0].allowedIps[0]' must be address/length"],
    ["empty AllowedIPs", conf({ peers: [peer({ allowedIps: [] })] }), "'peers[0].allowedIps' must list at least one prefix"],
    ["keepalive 70000", conf({ peers: [peer({ persistentKeepalive: 70000 })] }), "'peers[0].persistentKeepalive' must be an integer 0..65535, got 70000"],
    ["listen port 0", conf({ listenPort: 0 }), "'listenPort' must be an integer 1..65535, got 0"],
    ["MTU below 1280", conf({ mtu: 1200 }), "'mtu' must be an integer 1280..65535, got 1200"],
    ["an IPv4 route", conf({ routes: ["0.0.0.0/0"], peers: [peer({ allowedIps: ["0.0.0.0/0", "::/0"] })] }), "'routes[0]' must be an IPv6 prefix (routes are added with ip -6)"],
    ["a route outside every AllowedIPs", conf({ routes: ["::/0"], peers: [peer({ allowedIps: ["2001:db8:1::/48"] })] }), "'routes[0]' is not inside any peer's allowedIps, so WireGuard would drop its packets, got '::/0'"],
  ])("rejects %s", (_d, model, fragment) => {
    expect(() => renderWgQuickConf(model)).toThrow(fragment);
  });

  it("never shows the private or preshared key in an error", () => {
    const cases: WgQuickConf[] = [
      conf({ privateKey: `${PRIVATE.slice(0, 43)}` }),
      conf({ peers: [peer({ publicKey: PRIVATE })] }),
      conf({ peers: [peer({ presharedKey: `${PSK}x` })] }),
      conf({ peers: [peer({ presharedKey: PSK, endpoint: "bad" })] }),
    ];
    for (const model of cases) {
      let message = "";
      try {
        renderWgQuickConf(model);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(PRIVATE.slice(0, 20));
      expect(message).not.toContain(PSK.slice(0, 20));
    }
  });

  it("rejects an unknown userspace implementation", () => {
    expect(() => renderWgQuickUserspaceDropIn({ implementation: "wg-rs" as never })).toThrow(
      "'implementation' must be wireguard-go or boringtun-cli, got 'wg-rs'",
    );
  });
});
