// What a user sees when a box cannot be reached or cannot do what is asked,
// tried for real against the lab over SSH.
import * as crypto from "crypto";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labSh, loadLab } from "../../lab/client";
import { Connection } from "../../components/host/connection";
import { PackagesProvider } from "../../components/host/packages";
import { ServiceProvider } from "../../components/host/service";
import { SysctlProvider } from "../../components/host/sysctl";
import { closeAllRemotes, openRemote } from "../../components/host/ssh-transport";

jest.setTimeout(120_000);

const lab = loadLab();
const key = fs.readFileSync(lab.sshPrivateKeyPath, "utf8");
const box = (name: string, user = "root"): Connection => {
  const b = lab.boxes[name as keyof typeof lab.boxes]!;
  return { host: b.host, port: b.port, user, hostKey: b.hostKey, privateKey: key, dialErrorLimit: 1, perDialTimeout: 5 };
};

afterEach(() => closeAllRemotes());

describe("connection errors", () => {
  it("says the key was refused, and what to check", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    const other = fs.readFileSync(path.join(dir, "k"), "utf8");
    fs.rmSync(dir, { recursive: true, force: true });
    await expect(openRemote({ ...box("c1"), privateKey: other })).rejects.toThrow(
      /^authentication failed for root@\[fe80::200:5eff:fe00:5311%ipv6gw-lan\]:22 \(All configured authentication methods failed\): check user and privateKey/,
    );
  });

  it("shows both fingerprints when the host key is not the pinned one", async () => {
    const pinned = box("c1").hostKey!;
    await expect(openRemote({ ...box("c1"), hostKey: box("c2").hostKey })).rejects.toThrow(
      /^host key mismatch for root@\[fe80::200:5eff:fe00:5311%ipv6gw-lan\]:22: expected SHA256:[A-Za-z0-9+/]{43} \(ssh-ed25519\), the server presented SHA256:[A-Za-z0-9+/]{43} \(ssh-ed25519\)/,
    );
    expect(pinned).not.toBe(box("c2").hostKey);
  });

  it("gives up on an unreachable host with the address and what to check", async () => {
    // A documentation address on the lab's internet segment where nothing answers.
    await expect(openRemote({ ...box("outside"), host: "2001:db8:ffff::99", perDialTimeout: 3 })).rejects.toThrow(
      /^cannot reach root@\[2001:db8:ffff::99\]:22 after 1 attempt\(s\): .*Check the address, that sshd runs/,
    );
  });

  it("says sudo was refused for a user without it, and what to do", async () => {
    const remote = await openRemote(box("c1", "nosudo"));
    await expect(remote.run("id -u")).rejects.toThrow(/^sudo refused on nosudo@\[fe80::[0-9a-f:]+%ipv6gw-lan\]:22: .*Host resources need root: connect as root, or give this user passwordless sudo/);
  });

  it("works through sudo for a user that has it", async () => {
    const remote = await openRemote(box("c1", "admin"));
    expect((await remote.run("id -u")).stdout.trim()).toBe("0");
  });
});

describe("what a box cannot do", () => {
  it("names a package its repositories do not have", async () => {
    const p = PackagesProvider.instance;
    await expect(p.create({ connection: box("c1"), names: ["ipv6gw-no-such-package"], manager: "auto" } as never)).rejects.toThrow(
      /^package\(s\) 'ipv6gw-no-such-package' could not be installed with apt on root@\[fe80::[0-9a-f:]+%ipv6gw-lan\]:22: .*Unable to locate package ipv6gw-no-such-package/s,
    );
  });

  it("takes turns when two Packages of one box install and remove at once (dpkg runs one at a time)", async () => {
    const p = PackagesProvider.instance;
    const installed = () => labSh("c1", "dpkg-query -W -f='${Status}\\n' ndisc6 tcpdump 2>/dev/null | grep -c 'install ok installed' || true").trim();
    const made = await Promise.all(["ndisc6", "tcpdump"].map((name) => p.create({ connection: box("c1"), names: [name], manager: "auto" } as never)));
    try {
      expect(installed()).toBe("2");
    } finally {
      await Promise.all(made.map((m) => p.delete(m.id, m.outs as never)));
    }
    expect(installed()).toBe("0");
  });

  it("names a kernel parameter that does not exist", async () => {
    await expect(SysctlProvider.instance.create({ connection: box("c1"), key: "net.ipv6.conf.eth9.forwarding", value: "1", persist: true })).rejects.toThrow(
      /no such kernel parameter: net.ipv6.conf.eth9.forwarding/,
    );
  });

  it("says when a box has no service manager it knows", async () => {
    // Simulated on a lab box by hiding systemctl and update-rc.d for the duration of the test.
    labSh("c1", "mv /usr/bin/systemctl /usr/bin/systemctl.ipv6gw-test && mv /usr/sbin/update-rc.d /usr/sbin/update-rc.d.ipv6gw-test");
    try {
      await expect(ServiceProvider.instance.create({ connection: box("c1"), name: "cron", enabled: true, running: true, manager: "auto", restartTrigger: "" })).rejects.toThrow(
        /^no supported service manager on root@\[fe80::[0-9a-f:]+%ipv6gw-lan\]:22: not systemd \(running as init\), OpenRC \(rc-service\) or SysV init/,
      );
    } finally {
      labSh("c1", "mv /usr/bin/systemctl.ipv6gw-test /usr/bin/systemctl && mv /usr/sbin/update-rc.d.ipv6gw-test /usr/sbin/update-rc.d");
    }
  });

  it("names a service that does not exist", async () => {
    await expect(ServiceProvider.instance.create({ connection: box("c1"), name: "no-such-daemon", enabled: true, running: true, manager: "auto", restartTrigger: "" })).rejects.toThrow(
      /^service no-such-daemon does not exist on root@.*\(systemd\): install its package or unit file first/,
    );
  });

  it("finds a unit written after systemd looked it up, and does not call it missing", async () => {
    // systemd keeps a not-found entry for a unit another one requires, and looks again only when a unit
    // directory's mtime moved since its cache was built: a file written within the same clock tick as
    // the last change (as when one resource writes what another starts) stays unknown until a
    // daemon-reload. The directory's mtime put back makes that tick certain here.
    const unit = (body: string) => `[Unit]\n${body}\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n`;
    const dir = "/etc/systemd/system";
    labSh("c1", `printf '%s' '${unit("Requires=ipv6gw-test-b.service")}' > ${dir}/ipv6gw-test-a.service && systemctl daemon-reload`);
    try {
      labSh("c1", `m=$(stat -c %y ${dir}) && printf '%s' '${unit("")}' > ${dir}/ipv6gw-test-b.service && touch -d "$m" ${dir}`);
      expect(labSh("c1", "systemctl show -p LoadState --value ipv6gw-test-b.service").trim()).toBe("not-found");
      await ServiceProvider.instance.create({ connection: box("c1"), name: "ipv6gw-test-b", enabled: false, running: true, manager: "auto", restartTrigger: "" });
      expect(labSh("c1", "systemctl is-active ipv6gw-test-b.service || true").trim()).toBe("active");
    } finally {
      labSh("c1", `systemctl stop ipv6gw-test-b.service; rm -f ${dir}/ipv6gw-test-a.service ${dir}/ipv6gw-test-b.service; systemctl daemon-reload`);
    }
  });

  it("reloads systemd only for a unit whose file changed, and then restarts what the new file says", async () => {
    // Each daemon-reload costs a quarter second, and services applied side by side queue on it.
    const dir = "/etc/systemd/system";
    const unit = (v: string) => `[Service]\nEnvironment=V=${v}\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n`;
    const reloads = () => Number(labSh("c1", "journalctl --sync; journalctl -b _PID=1 -o cat --no-pager | grep -c '^Reloading' || true").trim());
    const service = { connection: box("c1"), name: "ipv6gw-test-reload", enabled: true, running: true as const, manager: "auto" as const };
    labSh("c1", `printf '%b' '${unit("1")}' > ${dir}/ipv6gw-test-reload.service && systemctl daemon-reload`);
    try {
      const before = reloads();
      const made = await ServiceProvider.instance.create({ ...service, restartTrigger: "1" });
      expect(reloads()).toBe(before);
      expect(labSh("c1", "systemctl is-enabled ipv6gw-test-reload; systemctl is-active ipv6gw-test-reload").trim().split("\n")).toEqual(["enabled", "active"]);
      labSh("c1", `printf '%b' '${unit("2")}' > ${dir}/ipv6gw-test-reload.service`);
      await ServiceProvider.instance.update("ipv6gw-test-reload", made.outs as never, { ...service, restartTrigger: "2" } as never);
      expect(reloads()).toBe(before + 1);
      const pid = labSh("c1", "systemctl show -p MainPID --value ipv6gw-test-reload").trim();
      expect(labSh("c1", `tr '\\0' '\\n' < /proc/${pid}/environ | grep '^V='`).trim()).toBe("V=2");
    } finally {
      labSh("c1", `systemctl disable --now ipv6gw-test-reload.service; rm -f ${dir}/ipv6gw-test-reload.service; systemctl daemon-reload`);
    }
  });

  it("waits for a start queued behind a slow dependency, and says when a unit fails to start", async () => {
    // While its job waits for the dependency, the unit is "inactive": that is not a failure yet.
    const oneshot = (exec: string, unit = "") => `[Unit]\n${unit}\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=${exec}\n`;
    const dir = "/etc/systemd/system";
    const units = {
      "ipv6gw-test-slow": oneshot("/bin/sleep 3"),
      "ipv6gw-test-after": oneshot("/bin/true", "Wants=ipv6gw-test-slow.service\nAfter=ipv6gw-test-slow.service"),
      "ipv6gw-test-broken": oneshot("/bin/false"),
    };
    labSh("c1", `${Object.entries(units).map(([name, text]) => `printf '%b' '${text}' > ${dir}/${name}.service`).join(" && ")} && systemctl daemon-reload`);
    try {
      await ServiceProvider.instance.create({ connection: box("c1"), name: "ipv6gw-test-after", enabled: false, running: true, manager: "auto", restartTrigger: "" });
      expect(labSh("c1", "systemctl is-active ipv6gw-test-slow.service ipv6gw-test-after.service || true").trim().split("\n")).toEqual(["active", "active"]);
      await expect(ServiceProvider.instance.create({ connection: box("c1"), name: "ipv6gw-test-broken", enabled: false, running: true, manager: "auto", restartTrigger: "" })).rejects.toThrow(
        /^service ipv6gw-test-broken on root@.* could not be started \(systemd\)/,
      );
    } finally {
      const names = Object.keys(units).map((u) => `${u}.service`).join(" ");
      labSh("c1", `systemctl stop ${names}; systemctl reset-failed ${names} 2>/dev/null; rm -f ${Object.keys(units).map((u) => `${dir}/${u}.service`).join(" ")}; systemctl daemon-reload`);
    }
  });
});

describe("the transport", () => {
  it("runs many commands at once over one connection", async () => {
    const connection = box("c2");
    const before = Number(labSh("c2", "journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true").trim());
    const remote = await openRemote(connection);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => remote.run(`echo ${i}; sleep 0.2`)));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    expect(await openRemote(connection)).toBe(remote);
    const after = Number(labSh("c2", "journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true").trim());
    expect(after - before).toBe(1);
  });

  it("passes stdin byte for byte and keeps it off the command line", async () => {
    const remote = await openRemote(box("c2"));
    const token = crypto.randomBytes(6).toString("hex");
    const secret = `s3cret-${token}\n\u00e9\u0000end`;
    // "[s]3cret" matches the secret but not this command line itself.
    const r = await remote.run(`ps -eo args | grep -c '[s]3cret-${token}' >&2; cat`, { stdin: secret });
    expect(r.stdout).toBe(secret);
    expect(r.stderr.trim()).toBe("0");
  });

  it("says a private key it cannot read is the problem, not the network", async () => {
    await expect(openRemote({ ...box("c1"), privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n" })).rejects.toThrow(
      /^cannot use the private key for root@\[fe80::200:5eff:fe00:5311%ipv6gw-lan\]:22: .*pass an unencrypted OpenSSH or PEM key, or set privateKeyPassword/,
    );
  });
});
