import { createPrivateKey, createPublicKey } from "crypto";
import { newWireguardKeyPair, publicKeyWithoutComment } from "../../lab/keys";
import { labPaths } from "../../lab/paths";
import { knownHostsLine, sshCommand } from "../../lab/ssh";

const paths = labPaths({ HOME: "/root", IPV6GW_LAB_DIR: "/var/lib/ipv6gw-lab" });

describe("lab paths", () => {
  it("follow IPV6GW_CACHE, XDG_CACHE_HOME and HOME, in that order", () => {
    expect(labPaths({ HOME: "/h" }).cache).toBe("/h/.cache/ipv6gw/lab");
    expect(labPaths({ HOME: "/h", XDG_CACHE_HOME: "/x" }).cache).toBe("/x/ipv6gw/lab");
    expect(labPaths({ HOME: "/h", XDG_CACHE_HOME: "/x", IPV6GW_CACHE: "/c" }).cache).toBe("/c/lab");
    expect(labPaths({ HOME: "/h" }).labJson).toBe("/var/lib/ipv6gw-lab/lab.json");
    expect(labPaths({ HOME: "/h", IPV6GW_LAB_DIR: "/s" }).knownHosts).toBe("/s/known_hosts");
  });
});

describe("ssh to boxes", () => {
  it("pins host keys under the box's address and name", () => {
    expect(knownHostsLine("gw", { host: "fe80::200:5eff:fe00:5301%ipv6gw-lan", port: 22 }, "ssh-ed25519 AAAA")).toBe(
      "fe80::200:5eff:fe00:5301%ipv6gw-lan,gw ssh-ed25519 AAAA",
    );
    expect(knownHostsLine("isp", { host: "2001:db8:ffff::fe", port: 2222 }, "ssh-ed25519 AAAA")).toBe(
      "[2001:db8:ffff::fe]:2222,isp ssh-ed25519 AAAA",
    );
  });

  it("uses the lab key, the lab known_hosts and strict checking", () => {
    const { cmd, args } = sshCommand(paths, { host: "2001:db8:ffff::1", port: 22 }, "admin", [], ["true"]);
    expect(cmd).toBe("ssh");
    expect(args).toEqual([
      "-i",
      "/root/.cache/ipv6gw/lab/keys/id_ed25519",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "UserKnownHostsFile=/var/lib/ipv6gw-lab/known_hosts",
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "LogLevel=ERROR",
      "-p",
      "22",
      "admin@2001:db8:ffff::1",
      "true",
    ]);
  });

  it("runs ssh inside a namespace for a box the host has no link to", () => {
    const { cmd, args } = sshCommand(paths, { host: "203.0.113.1", port: 22, viaNetns: "ipv6gw-natbox" }, "root");
    expect(cmd).toBe("ip");
    expect(args.slice(0, 4)).toEqual(["netns", "exec", "ipv6gw-natbox", "ssh"]);
    expect(args[args.length - 1]).toBe("root@203.0.113.1");
  });

  it("drops the comment of a public key line", () => {
    expect(publicKeyWithoutComment("ssh-ed25519 AAAAC3Nz root@gw\n")).toBe("ssh-ed25519 AAAAC3Nz");
    expect(() => publicKeyWithoutComment("garbage")).toThrow("not an OpenSSH public key line");
  });
});

describe("WireGuard keys", () => {
  it("are 32-byte base64 keys, the private one clamped, the public one derived from it", () => {
    const k = newWireguardKeyPair();
    const priv = Buffer.from(k.privateKey, "base64");
    expect(priv).toHaveLength(32);
    expect(Buffer.from(k.publicKey, "base64")).toHaveLength(32);
    expect(priv[0] & 7).toBe(0);
    expect(priv[31] & 0xc0).toBe(0x40);
    // PKCS#8 wrapping of a raw X25519 private key (RFC 8410).
    const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), priv]);
    const derived = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({ format: "jwk" }).x;
    expect(Buffer.from(derived!, "base64url").toString("base64")).toBe(k.publicKey);
    expect(newWireguardKeyPair().privateKey).not.toBe(k.privateKey);
  });
});
