// gw6c, as the HOWTO runs it (steps 1-10, 12-13, 20, 24): built from a
// source tarball the user supplies, installed under /usr/local/gw6c with its
// configuration in etc/ and logs in logs/, run as a service (systemd, SysV or
// OpenRC, stopped with SIGHUP so its teardown runs), watched by the HOWTO's
// hourly cron line. In router mode gw6c configures the LAN address,
// forwarding and its own radvd: the distribution's radvd service is disabled.

import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { CronEntry } from "../host/cron-entry";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { RemoteCommand } from "../host/remote-command";
import { RemoteFile } from "../host/remote-file";
import { shq } from "../host/remote";
import { Service } from "../host/service";
import { canonicalPrefix } from "../net/ipv6";
import { hostProblem, ipv6Problem } from "../net/values";
import { Problem, attempt, parseArgs, problem } from "../problems";
import { absolutePath, checkedString, domainName, factsValue, fileName, ifname, inputOf, ipv4Address, ipv6Address, localPath, prefix64, strictObject } from "../schema-kit";
import { Gw6cConf, renderGw6cConf, validateGw6cConf } from "../render/gw6c-conf";
import { GW6C_RUNTIME_DIR, TEMPLATE_HOOK_MARK, renderGw6cHelper, renderGw6cTemplateHook } from "../render/gw6c-runtime";
import { GW6C_DEFAULT_INSTALL_DIR, gw6cWatchdog, renderGw6cOpenrc, renderGw6cSystemdUnit, renderGw6cSysvInit, serviceRestartCommand } from "../render/gw6c-service";
import { Tunnel, TunnelOutputs } from "./tunnel";

/** A make variable for old sources on new compilers: NAME=value, the value of inert characters (make and the shell see it as data). */
export function makeArgProblem(text: string): string | undefined {
  return typeof text === "string" && /^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9 _=./+,:@%-]*$/.test(text)
    ? undefined
    : "must be a make variable NAME=value, the value of letters, digits, spaces and _ = . / + , : @ % - (no quotes, '$', '`', ';' or newlines)";
}

/** The broker as gw6c's `server` takes it: a host, or [IPv6], with an optional :port. */
export function gw6cServerProblem(text: string): string | undefined {
  const m = typeof text === "string" ? /^(?:\[([^\]]*)\]|([^:[\]]+))(?::([0-9]{1,5}))?$/.exec(text) : null;
  if (!m) return "must be the broker as host, A.B.C.D or [IPv6], with an optional :port (e.g. broker.example.net or [2001:db8::1]:3653)";
  if (m[1] !== undefined && ipv6Problem(m[1])) return `has '${m[1]}' in brackets, which is not an IPv6 address`;
  if (m[2] !== undefined && hostProblem(m[2])) return `has host '${m[2]}', which ${hostProblem(m[2])}`;
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return "has a port outside 1-65535";
  return undefined;
}

/** The gw6c.conf keys a site may set beyond the first-class ones (gw6c-conf.ts documents each). */
export const gw6cMoreSettingsSchema = strictObject({
  dnsServer: z.array(domainName).optional(),
  autoRetryConnect: z.boolean().optional(),
  keepalive: z.boolean().optional(),
  keepaliveInterval: z.number().int().min(1).max(86400).optional(),
  ifTunnelV6v4: ifname.optional(),
  ifTunnelV6udpv4: ifname.optional(),
  ifTunnelV4v6: ifname.optional(),
  clientV4: z.union([z.literal("auto"), ipv4Address]).optional(),
  clientV6: z.union([z.literal("auto"), ipv6Address]).optional(),
  template: z.enum(["checktunnel", "freebsd", "netbsd", "linux", "windows", "darwin", "cisco", "solaris", "openbsd", "openwrt", "dongle6"]).optional(),
  proxyClient: z.boolean().optional(),
  brokerList: fileName.optional(),
  lastServer: fileName.optional(),
  alwaysUseSameServer: z.boolean().optional(),
  logConsole: z.number().int().min(0).max(3).optional(),
  logStderr: z.number().int().min(0).max(3).optional(),
  logSyslog: z.number().int().min(0).max(3).optional(),
  logFilename: absolutePath.optional(),
  logRotation: z.boolean().optional(),
  logRotationSize: z.union([z.literal(16), z.literal(32), z.literal(128), z.literal(1024)]).optional(),
  logRotationDelete: z.boolean().optional(),
  syslogFacility: z.enum(["USER", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"]).optional(),
});

/** What a site's owner says about gw6c (the stack file's `tunnel`, less the password). */
export const gw6cSettingsShape = {
  kind: z.literal("gw6c"),
  source: strictObject({
    tarball: localPath.describe("the gw6c source tarball on the machine running pulumi (HOWTO step 4)"),
    subdir: fileName.default("tspc-advanced").describe("the directory inside the tarball holding the Makefile"),
    makeArgs: z.array(checkedString(makeArgProblem, "a make variable")).default([]).describe("extra make variables, e.g. CFLAGS=-fcommon"),
  }),
  installDir: absolutePath.default(GW6C_DEFAULT_INSTALL_DIR).describe("HOWTO step 6"),
  server: checkedString(gw6cServerProblem, "the broker, host[:port]"),
  userid: z.string().regex(/^[A-Za-z0-9._@+-]{0,253}$/, "must be the broker account: letters, digits and . _ @ + - (at most 253), or empty for anonymous").default(""),
  authMethod: z.enum(["anonymous", "any", "digest-md5", "plain", "passdss-3des-1"]).default("any"),
  hostType: z.enum(["host", "router"]).default("router").describe("router (the HOWTO): the broker delegates a prefix, gw6c runs radvd on the LAN"),
  prefixlen: z.number().int().min(1).max(128).default(64),
  tunnelMode: z.enum(["v6anyv4", "v6v4", "v6udpv4", "v4v6"]).default("v6anyv4"),
  logFile: z.number().int().min(0).max(3).default(2).describe("log level to the log file (the HOWTO's 2)"),
  retryDelay: z.number().int().min(0).max(3600).default(30),
  expectedPrefix: prefix64.optional().describe("the /64 the broker delegates, if known: clients' addresses show at preview"),
  watchdog: z.boolean().default(true).describe("the HOWTO's hourly pidof || restart cron line (step 24)"),
  settings: gw6cMoreSettingsSchema.prefault({}).describe("other gw6c.conf keys, camelCase"),
};

export const gw6cTunnelArgsSchema = strictObject({
  ...gw6cSettingsShape,
  connection: inputOf<ConnectionArgs>("the connection"),
  facts: factsValue,
  lanInterface: ifname.describe("the LAN interface (if_prefix)"),
  password: inputOf<string>("the broker account's password (a secret)").optional(),
});

export type Gw6cTunnelArgs = z.input<typeof gw6cTunnelArgsSchema>;
type Gw6cSettings = Omit<z.output<typeof gw6cTunnelArgsSchema>, "connection" | "password">;

/** gw6c.conf for these settings, with `passwd` as given. */
export function gw6cConfOf(a: Pick<Gw6cSettings, "settings" | "server" | "userid" | "authMethod" | "hostType" | "prefixlen" | "tunnelMode" | "logFile" | "retryDelay" | "lanInterface" | "installDir">, passwd: string): Gw6cConf {
  return {
    ...(a.settings as Partial<Gw6cConf>),
    server: a.server,
    userid: a.userid,
    authMethod: a.authMethod,
    hostType: a.hostType,
    prefixlen: a.prefixlen,
    tunnelMode: a.tunnelMode,
    logFile: a.logFile as 0 | 1 | 2 | 3,
    retryDelay: a.retryDelay,
    passwd,
    ifPrefix: a.lanInterface,
    gw6Dir: a.installDir,
    logFilename: a.settings.logFilename ?? `${a.installDir}/logs/gw6c.log`,
  };
}

function expandHome(p: string): string {
  return p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

/** Everything wrong with gw6c's args for this box and this machine (the tarball must be here). */
export function gw6cTunnelProblems(a: Gw6cSettings): Problem[] {
  const problems: Problem[] = [];
  if (!(a.facts as HostFactsData).serviceManager) problems.push(problem([], "the gateway has no supported service manager (systemd, OpenRC, SysV init)"));
  if (!fs.existsSync(expandHome(a.source.tarball))) {
    problems.push(problem(["source", "tarball"], `is ${a.source.tarball}, which does not exist on this machine: download gw6c's source (HOWTO step 4) and give its path`));
  }
  // Everything but the secret is checked here, so a bad key fails at preview.
  return [...problems, ...attempt(() => validateGw6cConf(gw6cConfOf(a, a.authMethod === "anonymous" ? "" : "x")))];
}

/** Build dependencies and what gw6c's Linux template calls (ifconfig/route, ip, radvd). */
export function gw6cPackages(f: Pick<HostFactsData, "packageManager">, router: boolean): string[] {
  const radvd = router ? ["radvd"] : [];
  switch (f.packageManager) {
    case "apt":
      return ["gcc", "g++", "make", "libssl-dev", "net-tools", "iproute2", ...radvd];
    case "dnf":
    case "yum":
      return ["gcc", "gcc-c++", "make", "openssl-devel", "net-tools", "iproute", ...radvd];
    case "urpmi":
      return ["gcc", "gcc-c++", "make", "libopenssl-devel", "net-tools", "iproute2", ...radvd];
    case "emerge":
      return ["sys-devel/gcc", "sys-devel/make", "dev-libs/openssl", "sys-apps/net-tools", "sys-apps/iproute2", ...(router ? ["net-misc/radvd"] : [])];
    case "apk":
      return ["build-base", "openssl-dev", "net-tools", "iproute2", ...radvd];
    default:
      return [];
  }
}

/** Unpacks stdin (the tarball), builds with `make target=linux` and installs (HOWTO steps 5-7). */
export function buildScript(installDir: string, subdir: string, makeArgs: readonly string[], template = "linux"): string {
  const args = makeArgs.map(shq).join(" ");
  const t = `${shq(installDir)}/template/${template}`;
  const src = "/usr/local/src/ipv6gw-gw6c";
  return [
    "set -e",
    `rm -rf ${src} && mkdir -p ${src}`,
    `tar -xzf - -C ${src}`,
    `d=$(find ${src} -maxdepth 3 -type d -name ${shq(subdir)} | head -n 1)`,
    `[ -n "$d" ] || { echo "no directory ${subdir} in the tarball: set tunnel.source.subdir" >&2; exit 1; }`,
    `cd "$d"`,
    `make target=linux ${args} > ${src}/build.log 2>&1 || { echo "make target=linux failed; the compiler said:" >&2; tail -n 40 ${src}/build.log >&2; exit 1; }`,
    `make target=linux install installdir=${shq(installDir)} ${args} >> ${src}/build.log 2>&1 || { tail -n 20 ${src}/build.log >&2; exit 1; }`,
    `mkdir -p ${shq(installDir)}/etc ${shq(installDir)}/logs`,
    // gw6c's own template moves aside for the hook that records what gw6c hands it (render/gw6c-runtime.ts).
    `if [ -f ${t}.sh ] && ! grep -q ${TEMPLATE_HOOK_MARK} ${t}.sh; then mv -f ${t}.sh ${t}.gw6c.sh; fi`,
    `test -f ${t}.gw6c.sh || { echo "the build installed no template/${template}.sh: is this gw6c?" >&2; exit 1; }`,
    `test -x ${shq(installDir)}/bin/gw6c`,
  ].join("\n");
}

/** Removes what gw6c left on the box (with gw6c's own teardown, see the helper), then gw6c itself. */
export function removeScript(installDir: string, helper: string): string {
  return [`sh -c ${shq(helper)} ipv6gw-gw6c cleanup || true`, `rm -rf ${shq(installDir)} /usr/local/src/ipv6gw-gw6c ${GW6C_RUNTIME_DIR}`].join("\n");
}

/** Waits for the live tunnel's LAN /64 (the helper's `prefix`) and prints it. */
export function prefixProbeScript(helperPath: string, lanInterface: string, seconds: number): string {
  return [
    `i=0; while [ $i -lt ${seconds} ]; do`,
    `  p=$(${shq(helperPath)} prefix 2>/dev/null) && { echo "$p"; exit 0; }`,
    "  i=$((i + 1)); sleep 1",
    "done",
    `echo ${shq(`gw6c brought no prefix to ${lanInterface} within ${seconds} s (no live tunnel with its address on ${lanInterface}): see the gw6c log`)} >&2; exit 1`,
  ].join("\n");
}

type ParsedArgs = z.output<typeof gw6cTunnelArgsSchema>;

/** gw6c's children, under `parent`. */
function buildGw6cTunnel(parent: pulumi.ComponentResource, name: string, a: ParsedArgs, opts?: pulumi.ComponentResourceOptions): TunnelOutputs {
  const conn = a.connection;
  const f = a.facts;
  const installDir = a.installDir;
  const router = a.hostType === "router";
  const manager = f.serviceManager || "sysv";
  const tarball = expandHome(a.source.tarball);
  const tarballSha = crypto.createHash("sha256").update(fs.readFileSync(tarball)).digest("hex");
  const template = a.settings.template ?? "linux";
  const logFile = gw6cConfOf(a, "").logFilename!;
  const helperPath = `${installDir}/bin/ipv6gw-gw6c`;
  const helperText = renderGw6cHelper({ installDir, template, router, logFile });

  const packages = new Packages(`${name}-packages`, { connection: conn, names: gw6cPackages(f, router) }, childOf(parent, opts));
  const build = new RemoteCommand(
    `${name}-build`,
    {
      connection: conn,
      create: buildScript(installDir, a.source.subdir, a.source.makeArgs, template),
      delete: removeScript(installDir, helperText),
      present: `test -x ${shq(installDir)}/bin/gw6c`,
      stdinFile: tarball,
      triggers: [tarballSha, installDir, ...a.source.makeArgs],
      timeoutSeconds: 1800,
    },
    childOf(parent, opts, packages),
  );
  const hook = new RemoteFile(`${name}-template-hook`, { connection: conn, path: `${installDir}/template/${template}.sh`, mode: "0755", content: renderGw6cTemplateHook({ installDir, template }) }, childOf(parent, opts, build));
  const helper = new RemoteFile(`${name}-helper`, { connection: conn, path: helperPath, mode: "0755", content: helperText }, childOf(parent, opts, build));
  const conf = new RemoteFile(
    `${name}-conf`,
    { connection: conn, path: `${installDir}/etc/gw6c.conf`, mode: "0600", content: pulumi.secret(pulumi.output(a.password ?? "").apply((p) => renderGw6cConf(gw6cConfOf(a, p)))) },
    childOf(parent, opts, build),
  );
  const unit =
    manager === "systemd"
      ? new RemoteFile(`${name}-unit`, { connection: conn, path: "/etc/systemd/system/gw6c.service", content: renderGw6cSystemdUnit({ installDir, ownsRadvd: router, helperPath }) }, childOf(parent, opts))
      : new RemoteFile(
          `${name}-initscript`,
          { connection: conn, path: "/etc/init.d/gw6c", mode: "0755", content: manager === "openrc" ? renderGw6cOpenrc({ installDir, helperPath }) : renderGw6cSysvInit({ installDir, helperPath }) },
          childOf(parent, opts),
        );
  const standAside: pulumi.Resource[] = [];
  if (router) {
    // HOWTO step 10: gw6c starts radvd itself, the distribution's service must stay off.
    standAside.push(new Service(`${name}-distro-radvd-off`, { connection: conn, name: "radvd", enabled: false, running: false }, childOf(parent, opts, packages)));
  }
  const service = new Service(
    `${name}-service`,
    { connection: conn, name: "gw6c", restartTrigger: pulumi.all([conf.sha256, unit.sha256]).apply((h) => h.join(",")) },
    childOf(parent, opts, build, conf, hook, helper, unit, ...standAside),
  );
  if (a.watchdog) {
    const job = gw6cWatchdog({ restartCommand: serviceRestartCommand(manager, "gw6c") });
    new CronEntry(`${name}-watchdog`, { connection: conn, name: "gw6c-watchdog", ...job }, childOf(parent, opts, service));
  }
  const prefix = a.expectedPrefix
    ? pulumi.output(a.expectedPrefix)
    : !router
      ? // Host mode: the broker delegates no prefix (the gateway gets a /128), so there is none to learn.
        pulumi.output("")
      : // The /64 gw6c's template puts on the LAN (<prefix>::1/64), as the broker delegated it.
        new RemoteCommand(`${name}-prefix`, { connection: conn, create: prefixProbeScript(helperPath, a.lanInterface, 120), triggers: [tarballSha] }, childOf(parent, opts, service)).stdout.apply((p) =>
        canonicalPrefix(p.trim(), { normalize: true }),
      );
  return {
    interface: a.tunnelMode === "v6v4" ? (a.settings.ifTunnelV6v4 ?? "sit1") : (a.settings.ifTunnelV6udpv4 ?? "tun"),
    prefix,
    lanPrefix: prefix,
    ownsRadvd: router,
    ownsLanAddress: router,
    running: { process: "gw6c" },
    service,
  };
}

export class Gw6cTunnel extends Tunnel {
  constructor(name: string, args: Gw6cTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`Gw6cTunnel "${name}"`, gw6cTunnelArgsSchema, args, gw6cTunnelProblems);
    super("ipv6gw:tunnel:Gw6cTunnel", name, opts, (self) => buildGw6cTunnel(self, name, a, opts));
  }
}
