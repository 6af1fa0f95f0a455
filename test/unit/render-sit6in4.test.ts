import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { heUpdateUrl, renderSit6in4Script, renderSit6in4Unit, Sit6in4Tunnel } from "../../components/render";
import { expectGolden } from "./golden";

const HE: Sit6in4Tunnel = {
  name: "he-ipv6",
  remoteV4: "198.51.100.1",
  localV4: "198.51.100.2",
  clientV6: "2001:db8:ffff::2/64",
};

function shellSyntaxError(script: string): string {
  const r = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
  return r.status === 0 ? "" : r.stderr || `sh -n exited ${r.status}`;
}

describe.each<[string, string, Sit6in4Tunnel]>([
  ["HE defaults: ttl 255, mtu 1480, IPv6 default route", "he-default", HE],
  [
    "behind NAT: private local address, PPPoE MTU, TTL 64, ::/0 and 2000::/3 as gw6c's template routes",
    "nat-routes",
    { name: "sit-he", remoteV4: "203.0.113.1", localV4: "192.168.1.2", clientV6: "2001:0DB8:FFFF:0::2/64", ttl: 64, mtu: 1472, routes: ["::/0", "2000::/3"] },
  ],
  ["no local address: the kernel picks the source", "no-local", { name: "tun6in4", remoteV4: "198.51.100.1", clientV6: "2001:db8:ffff::2/64" }],
])("6in4 script golden: %s", (_description, name, tunnel) => {
  it("matches the golden file", () => {
    expectGolden(`sit6in4/${name}.sh`, renderSit6in4Script(tunnel));
  });
  it("is valid sh (sh -n)", () => {
    expect(shellSyntaxError(renderSit6in4Script(tunnel))).toBe("");
  });
});

describe.each<[string, string, { name: string; scriptPath: string }]>([
  ["oneshot unit running the script up/down", "he-ipv6.service", { name: "he-ipv6", scriptPath: "/usr/local/sbin/ipv6gw-6in4-he-ipv6" }],
])("6in4 unit golden: %s", (_description, file, options) => {
  it("matches the golden file", () => {
    expectGolden(`sit6in4/${file}`, renderSit6in4Unit(options));
  });
});

describe("renderSit6in4Script", () => {
  it("creates or changes the tunnel, then link, mtu, address and routes; down reverses", () => {
    const out = renderSit6in4Script(HE);
    const order = [
      "ip tunnel add he-ipv6 mode sit remote 198.51.100.1 local 198.51.100.2 ttl 255",
      "ip link set dev he-ipv6 up",
      "ip link set dev he-ipv6 mtu 1480",
      "ip -6 addr replace 2001:db8:ffff::2/64 dev he-ipv6",
      "ip -6 route replace ::/0 dev he-ipv6",
      "ip -6 route del ::/0 dev he-ipv6",
      "ip tunnel del he-ipv6",
    ].map((fragment) => out.indexOf(fragment));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  describe("runs against a fake `ip` that records its calls", () => {
    // A stand-in `ip` first on PATH exercises the script's control flow without touching the kernel.
    // `ip link show` succeeds only when the file "exists" is present, i.e. when the tunnel "exists".
    let dir = "";
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-sit6in4-"));
      fs.writeFileSync(path.join(dir, "ip"),
        `#!/bin/sh\necho "ip $*" >> "${dir}/calls"\nif [ "$1 $2" = "link show" ]; then [ -e "${dir}/exists" ]; exit $?; fi\nexit 0\n`,
        { mode: 0o755 });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const run = (arg: string): number | null => {
      const script = renderSit6in4Script(HE).replace("PATH=/usr/sbin:/usr/bin:/sbin:/bin", `PATH=${dir}:/usr/bin:/bin`);
      return spawnSync("sh", ["-s", arg], { input: script, encoding: "utf8" }).status;
    };
    const calls = (): string[] => fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");

    it("up creates a missing tunnel, down removes everything", () => {
      expect(run("up")).toBe(0);
      expect(run("down")).toBe(0);
      expect(calls()).toEqual([
        "ip link show dev he-ipv6",
        "ip tunnel add he-ipv6 mode sit remote 198.51.100.1 local 198.51.100.2 ttl 255",
        "ip link set dev he-ipv6 up",
        "ip link set dev he-ipv6 mtu 1480",
        "ip -6 addr replace 2001:db8:ffff::2/64 dev he-ipv6",
        "ip -6 route replace ::/0 dev he-ipv6",
        "ip -6 route del ::/0 dev he-ipv6",
        "ip -6 addr del 2001:db8:ffff::2/64 dev he-ipv6",
        "ip link set dev he-ipv6 down",
        "ip tunnel del he-ipv6",
      ]);
    });

    it("up changes an existing tunnel instead of failing", () => {
      fs.writeFileSync(path.join(dir, "exists"), "");
      expect(run("up")).toBe(0);
      expect(calls()[1]).toBe("ip tunnel change he-ipv6 mode sit remote 198.51.100.1 local 198.51.100.2 ttl 255");
    });

    it("anything but up/down is a usage error", () => {
      expect(run("sideways")).toBe(2);
    });
  });

  it.each<[string, Sit6in4Tunnel, string]>([
    ["a name over 15 characters", { ...HE, name: "he-ipv6-tunnel-01" }, "6in4 tunnel: 'name' must be a Linux interface name of 1-15 characters"],
    ["a name starting with '-'", { ...HE, name: "-he" }, "'name' must be a Linux interface name"],
    ["a name with a shell character", { ...HE, name: "he;reboot" }, "'name' must be a Linux interface name"],
    ["a bad remote", { ...HE, remoteV4: "198.51.100" }, `6in4 tunnel "he-ipv6": 'remoteV4' must be an IPv4 address, got '198.51.100'`],
    ["an IPv6 remote", { ...HE, remoteV4: "2001:db8::1" }, "'remoteV4' must be an IPv4 address"],
    ["a bad local", { ...HE, localV4: "198.51.100.256" }, "'localV4' must be an IPv4 address, got '198.51.100.256'"],
    ["local equal to remote", { ...HE, localV4: "198.51.100.1" }, "'localV4' must differ from remoteV4"],
    ["clientV6 without length", { ...HE, clientV6: "2001:db8:ffff::2" }, "'clientV6' must be an IPv6 address with length, got '2001:db8:ffff::2'"],
    ["clientV6 not IPv6", { ...HE, clientV6: "10.0.0.2/24" }, "'clientV6' must be an IPv6 address with length"],
    ["ttl 0", { ...HE, ttl: 0 }, "'ttl' must be an integer 1..255, got 0; use 255"],
    ["mtu 1500", { ...HE, mtu: 1500 }, "'mtu' must be an integer 1280..1480 (IPv6 minimum; 1500 minus the 20-byte IPv4 header), got 1500"],
    ["mtu 1200", { ...HE, mtu: 1200 }, "'mtu' must be an integer 1280..1480"],
    ["a route with host bits", { ...HE, routes: ["2001:db8::1/48"] }, "'routes[0]' must be an IPv6 prefix, got '2001:db8::1/48'"],
    ["a duplicate route", { ...HE, routes: ["::/0", "0::0/0"] }, "'routes' lists a prefix twice"],
  ])("rejects %s", (_d, tunnel, fragment) => {
    expect(() => renderSit6in4Script(tunnel)).toThrow(fragment);
  });

  it.each<[string, { name: string; scriptPath: string }, string]>([
    ["a relative script path", { name: "he-ipv6", scriptPath: "sbin/he" }, `6in4 unit "he-ipv6": 'scriptPath' must be an absolute path`],
    ["a script path with a space", { name: "he-ipv6", scriptPath: "/usr/local/sbin/he up" }, "'scriptPath' must be an absolute path"],
    ["a bad unit name", { name: "he ipv6", scriptPath: "/x" }, "6in4 unit: 'name' must be a Linux interface name"],
  ])("unit rejects %s", (_d, options, fragment) => {
    expect(() => renderSit6in4Unit(options)).toThrow(fragment);
  });
});

describe("heUpdateUrl", () => {
  it.each<[string, Parameters<typeof heUpdateUrl>[0], string]>([
    ["tunnel id only (HE uses the source address)", { tunnelId: "123456" }, "https://ipv4.tunnelbroker.net/nic/update?hostname=123456"],
    ["numeric id and explicit address", { tunnelId: 123456, myip: "198.51.100.2" }, "https://ipv4.tunnelbroker.net/nic/update?hostname=123456&myip=198.51.100.2"],
  ])("%s", (_d, options, expected) => {
    expect(heUpdateUrl(options)).toBe(expected);
  });

  it("never carries credentials", () => {
    expect(heUpdateUrl({ tunnelId: 1 })).not.toMatch(/@|username|password|key/);
  });

  it.each<[string, Parameters<typeof heUpdateUrl>[0], string]>([
    ["a non-numeric id", { tunnelId: "abc&x=1" }, "HE update URL: 'tunnelId' must be the numeric tunnel ID, got 'abc&x=1'"],
    ["an IPv6 myip", { tunnelId: 1, myip: "2001:db8::1" }, "'myip' must be an IPv4 address, got '2001:db8::1'"],
  ])("rejects %s", (_d, options, fragment) => {
    expect(() => heUpdateUrl(options)).toThrow(fragment);
  });
});
