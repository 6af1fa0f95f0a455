// The lab's TSP broker (lab/tsp-broker) on isp, used as a gateway uses it:
// the gw6c STAND-IN (test/fixtures/gw6c-standin, built in the gw from its
// tarball as Gw6cTunnel builds gw6c) negotiates with it from gw, and its
// template configures the gw with net-tools and radvd from the lab's apt
// repository, as gw6c 5.1's Linux template does. Shown here: host mode,
// router mode with the delegated /64 routed to the LAN (outside reaches
// c1), the same prefix after a restart, TCP negotiation, and the defects of
// issue 11 on a Debian 12 gw (radvd's missing /run/radvd; the leftover LAN
// address on a restart; radvd surviving the teardown). Then the same
// through natbox (scenario nat), where keepalives hold the NAT mapping.
// The lab is reset afterwards (and put back into the direct scenario).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labCli, labExec, LabJson, labSh, loadLab } from "../../lab/client";
import { packGw6cStandin } from "../fixtures/gw6c-standin";

jest.setTimeout(300_000);

const GW6C = "/usr/local/gw6c";
const C1 = "2001:db8:7777:1:200:5eff:fe00:5311"; // c1's EUI-64 address in todd's /64
const ANONYMOUS_GW = "2001:db8:ffff:200::100:2"; // the first anonymous slot (256)

let lab: LabJson;
const daemons: number[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` (a shell script in `box`) until it exits 0; returns its output. */
async function eventually(box: string, what: string, probe: string, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let last = { code: -1, stdout: "", stderr: "" };
  while (Date.now() < end) {
    last = labExec(box, ["/bin/sh", "-c", probe]);
    if (last.code === 0) return last.stdout;
    await sleep(250);
  }
  throw new Error(`in ${box}: ${what} did not happen within ${ms} ms; last try exited ${last.code}:\n${last.stdout}${last.stderr}`);
}

/** Installs what the stand-in's build and template need, then builds and installs it into /usr/local/gw6c. */
function prepareGw(): void {
  labSh("gw", "DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q make gcc libc6-dev net-tools radvd >/dev/null", 300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-tsp-broker-"));
  try {
    const tarball = fs.readFileSync(packGw6cStandin(path.join(tmp, "gw6c-standin.tar.gz")));
    const r = labExec("gw", ["/bin/sh", "-c", "mkdir -p /root/src && base64 -d | tar -xzf - -C /root/src"], { input: tarball.toString("base64") });
    if (r.code !== 0) throw new Error(`unpacking the stand-in in gw: ${r.stderr}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  labSh("gw", `cd /root/src/gw6c-standin/tspc-advanced && make target=linux >/dev/null && make target=linux install installdir=${GW6C} >/dev/null && mkdir -p ${GW6C}/etc ${GW6C}/logs`, 120_000);
}

interface Started {
  readonly code: number;
  readonly stderr: string;
  readonly logFile: string;
}

/** Runs the stand-in in gw with gw6c.conf keys over the lab defaults; it returns once it forked (or failed). */
function startStandin(name: string, keys: Record<string, string>): Started {
  const conf = {
    server: lab.tsp.server,
    tunnel_mode: "v6udpv4",
    if_tunnel_v6udpv4: "tun",
    if_tunnel_v6v4: "sit1",
    gw6_dir: GW6C,
    template: "linux",
    keepalive: "yes",
    keepalive_interval: "30",
    retry_delay: "5",
    log_file: "3",
    log_filename: `${GW6C}/logs/${name}.log`,
    ...keys,
  };
  const text = Object.entries(conf).map(([k, v]) => `${k}=${v}\n`).join("");
  labSh("gw", `umask 077; cat > ${GW6C}/etc/${name}.conf <<'CONF'\n${text}CONF`);
  const r = labExec("gw", ["/bin/sh", "-c", `cd ${GW6C} && ./bin/gw6c -f etc/${name}.conf`], { timeoutMs: 60_000 });
  const logFile = `${GW6C}/logs/${name}.log`;
  for (const m of labSh("gw", `cat ${logFile} 2>/dev/null || true`).matchAll(/in the background \(pid (\d+)\)/g)) daemons.push(Number(m[1]));
  return { code: r.code, stderr: r.stderr, logFile };
}

function log(s: Started): string {
  return labSh("gw", `cat ${s.logFile}`);
}

function daemonPid(s: Started): number {
  const m = [...log(s).matchAll(/in the background \(pid (\d+)\)/g)];
  return m.length ? Number(m[m.length - 1][1]) : 0;
}

/** The broker's live tunnels, from isp. */
function sessions(): Array<Record<string, unknown>> {
  return JSON.parse(labSh(lab.tsp.box, `cat ${lab.tsp.sessionsFile}`)) as Array<Record<string, unknown>>;
}

function todd(): Record<string, string> {
  return { userid: lab.tsp.userid, passwd: lab.tsp.password, auth_method: "any", host_type: "router", if_prefix: "eth0", prefixlen: "64" };
}

/** Stops every stand-in this file started (by PID, inside gw) and gw6c's radvd. */
function stopAll(): void {
  for (const pid of daemons.splice(0)) labExec("gw", ["/bin/sh", "-c", `[ "$(cat /proc/${pid}/comm 2>/dev/null)" = gw6c ] && kill -KILL ${pid}; true`]);
  labExec("gw", ["/bin/sh", "-c", "[ -f /run/radvd/radvd.pid ] && kill $(cat /run/radvd/radvd.pid); true"]);
}

describe("the lab's TSP broker, used by the gw6c stand-in from gw", () => {
  beforeAll(() => {
    labCli(["reset"]);
    lab = loadLab();
    prepareGw();
  }, 600_000);

  afterAll(() => {
    try {
      stopAll();
    } finally {
      labCli(["reset"]);
    }
  }, 300_000);

  it("runs on isp: unit active, UDP and TCP 3653 on 198.51.100.1, tsp0 with the broker's tunnel address; lab.json names it", () => {
    expect(labSh("isp", "systemctl is-active ipv6gw-lab-tsp-broker").trim()).toBe("active");
    expect(labSh("isp", "ss -Hlnu 'sport = :3653'")).toContain("198.51.100.1:3653");
    expect(labSh("isp", "ss -Hlnt 'sport = :3653'")).toContain("198.51.100.1:3653");
    expect(labSh("isp", "ip -6 -o addr show dev tsp0 scope global")).toContain("inet6 2001:db8:ffff:200::1/128");
    expect(lab.tsp).toMatchObject({
      server: "198.51.100.1",
      port: 3653,
      userid: "todd",
      tunnelPrefix: "2001:db8:ffff:200::/64",
      delegationPrefix: "2001:db8:7777::/48",
      userAddress: "2001:db8:ffff:200::1:2",
      userPrefix: "2001:db8:7777:1::/64",
      tunnelModes: ["v6udpv4"],
    });
    expect(lab.tsp.password).toMatch(/^[A-Za-z0-9]{20,}$/);
    expect(labSh("isp", "stat -c %a /etc/ipv6gw-lab/tsp-broker.json").trim()).toBe("600");
    expect(labSh("isp", "cat /etc/ipv6gw-lab/tsp-broker.json")).toContain(`"password": "${lab.tsp.password}"`);
    expect(labSh("isp", "journalctl -u ipv6gw-lab-tsp-broker -o cat --no-pager")).toContain(
      "v6v4 (6in4) is not offered: it needs the sit kernel module, which the lab's kernel lacks",
    );
  });

  it("negotiates over TCP too: capability, ANONYMOUS, then 303 for a tunnel (v6udpv4 needs UDP, v6v4 needs sit); 302 for TSP 1.0.1", () => {
    const request = '<tunnel action="create" type="v6anyv4" proxy="no">\r\n <client>\r\n  <address type="ipv4">198.51.100.2</address>\r\n </client>\r\n</tunnel>\r\n';
    const input = `VERSION=2.0.1\r\nAUTHENTICATE ANONYMOUS\r\n\0Content-length: ${request.length}\r\n${request}`;
    const r = labExec("gw", ["nc", "-N", "-w", "5", lab.tsp.server, String(lab.tsp.port)], { input });
    expect(r.stdout).toMatch(/^CAPABILITY TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS\r\n200 Success\r\nContent-length: \d+\r\n303 Unsupported tunnel mode: v6udpv4 needs the TSP session over UDP/);
    const old = labExec("gw", ["nc", "-N", "-w", "5", lab.tsp.server, String(lab.tsp.port)], { input: "VERSION=1.0.1\r\n" });
    expect(old.stdout).toBe("302 Unsupported client version\r\n");
  });

  it("host mode, anonymous: the tunnel reaches outside, and outside the gw's tunnel address; SIGHUP tears it down", async () => {
    const s = startStandin("host", { auth_method: "anonymous", host_type: "host" });
    expect({ code: s.code, stderr: s.stderr }).toEqual({ code: 0, stderr: "" });
    await eventually("gw", "the tunnel address", `ip -6 -o addr show dev tun | grep -q 'inet6 ${ANONYMOUS_GW}/128'`);
    expect(log(s)).toContain(`gw6c stand-in: TSP_CLIENT_ADDRESS_IPV6=${ANONYMOUS_GW}`);
    expect(labSh("gw", "ip -6 route show")).toMatch(/^default dev tun /m);
    expect(labSh("gw", `ping -6 -n -c 1 -W 3 ${lab.outside.pingTarget} >/dev/null && echo reached`)).toContain("reached");
    expect(labSh("outside", `ping -6 -n -c 1 -W 3 ${ANONYMOUS_GW} >/dev/null && echo reached`)).toContain("reached");
    expect(sessions()).toEqual([expect.objectContaining({ identity: "anonymous 198.51.100.2", hostType: "host", address: ANONYMOUS_GW })]);

    labSh("gw", `kill -HUP ${daemonPid(s)}`);
    await eventually("gw", "the teardown", `grep -q 'SIGHUP, teardown done' ${s.logFile}`);
    expect(labExec("gw", ["ip", "link", "show", "tun"]).code).not.toBe(0);
    expect(labSh("gw", "ip -6 route show")).not.toMatch(/^default /m);
  });

  it("router mode as the HOWTO runs it (todd, auth any): DIGEST-MD5, the /64 offered; on Debian 12 the template's radvd fails for want of /run/radvd (issue 11, defect 2)", async () => {
    expect(labExec("gw", ["test", "-d", "/run/radvd"]).code).not.toBe(0);
    const s = startStandin("router1", todd());
    expect(s.code).toBe(0);
    await eventually("gw", "the stand-in to give up", `grep -q 'quitting (gw6c: INTERFACE_SETUP_FAILED)' ${s.logFile}`);
    const text = log(s);
    expect(text).toContain("gw6c stand-in: using AUTH=DIGEST-MD5");
    expect(text).toContain("gw6c stand-in: TSP_PREFIX=2001:0db8:7777:0001");
    expect(text).toContain("gw6c stand-in: TSP_PREFIXLEN=64");
    expect(text).toContain("gw6c stand-in: template: /sbin/ifconfig eth0 add 2001:0db8:7777:0001::1/64");
    expect(text).toContain(`gw6c stand-in: template: /usr/sbin/radvd -u radvd -p /var/run/radvd/radvd.pid -C ${GW6C}/gw6c-rtadvd.conf`);
    expect(text).toContain("gw6c stand-in: template: stand-in template: /usr/sbin/radvd failed");
    expect(text).not.toContain("TSP_TUNNEL_TEARDOWN");
    // What the failed run leaves: the LAN address, forwarding on, the radvd configuration gw6c writes.
    expect(labSh("gw", "ip -6 -o addr show dev eth0 scope global")).toContain("inet6 2001:db8:7777:1::1/64");
    expect(labSh("gw", "sysctl -n net.ipv6.conf.all.forwarding").trim()).toBe("1");
    expect(labSh("gw", `cat ${GW6C}/gw6c-rtadvd.conf`)).toContain(
      "interface eth0\n{\n  AdvSendAdvert on;\n  prefix 2001:0db8:7777:0001::/64\n  {\n    AdvOnLink on;\n    AdvAutonomous on;\n  };\n};\n",
    );
  });

  it("a restart after that fails earlier, at the LAN address the failed run left: net-tools 2.x output defeats the old-address cleanup (defect 3)", async () => {
    const s = startStandin("router2", todd());
    await eventually("gw", "the stand-in to give up", `grep -q 'quitting (gw6c: INTERFACE_SETUP_FAILED)' ${s.logFile}`);
    const text = log(s);
    expect(text).toContain("gw6c stand-in: template: stand-in template: /sbin/ifconfig failed");
    expect(text).toContain("gw6c stand-in: template:    command: /sbin/ifconfig eth0 add 2001:0db8:7777:0001::1/64");
    expect(text).not.toContain("starting radvd");
  });

  it("with the leftover gone and /run/radvd made, router mode converges: radvd advertises the /64, c1 takes its EUI-64 address, outside reaches c1", async () => {
    labSh("gw", "ip -6 addr del 2001:db8:7777:1::1/64 dev eth0; install -d -o radvd /run/radvd");
    const s = startStandin("router3", todd());
    expect(s.code).toBe(0);
    await eventually("gw", "the tunnel", `grep -q 'your IPv6 prefix is 2001:0db8:7777:0001:0000:0000:0000:0000/64' ${s.logFile}`);
    // (pgrep -x: a `pgrep -f <pattern>` would also match the shell running it.)
    expect(labSh("gw", "pgrep -x radvd >/dev/null && ps -C radvd -o args=")).toContain(`/usr/sbin/radvd -u radvd -p /var/run/radvd/radvd.pid -C ${GW6C}/gw6c-rtadvd.conf`);
    await eventually("c1", "SLAAC in the delegated /64", `ip -6 -o addr show dev eth0 | grep -q 'inet6 ${C1}/64'`, 60_000);
    expect(labSh("outside", `ping -6 -n -c 1 -W 3 ${C1} >/dev/null && echo reached`)).toContain("reached");
    expect(labSh("c1", `curl -fsS -m 10 '${lab.outside.url}'`)).toContain(lab.outside.pageLine);
    expect(sessions()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ identity: "user todd", hostType: "router", address: lab.tsp.userAddress, prefix: lab.tsp.userPrefix, peer: expect.stringMatching(/^198\.51\.100\.2:\d+$/) }),
      ]),
    );
    expect(labSh("isp", "ip -6 route show dev tsp0")).toContain("2001:db8:7777:1::/64");
  });

  it("SIGHUP tears down but cannot stop radvd 2.x (its `ps | grep` finds two PIDs); once radvd is gone a restart gets the same prefix", async () => {
    const s = { code: 0, stderr: "", logFile: `${GW6C}/logs/router3.log` };
    labSh("gw", `kill -HUP ${daemonPid(s)}`);
    await eventually("gw", "the teardown", `grep -q 'SIGHUP, teardown done' ${s.logFile}`);
    expect(labSh("gw", "ip -6 -o addr show dev eth0 scope global")).toBe("");
    expect(log(s)).toMatch(/gw6c stand-in: template: \d+ \d+\n/);
    expect(labSh("gw", "pgrep -c -x radvd").trim()).toBe("2");

    labSh("gw", "kill $(cat /run/radvd/radvd.pid)");
    await eventually("gw", "radvd to exit", "! pgrep -x radvd >/dev/null");
    const again = startStandin("router4", todd());
    await eventually("gw", "the tunnel", `grep -q 'your IPv6 prefix is' ${again.logFile}`);
    expect(labSh("gw", "pgrep -c -x radvd").trim()).toBe("2");
    expect(log(again)).toContain("gw6c stand-in: TSP_PREFIX=2001:0db8:7777:0001");
    expect(labSh("gw", "ip -6 -o addr show dev eth0 scope global")).toContain("inet6 2001:db8:7777:1::1/64");
    // Once DAD has finished on eth0.
    await eventually("outside", "the gw's LAN address", "ping -6 -n -c 1 -W 1 2001:db8:7777:1::1 >/dev/null");
    stopAll();
  });
});

describe("the lab's TSP broker behind NAT (scenario nat)", () => {
  beforeAll(() => {
    labCli(["down"]);
    labCli(["up", "--scenario", "nat"]);
    lab = loadLab();
    prepareGw();
  }, 600_000);

  afterAll(() => {
    try {
      stopAll();
    } finally {
      labCli(["down"]);
      labCli(["up", "--scenario", "direct"]);
    }
  }, 300_000);

  it("sees the gw as natbox's address, offers it as the client's IPv4, and routes the /64 back through the NAT", async () => {
    labSh("gw", "install -d -o radvd /run/radvd");
    const s = startStandin("nat", { ...todd(), keepalive_interval: "5" });
    expect(s.code).toBe(0);
    await eventually("gw", "the tunnel", `grep -q 'your IPv6 prefix is' ${s.logFile}`);
    expect(labSh("gw", "pgrep -c -x radvd").trim()).toBe("2");
    expect(log(s)).toContain("gw6c stand-in: TSP_CLIENT_ADDRESS_IPV4=198.51.100.3");
    expect(sessions()).toEqual([expect.objectContaining({ identity: "user todd", keepalive: 5, peer: expect.stringMatching(/^198\.51\.100\.3:\d+$/) })]);
    await eventually("c1", "SLAAC in the delegated /64", `ip -6 -o addr show dev eth0 | grep -q 'inet6 ${C1}/64'`, 60_000);
    expect(labSh("outside", `ping -6 -n -c 1 -W 3 ${C1} >/dev/null && echo reached`)).toContain("reached");
  });

  it("keeps natbox's mapping with keepalives: with natbox's UDP timeouts cut to 10 s, outside still reaches c1 after 25 s of no other traffic", async () => {
    labSh("natbox", "sysctl -qw net.netfilter.nf_conntrack_udp_timeout=10 net.netfilter.nf_conntrack_udp_timeout_stream=10");
    const before = Number(sessions()[0].packetsIn);
    await sleep(25_000);
    expect(Number(sessions()[0].packetsIn)).toBeGreaterThan(before);
    expect(labSh("outside", `ping -6 -n -c 1 -W 3 ${C1} >/dev/null && echo reached`)).toContain("reached");
  });
});
