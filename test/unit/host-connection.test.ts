import { connectionSchema, describeConnection, fingerprintOf, hostKeyAlgorithmsFor, parseHostKey } from "../../components/host/connection";
import { zodFailures } from "../../components/host/provider-kit";
import { sudoRefusal } from "../../components/host/ssh-transport";
import { connection } from "./fake-remote";

const failures = (c: unknown) => {
  const r = connectionSchema().safeParse(c);
  return r.success ? [] : zodFailures(r.error);
};

describe("connection validation", () => {
  it("accepts a pinned key connection", () => {
    expect(failures(connection)).toEqual([]);
  });

  it.each([
    ["no host", { ...connection, host: "" }, "host", "is required"],
    ["bad port", { ...connection, port: 70000 }, "port", "1-65535"],
    ["no credential", { host: "192.0.2.1", hostKey: connection.hostKey }, "privateKey", "no credential"],
    ["a key path instead of a key", { ...connection, privateKey: "/root/.ssh/id_ed25519" }, "privateKey", "not its path"],
    ["no host key", { ...connection, hostKey: undefined }, "hostKey", "dangerouslySkipHostKeyCheck"],
    ["garbage host key", { ...connection, hostKey: "ssh-ed25519 nope" }, "hostKey", "neither an OpenSSH public key"],
    ["bad user", { ...connection, user: "root; rm -rf /" }, "user", "not a valid login name"],
    ["proxy without host key", { ...connection, proxy: { host: "198.51.100.1", privateKey: connection.privateKey } }, "proxy.hostKey", "is required"],
  ])("rejects %s", (_what, conn, property, fragment) => {
    const f = failures(conn);
    expect(f.map((x) => x.property)).toContain(property);
    expect(f.find((x) => x.property === property)!.reason).toContain(fragment);
  });

  it("lets the host key check be skipped only by name", () => {
    expect(failures({ ...connection, hostKey: undefined, dangerouslySkipHostKeyCheck: true })).toEqual([]);
  });
});

describe("host keys", () => {
  it("parses an OpenSSH public key and fingerprints it as ssh-keygen -l does", () => {
    const pin = parseHostKey(connection.hostKey + " root@vm")!;
    expect(pin.kind).toBe("key");
    // ssh-keygen -lf on this key prints SHA256:2J2xM5qBjgu6hDOrRRjsmXgc4qaMQDsAkYSsJsiosmQ
    expect(pin.fingerprint).toBe("SHA256:2J2xM5qBjgu6hDOrRRjsmXgc4qaMQDsAkYSsJsiosmQ");
    expect(hostKeyAlgorithmsFor(pin)).toEqual(["ssh-ed25519"]);
  });

  it("accepts a bare SHA256 fingerprint", () => {
    expect(parseHostKey("SHA256:2J2xM5qBjgu6hDOrRRjsmXgc4qaMQDsAkYSsJsiosmQ")).toEqual({
      kind: "fingerprint",
      fingerprint: "SHA256:2J2xM5qBjgu6hDOrRRjsmXgc4qaMQDsAkYSsJsiosmQ",
    });
  });

  it("rejects a key whose blob says another type", () => {
    const ed = connection.hostKey.split(" ")[1];
    expect(parseHostKey(`ssh-rsa ${ed}`)).toBeUndefined();
  });

  it("fingerprints raw blobs like OpenSSH (unpadded base64)", () => {
    expect(fingerprintOf(Buffer.from("abc"))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe("describing a connection", () => {
  it("applies the defaults (root, port 22) and brackets IPv6 literals", () => {
    expect(describeConnection({ host: "2001:db8:ffff::1", proxy: { host: "198.51.100.1", user: "admin", port: 2222 } })).toBe("root@[2001:db8:ffff::1]:22 (via admin@198.51.100.1:2222)");
  });
});

describe("sudo refusals", () => {
  it.each([
    ["sudo: a password is required\n", true],
    ["nosudo is not in the sudoers file.  This incident will be reported.\n", true],
    ["Sorry, user nosudo may not run sudo on gw.\nsudo: a password is required\n", true],
    ["cat: /nope: No such file or directory\n", false],
  ])("%j is a refusal: %s", (stderr, refused) => {
    expect(sudoRefusal({ code: 1, stdout: "", stderr }) !== undefined).toBe(refused);
  });

  it("never calls a successful command refused", () => {
    expect(sudoRefusal({ code: 0, stdout: "", stderr: "sudo: a password is required" })).toBeUndefined();
  });
});
