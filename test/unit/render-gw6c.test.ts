import { spawnSync } from "child_process";
import {
  GW6C_DEFAULTS,
  Gw6cConf,
  gw6cWatchdogCronLine,
  renderGw6cConf,
  renderGw6cOpenrc,
  renderGw6cSystemdUnit,
  renderGw6cSysvInit,
  renderGw6cHelper,
  renderGw6cTemplateHook,
  serviceRestartCommand,
  ServiceManager,
} from "../../components/render";
import { expectGolden } from "./golden";

const HEADER = "# Managed by ipv6gw (Pulumi). Changes made here are overwritten.";
// A fake broker password that is easy to search for in error messages.
const SECRET = "Tr0ub4dor&3-not-real";

// HOWTO step 8: defaults except these keys (plus gw6_dir, which gw6c's install writes into the sample).
const HOWTO: Gw6cConf = {
  userid: "todd",
  passwd: SECRET,
  server: "broker.freenet6.net",
  authMethod: "any",
  hostType: "router",
  ifPrefix: "eth0",
  gw6Dir: "/usr/local/gw6c",
  logFile: 2,
  logFilename: "/usr/local/gw6c/logs/gw6c.log",
};

describe.each<[string, string, Gw6cConf]>([
  ["HOWTO step 8: router mode with an account on broker.freenet6.net, file logging", "howto-router", HOWTO],
  ["gw6c 5.1 defaults with anonymous auth: only server given", "defaults-anonymous", { server: "anonymous.freenet6.net", authMethod: "anonymous" }],
  [
    "every key set: lab broker behind NAT (v6udpv4), DIGEST-MD5, /56, syslog",
    "all-keys-v6udpv4",
    {
      userid: "lab-gw",
      passwd: SECRET,
      server: "[2001:db8:ffff::fe]:3653",
      authMethod: "digest-md5",
      hostType: "router",
      prefixlen: 56,
      ifPrefix: "eth0",
      dnsServer: ["ns1.lab.example", "ns2.lab.example"],
      gw6Dir: "/opt/gw6c",
      autoRetryConnect: false,
      retryDelay: 300,
      keepalive: true,
      keepaliveInterval: 60,
      tunnelMode: "v6udpv4",
      ifTunnelV6v4: "sit9",
      ifTunnelV6udpv4: "tun9",
      ifTunnelV4v6: "sit8",
      clientV4: "203.0.113.2",
      clientV6: "2001:DB8:0::2",
      template: "linux",
      proxyClient: false,
      brokerList: "/var/lib/gw6c/tsp-broker-list.txt",
      lastServer: "/var/lib/gw6c/tsp-last-server.txt",
      alwaysUseSameServer: true,
      logConsole: 0,
      logStderr: 0,
      logFile: 3,
      logSyslog: 1,
      logFilename: "/var/log/gw6c.log",
      logRotation: false,
      logRotationSize: 1024,
      logRotationDelete: true,
      syslogFacility: "LOCAL3",
    },
  ],
])("gw6c.conf golden: %s", (_description, name, model) => {
  it("matches the golden file", () => {
    expectGolden(`gw6c-conf/${name}.conf`, renderGw6cConf(model));
  });
});

describe("renderGw6cConf", () => {
  const KEYS = [
    "userid", "passwd", "server", "auth_method", "host_type", "prefixlen", "if_prefix", "dns_server", "gw6_dir",
    "auto_retry_connect", "retry_delay", "keepalive", "keepalive_interval", "tunnel_mode", "if_tunnel_v6v4",
    "if_tunnel_v6udpv4", "if_tunnel_v4v6", "client_v4", "client_v6", "template", "proxy_client", "broker_list",
    "last_server", "always_use_same_server", "log_console", "log_stderr", "log_file", "log_syslog", "log_filename",
    "log_rotation", "log_rotation_size", "log_rotation_delete", "syslog_facility",
  ];

  it("writes every gw6c 5.1 key exactly once, in the documented order", () => {
    const lines = renderGw6cConf(HOWTO).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(lines.map((l) => l.slice(0, l.indexOf("=")))).toEqual(KEYS);
    expect(renderGw6cConf(HOWTO).split("\n")[0]).toBe(HEADER);
  });

  it("expresses the HOWTO's step 8 settings", () => {
    const out = renderGw6cConf(HOWTO);
    for (const line of ["userid=todd", `passwd=${SECRET}`, "server=broker.freenet6.net", "auth_method=any", "host_type=router",
      "if_prefix=eth0", "log_file=2", "log_filename=/usr/local/gw6c/logs/gw6c.log"]) {
      expect(out).toContain(`\n${line}\n`);
    }
  });

  it("has gw6c 5.1's defaults (gw6cconfig.cc, Linux sample for the tunnel interfaces and template)", () => {
    expect(GW6C_DEFAULTS).toEqual({
      userid: "", passwd: "", server: "", authMethod: "any", hostType: "host", prefixlen: 64, ifPrefix: "", dnsServer: [],
      gw6Dir: "", autoRetryConnect: true, retryDelay: 30, keepalive: true, keepaliveInterval: 30, tunnelMode: "v6anyv4",
      ifTunnelV6v4: "sit1", ifTunnelV6udpv4: "tun", ifTunnelV4v6: "sit0", clientV4: "auto", clientV6: "auto", template: "linux",
      proxyClient: false, brokerList: "tsp-broker-list.txt", lastServer: "tsp-last-server.txt", alwaysUseSameServer: false,
      logConsole: 0, logStderr: 1, logFile: 0, logSyslog: 0, logFilename: "gw6c.log", logRotation: true, logRotationSize: 32,
      logRotationDelete: false, syslogFacility: "USER",
    });
    expect(Object.isFrozen(GW6C_DEFAULTS)).toBe(true);
  });
});

describe("gw6c.conf validation", () => {
  const m = (over: Partial<Gw6cConf>): Gw6cConf => ({ ...HOWTO, ...over });

  it.each<[string, Gw6cConf, string]>([
    ["userid too long", m({ userid: "u".repeat(254) }), "gw6c.conf: 'userid' must be at most 253 characters, got 254 characters; shorten it"],
    ["userid with a control character", m({ userid: "to\tdd" }), "gw6c.conf: 'userid' must contain printable ASCII only"],
    ["userid with surrounding space", m({ userid: " todd" }), "'userid' must not start or end with whitespace (gw6c trims it)"],
    ["passwd missing for auth any", m({ passwd: "" }), `gw6c.conf: 'passwd' is required unless authMethod is "anonymous", got an empty value; set the broker password, or authMethod "anonymous"`],
    ["passwd missing for plain", m({ passwd: undefined, authMethod: "plain" }), "'passwd' is required unless authMethod is \"anonymous\""],
    ["passwd too long", m({ passwd: "p".repeat(129) }), "gw6c.conf: 'passwd' must be at most 128 characters, got 129 characters; use a shorter password"],
    ["passwd with a newline", m({ passwd: `${SECRET}\nserver=evil` }), "gw6c.conf: 'passwd' must contain printable ASCII only, got a value with other characters"],
    ["passwd with a trailing space", m({ passwd: `${SECRET} ` }), "'passwd' must not start or end with whitespace (gw6c trims it), got a value with surrounding spaces"],
    ["server missing", m({ server: "" }), "gw6c.conf: 'server' is required, got ''; set the broker"],
    ["server with a slash", m({ server: "broker.example/x" }), "gw6c.conf: 'server' must be host, A.B.C.D or [v6] with an optional :port"],
    ["unknown auth method", m({ authMethod: "kerberos" as never }), "gw6c.conf: 'authMethod' (auth_method) must be one of anonymous, any, digest-md5, plain, passdss-3des-1, got 'kerberos'"],
    ["unknown host type", m({ hostType: "gateway" as never }), "'hostType' (host_type) must be one of host, router, got 'gateway'"],
    ["prefixlen 0", m({ prefixlen: 0 }), "gw6c.conf: 'prefixlen' must be an integer 1..128, got 0"],
    ["prefixlen 129", m({ prefixlen: 129 }), "'prefixlen' must be an integer 1..128, got 129"],
    ["router without if_prefix", m({ ifPrefix: "" }), `gw6c.conf: 'ifPrefix' (if_prefix) is required when hostType is "router", got ''; set it to the LAN interface, e.g. eth0`],
    ["if_prefix with a space", m({ ifPrefix: "eth 0" }), "'ifPrefix' (if_prefix) must be a Linux interface name"],
    ["dns_server given as an address", m({ dnsServer: ["192.0.2.53"] }), "'dnsServer' (dns_server) must list DNS server names (FQDNs, characters A-Z a-z 0-9 - .), not addresses, got '192.0.2.53'"],
    ["dns_server given as an IPv6 address", m({ dnsServer: ["2001:db8::53"] }), "'dnsServer' (dns_server) must list DNS server names"],
    ["relative gw6_dir", m({ gw6Dir: "gw6c" }), "'gw6Dir' (gw6_dir) must be an absolute directory path"],
    ["retry_delay over an hour", m({ retryDelay: 3601 }), "'retryDelay' (retry_delay) must be an integer 0..3600, got 3601"],
    ["keepalive interval 0 with keepalive on", m({ keepaliveInterval: 0 }), "'keepaliveInterval' (keepalive_interval) must not be 0 while keepalive is on, got 0"],
    ["tunnel mode v4v6", m({ tunnelMode: "v4v6" }), "'tunnelMode' (tunnel_mode) v4v6 is not supported by gw6c on Linux, got 'v4v6'; use v6anyv4, v6v4 or v6udpv4"],
    ["v6udpv4 without keepalive", m({ tunnelMode: "v6udpv4", keepalive: false }), "gw6c.conf: 'keepalive' must be on for tunnelMode v6udpv4"],
    ["proxy client over UDP", m({ tunnelMode: "v6udpv4", proxyClient: true }), "'proxyClient' (proxy_client) cannot be used with tunnelMode v6udpv4, got true"],
    ["empty tunnel interface", m({ ifTunnelV6v4: "" }), "'ifTunnelV6v4' (if_tunnel_v6v4) must be a Linux interface name"],
    ["client_v4 not an address", m({ clientV4: "198.51.100" }), `'clientV4' (client_v4) must be "auto" or an IPv4 address, got '198.51.100'`],
    ["client_v6 not an address", m({ clientV6: "2001:db8::g" }), `'clientV6' (client_v6) must be "auto" or an IPv6 address`],
    ["unknown template", m({ template: "debian" as never }), "'template' must be one of checktunnel, freebsd, netbsd, linux"],
    ["log file name with a space", m({ logFilename: "/var/log/gw6c log" }), "'logFilename' (log_filename) must be a file name of 1-256 characters"],
    ["empty broker list file", m({ brokerList: "" }), "'brokerList' (broker_list) must be a file name"],
    ["log level 4", m({ logFile: 4 as never }), "'logFile' (log_file) must be an integer 0..3, got 4"],
    ["log rotation size 64", m({ logRotationSize: 64 as never }), "'logRotationSize' (log_rotation_size) must be one of 16, 32, 128, 1024 (KB), got 64"],
    ["syslog facility DAEMON", m({ syslogFacility: "DAEMON" as never }), "'syslogFacility' (syslog_facility) must be one of USER, LOCAL0"],
    ["boolean given as a string", m({ keepalive: "yes" as never }), "'keepalive' must be true or false, got 'yes'"],
  ])("rejects %s", (_d, model, fragment) => {
    expect(() => renderGw6cConf(model)).toThrow(fragment);
  });

  it("never shows the password in an error", () => {
    const cases: Gw6cConf[] = [
      m({ passwd: `${SECRET}${"x".repeat(120)}` }),
      m({ passwd: `${SECRET}\u00e9` }),
      m({ passwd: ` ${SECRET}` }),
      m({ server: "" }),
      m({ ifPrefix: "" }),
    ];
    for (const model of cases) {
      let message = "";
      try {
        renderGw6cConf(model);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(SECRET);
    }
  });
});

function shellSyntaxError(script: string): string {
  const r = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
  return r.status === 0 ? "" : r.stderr || `sh -n exited ${r.status}`;
}

const HELPER = "/usr/local/gw6c/bin/ipv6gw-gw6c";

describe.each<[string, string, () => string]>([
  ["systemd unit, HOWTO install dir and config in etc/", "systemd.service", () => renderGw6cSystemdUnit({})],
  [
    "systemd unit, gogoc-like paths, host mode (no Conflicts=radvd), gentler back-off",
    "systemd-custom.service",
    () => renderGw6cSystemdUnit({ installDir: "/opt/gw6c", configPath: "/etc/gw6c/gw6c.conf", ownsRadvd: false, restartSec: 120, startLimitBurst: 3 }),
  ],
  ["RedHat/CentOS/Mandriva SysV init script (chkconfig + LSB headers)", "sysv-init.sh", () => renderGw6cSysvInit({})],
  ["Gentoo OpenRC script", "openrc.sh", () => renderGw6cOpenrc({ installDir: "/usr/local/gw6c", stopTimeoutSec: 20 })],
  ["systemd unit with the runtime helper around each start and stop", "systemd-helper.service", () => renderGw6cSystemdUnit({ helperPath: HELPER })],
  ["SysV init script with the runtime helper", "sysv-init-helper.sh", () => renderGw6cSysvInit({ helperPath: HELPER })],
  ["OpenRC script with the runtime helper", "openrc-helper.sh", () => renderGw6cOpenrc({ helperPath: HELPER })],
  ["template hook recording TSP_* before gw6c's own template", "template-hook.sh", () => renderGw6cTemplateHook({ installDir: "/usr/local/gw6c" })],
  ["runtime helper, router mode (radvd's runtime directory)", "helper-router.sh", () => renderGw6cHelper({ installDir: "/usr/local/gw6c", router: true, logFile: "/usr/local/gw6c/logs/gw6c.log" })],
  ["runtime helper, host mode", "helper-host.sh", () => renderGw6cHelper({ installDir: "/opt/gw6c", template: "linux", router: false, logFile: "/var/log/gw6c.log" })],
])("gw6c service golden: %s", (_description, file, render) => {
  it("matches the golden file", () => {
    expectGolden(`gw6c-service/${file}`, render());
  });
  if (file.endsWith(".sh")) {
    it("is valid sh (sh -n)", () => {
      expect(shellSyntaxError(render())).toBe("");
    });
  }
});

describe("gw6c service definitions", () => {
  it("systemd unit encodes gw6c's start, stop and supervision facts", () => {
    const unit = renderGw6cSystemdUnit({});
    for (const line of ["Type=forking", "TimeoutStartSec=infinity", "WorkingDirectory=/usr/local/gw6c",
      "ExecStart=/usr/local/gw6c/bin/gw6c -f /usr/local/gw6c/etc/gw6c.conf", "KillSignal=SIGHUP", "KillMode=mixed",
      "Restart=on-failure", "RestartSec=10", "StartLimitIntervalSec=3600", "StartLimitBurst=5", "After=network-online.target",
      "Wants=network-online.target", "Conflicts=radvd.service"]) {
      expect(unit.split("\n")).toContain(line);
    }
  });

  it("SysV and OpenRC scripts stop with SIGHUP and keep the distro radvd down", () => {
    const sysv = renderGw6cSysvInit({});
    expect(sysv).toContain("# chkconfig: 2345 ");
    expect(sysv).toContain("### BEGIN INIT INFO");
    expect(sysv).toContain("kill -HUP $(pidof gw6c)");
    expect(sysv).toContain("/etc/init.d/radvd stop");
    const openrc = renderGw6cOpenrc({});
    expect(openrc.startsWith("#!/sbin/openrc-run\n")).toBe(true);
    expect(openrc).toContain("depend() {\n    need net\n}");
    expect(openrc).toContain("--retry HUP/30");
  });

  it.each<[string, () => string, string]>([
    ["relative install dir", () => renderGw6cSystemdUnit({ installDir: "usr/local/gw6c" }), "gw6c systemd unit: 'installDir' must be an absolute path"],
    ["install dir with a space", () => renderGw6cSysvInit({ installDir: "/usr/local/gw 6c" }), "gw6c SysV init script: 'installDir' must be an absolute path"],
    ["config path with '..'", () => renderGw6cOpenrc({ configPath: "/usr/local/gw6c/../etc/gw6c.conf" }), "gw6c OpenRC script: 'configPath' must be an absolute path of characters A-Z a-z 0-9 _ . + - / without '..'"],
    ["config path with a shell character", () => renderGw6cSystemdUnit({ configPath: "/etc/gw6c.conf;reboot" }), "'configPath' must be an absolute path"],
    ["RestartSec 0", () => renderGw6cSystemdUnit({ restartSec: 0 }), "gw6c systemd unit: 'restartSec' must be an integer 1..86400, got 0"],
    ["StartLimitBurst 0", () => renderGw6cSystemdUnit({ startLimitBurst: 0 }), "'startLimitBurst' must be an integer 1..1000, got 0"],
    ["stop timeout 0", () => renderGw6cSysvInit({ stopTimeoutSec: 0 }), "'stopTimeoutSec' must be an integer 1..3600, got 0"],
  ])("rejects %s", (_d, render, fragment) => {
    expect(render).toThrow(fragment);
  });
});

describe("watchdog (HOWTO step 24)", () => {
  it.each<[ServiceManager, string]>([
    ["systemd", "systemctl restart gw6c"],
    ["sysv", "/etc/init.d/gw6c restart"],
    ["openrc", "/sbin/rc-service gw6c restart"],
  ])("serviceRestartCommand(%s)", (manager, expected) => {
    expect(serviceRestartCommand(manager, "gw6c")).toBe(expected);
  });

  it("reproduces the HOWTO's crontab line", () => {
    expect(gw6cWatchdogCronLine({ restartCommand: serviceRestartCommand("sysv", "gw6c") })).toBe(
      "0 * * * * /sbin/pidof gw6c >/dev/null || /etc/init.d/gw6c restart",
    );
    expect(gw6cWatchdogCronLine({ restartCommand: "systemctl restart gw6c", schedule: "*/15 * * * *", pidofPath: "/bin/pidof" })).toBe(
      "*/15 * * * * /bin/pidof gw6c >/dev/null || systemctl restart gw6c",
    );
  });

  it.each<[string, () => string, string]>([
    ["a service name with a space", () => serviceRestartCommand("systemd", "gw6c; reboot"), "service restart command: 'name' must be a service name"],
    ["an unknown manager", () => serviceRestartCommand("upstart" as never, "gw6c"), "'manager' must be systemd, sysv or openrc, got 'upstart'"],
    ["an empty command", () => gw6cWatchdogCronLine({ restartCommand: " " }), "gw6c watchdog cron line: 'restartCommand' must be a non-empty single-line command"],
    ["a two-line command", () => gw6cWatchdogCronLine({ restartCommand: "a\nb" }), "'restartCommand' must be a non-empty single-line command"],
    ["a '%' in the command", () => gw6cWatchdogCronLine({ restartCommand: "date +%s" }), "'restartCommand' must not contain '%' (cron turns it into a newline)"],
    ["a four-field schedule", () => gw6cWatchdogCronLine({ restartCommand: "x", schedule: "0 * * *" }), "'schedule' must be five cron fields, got '0 * * *'"],
    ["a relative pidof", () => gw6cWatchdogCronLine({ restartCommand: "x", pidofPath: "pidof" }), "'pidofPath' must be an absolute path"],
  ])("rejects %s", (_d, run, fragment) => {
    expect(run).toThrow(fragment);
  });
});
