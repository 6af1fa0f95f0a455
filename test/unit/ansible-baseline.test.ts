import { ExportedResource, baselineVars, endStateDiff, inventoryText, revealed } from "../../bench/ansible";

const conn = (host: string) => ({ host, port: 22, user: "root" });
const secret = (v: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(v) });
const res = (kind: string, name: string, inputs: Record<string, unknown>, outputs: Record<string, unknown> = {}): ExportedResource => ({
  urn: `urn:pulumi:s::p::ipv6gw:x$pulumi-nodejs:dynamic/ipv6gw:host:${kind}::${name}`,
  type: `pulumi-nodejs:dynamic/ipv6gw:host:${kind}`,
  inputs,
  outputs,
});
const boxOf = (c: { host: string }) => ({ "192.0.2.1": "gw", "192.0.2.2": "c1", "192.0.2.3": "outside" })[c.host]!;
const text = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

describe("the Ansible baseline's variables, from a converged stack", () => {
  it("reveals secrets wherever they sit", () => {
    expect(revealed({ a: secret({ b: secret("x") }), c: [secret(1)] })).toEqual({ a: { b: "x" }, c: [1] });
  });

  it("gives each box its packages (one list), files, kernel parameters, firewall, services and probes", () => {
    const vars = baselineVars(
      [
        res("HostFacts", "gw-facts", { connection: conn("192.0.2.1") }),
        res("Packages", "p1", { connection: conn("192.0.2.1"), names: ["radvd", "iptables"] }),
        res("Packages", "p2", { connection: secret(conn("192.0.2.1")), names: ["iptables", "wireguard-tools"] }),
        res("RemoteFile", "wg", { connection: conn("192.0.2.1"), path: "/etc/wireguard/wg0.conf", content: secret("[Interface]\n{{ not a template }}\n"), mode: "0600" }, { sha256: "aa11" }),
        res("RemoteFile", "radvd", { connection: conn("192.0.2.1"), path: "/etc/radvd.conf", content: "interface eth0 {};\n", validate: "radvd --configtest -C %s" }, { sha256: "bb22" }),
        res("Service", "wg-quick", { connection: conn("192.0.2.1"), name: "wg-quick@wg0", restartTrigger: "aa11" }),
        res("Service", "persist", { connection: conn("192.0.2.1"), name: "netfilter-persistent", running: "unmanaged" }),
        res("Service", "off", { connection: conn("192.0.2.1"), name: "radvd", enabled: false, running: false }),
        res("Sysctl", "fwd", { connection: conn("192.0.2.1"), key: "net.ipv6.conf.all.forwarding", value: 1 }),
        res("Sysctl", "ra", { connection: conn("192.0.2.1"), key: "net.ipv6.conf.wan0.accept_ra", value: "2", persist: false }),
        res("CronEntry", "watchdog", { connection: conn("192.0.2.1"), name: "gw6c-watchdog", schedule: "*/5 * * * *", command: "/usr/local/bin/check" }),
        { ...res("Ip6tablesRuleset", "fw", { connection: conn("192.0.2.1"), backend: "iptables", rules: "*filter\nCOMMIT\n", persistPath: "/etc/iptables/rules.v6" }), type: "pulumi-nodejs:dynamic/ipv6gw:firewall:Ip6tablesRuleset" },
        {
          ...res("SiteProbe", "checks", {
            connections: { gateway: conn("192.0.2.1"), outside: conn("192.0.2.3"), c1: conn("192.0.2.2") },
            probes: [
              { name: "c1: ping out", on: "c1", script: "ping -c1 2001:db8::1", retrySeconds: 20 },
              { name: "outside: port 80 refused", on: "outside", script: "! nc -z x 80", retrySeconds: 0 },
            ],
          }),
          type: "pulumi-nodejs:dynamic/ipv6gw:checks:SiteProbe",
        },
      ],
      boxOf,
    );
    expect(Object.keys(vars).sort()).toEqual(["c1", "gw", "outside"]);
    const gw = vars.gw;
    expect(gw.ipv6gw_packages).toEqual(["iptables", "radvd", "wireguard-tools"]);
    expect(gw.ipv6gw_files.map((f) => [f.path, f.mode, f.owner, f.group, f.validate])).toEqual([
      ["/etc/wireguard/wg0.conf", "0600", "root", "root", undefined],
      ["/etc/radvd.conf", "0644", "root", "root", "radvd --configtest -C %s"],
    ]);
    expect(text(gw.ipv6gw_files[0].content_b64)).toBe("[Interface]\n{{ not a template }}\n");
    expect(gw.ipv6gw_services).toEqual([
      { name: "wg-quick@wg0", enabled: true, state: "started", restart_on: ["/etc/wireguard/wg0.conf"] },
      { name: "netfilter-persistent", enabled: true, state: "unmanaged", restart_on: [] },
      { name: "radvd", enabled: false, state: "stopped", restart_on: [] },
    ]);
    expect(gw.ipv6gw_sysctls.map((s) => [s.key, s.value, s.file])).toEqual([
      ["net.ipv6.conf.all.forwarding", "1", "/etc/sysctl.d/60-ipv6gw-net.ipv6.conf.all.forwarding.conf"],
      ["net.ipv6.conf.wan0.accept_ra", "2", undefined],
    ]);
    expect(text(gw.ipv6gw_sysctls[0].file_content_b64!)).toBe("# Managed by ipv6gw (Pulumi).\nnet.ipv6.conf.all.forwarding = 1\n");
    expect(gw.ipv6gw_cron).toEqual([{ name: "gw6c-watchdog", user: "root", minute: "*/5", hour: "*", day: "*", month: "*", weekday: "*", job: "/usr/local/bin/check" }]);
    expect(gw.ipv6gw_firewall && { ...gw.ipv6gw_firewall, rules: text(gw.ipv6gw_firewall.rules_b64) }).toMatchObject({ backend: "iptables", path: "/etc/iptables/rules.v6", rules: "*filter\nCOMMIT\n" });
    const nft = baselineVars([{ ...res("NftRuleset", "fw", { connection: conn("192.0.2.1"), backend: "nftables", rules: "table ip6 ipv6gw {\n}\n", persistPath: "/etc/ipv6gw/firewall.nft" }), type: "pulumi-nodejs:dynamic/ipv6gw:firewall:NftRuleset" }], boxOf);
    // What nft -f loads at boot: the table replaced whole, as the apply does.
    expect(text(nft.gw.ipv6gw_firewall!.rules_b64)).toMatch(/^#!\/usr\/sbin\/nft -f\n[^]*table ip6 ipv6gw \{\n\}\n$/);
    expect(nft.gw.ipv6gw_firewall!.backend).toBe("nftables");
    expect(vars.c1.ipv6gw_probes).toEqual([{ name: "c1: ping out", script_b64: expect.any(String), retries: 20 }]);
    expect(vars.outside.ipv6gw_probes.map((p) => [p.name, text(p.script_b64), p.retries])).toEqual([["outside: port 80 refused", "! nc -z x 80", 0]]);
  });

  it.each([
    ["a kind it has no task for", res("KeyValueFile", "kv", { connection: conn("192.0.2.1"), path: "/etc/x" }), /no task for a KeyValueFile/],
    ["a cron @keyword", res("CronEntry", "c", { connection: conn("192.0.2.1"), name: "n", schedule: "@reboot", command: "x" }), /not five cron fields/],
    ["a ruleset kept nowhere", { ...res("Ip6tablesRuleset", "fw", { connection: conn("192.0.2.1"), rules: "*filter\nCOMMIT\n" }), type: "pulumi-nodejs:dynamic/ipv6gw:firewall:Ip6tablesRuleset" }, /kept nowhere at boot/],
    ["a secret without its plaintext", res("RemoteFile", "f", { connection: conn("192.0.2.1"), path: "/x", content: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:x" } }), /--show-secrets/],
  ])("refuses %s rather than time a playbook that does less", (_what, r, message) => {
    expect(() => baselineVars([r], boxOf)).toThrow(message);
  });
});

describe("the baseline's inventory", () => {
  it("names each box with the lab's key and known_hosts, through its namespace when it has one", () => {
    const inv = inventoryText(
      [
        { name: "gw", host: "fe80::1%br-wan", port: 22, user: "root" },
        { name: "c1", host: "192.0.2.2", port: 2222, user: "root", viaNetns: "ipv6gw-c1" },
      ],
      "/k/id_ed25519",
      "/s/known_hosts",
    );
    expect(inv.split("\n")).toEqual([
      "[all]",
      "gw ansible_host=fe80::1%br-wan ansible_port=22 ansible_user=root ansible_ssh_private_key_file=/k/id_ed25519 ansible_ssh_extra_args='-o UserKnownHostsFile=/s/known_hosts'",
      `c1 ansible_host=192.0.2.2 ansible_port=2222 ansible_user=root ansible_ssh_private_key_file=/k/id_ed25519 ansible_ssh_extra_args='-o UserKnownHostsFile=/s/known_hosts -o ProxyCommand="ip netns exec ipv6gw-c1 nc %h %p"'`,
      "",
    ]);
  });
});

describe("comparing two end states", () => {
  const state = (files: string[], units: string[]) => ["## files", ...files, "## units active", ...units, ""].join("\n");

  it("is empty when they match, whatever the order of lines", () => {
    expect(endStateDiff(state(["/etc/a 644 root:root 11", "/etc/b 600 root:root 22"], ["radvd.service"]), state(["/etc/b 600 root:root 22", "/etc/a 644 root:root 11"], ["radvd.service"]))).toEqual([]);
  });

  it("shows each section's lines only one side has", () => {
    expect(endStateDiff(state(["/etc/a 644 root:root 11"], ["radvd.service", "wg-quick@wg0.service"]), state(["/etc/a 644 root:root 12"], ["radvd.service"]))).toEqual([
      "## files",
      "- /etc/a 644 root:root 11",
      "+ /etc/a 644 root:root 12",
      "## units active",
      "- wg-quick@wg0.service",
    ]);
  });

  it("stops at the limit, saying how much more there is", () => {
    const many = (n: number, tag: string) => state(Array.from({ length: n }, (_, i) => `/etc/${tag}${i}`), []);
    expect(endStateDiff(many(30, "a"), many(30, "b"), 10)).toEqual([...endStateDiff(many(30, "a"), many(30, "b"), 1000).slice(0, 10), "... and 51 more lines"]);
  });
});
