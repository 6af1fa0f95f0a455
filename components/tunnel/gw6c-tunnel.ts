// gw6c, as the HOWTO runs it (steps 1-10, 12-13, 20, 24): built from a
// source tarball the user supplies, installed under /usr/local/gw6c with its
// configuration in etc/ and logs in logs/, run as a service (systemd, SysV or
// OpenRC, stopped with SIGHUP so its teardown runs), watched by the HOWTO's
// hourly cron line. In router mode gw6c configures the LAN address,
// forwarding and its own radvd: the distribution's radvd service is disabled.

import * as crypto from "crypto";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
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
import { Gw6cConf, renderGw6cConf, validateGw6cConf } from "../render/gw6c-conf";
import { gw6cWatchdogCronLine, renderGw6cOpenrc, renderGw6cSystemdUnit, renderGw6cSysvInit, serviceRestartCommand } from "../render/gw6c-service";
import { TunnelOutputs } from "./tunnel";
import { resourceError } from "../user-error";

export interface Gw6cTunnelArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  readonly facts: HostFactsData;
  /** The gw6c source tarball on the machine running pulumi (HOWTO step 4). */
  readonly tarball: string;
  /** Directory inside the tarball with gw6c's Makefile. Defaults to "tspc-advanced". */
  readonly subdir?: string;
  /** Extra make variables for old sources on new compilers ("CFLAGS=-fcommon"). Defaults to none. */
  readonly makeArgs?: readonly string[];
  /** Defaults to /usr/local/gw6c (HOWTO step 6). */
  readonly installDir?: string;
  /** gw6c.conf; `passwd` is taken from `password`, `if_prefix`, `gw6_dir` and `log_filename` are set here. */
  readonly conf: Omit<Gw6cConf, "passwd" | "ifPrefix" | "gw6Dir">;
  /** The broker account's password (secret). */
  readonly password?: pulumi.Input<string>;
  /** The LAN interface (if_prefix). */
  readonly lanInterface: string;
  /** The /64 the broker delegates, if known; otherwise it is read from the LAN interface once gw6c is up. */
  readonly expectedPrefix?: string;
  /** The HOWTO's cron watchdog (step 24). Defaults to true. */
  readonly watchdog?: boolean;
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
export function buildScript(installDir: string, subdir: string, makeArgs: readonly string[]): string {
  const args = makeArgs.map(shq).join(" ");
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
    `test -x ${shq(installDir)}/bin/gw6c`,
  ].join("\n");
}

/** Waits for gw6c to put a global address on the LAN interface and prints its /64. */
export function prefixProbeScript(lanInterface: string, seconds: number): string {
  return [
    `i=0; while [ $i -lt ${seconds} ]; do`,
    `  a=$(ip -6 -o addr show dev ${shq(lanInterface)} scope global 2>/dev/null | awk '{print $4}' | head -n 1)`,
    `  [ -n "$a" ] && { echo "$a"; exit 0; }`,
    "  i=$((i + 1)); sleep 1",
    "done",
    `echo "gw6c brought no global address to ${lanInterface} within ${seconds} s: see the gw6c log" >&2; exit 1`,
  ].join("\n");
}

export class Gw6cTunnel extends pulumi.ComponentResource implements TunnelOutputs {
  readonly interface: string;
  readonly prefix: pulumi.Output<string>;
  readonly lanPrefix: pulumi.Output<string>;
  readonly ownsRadvd: boolean;
  readonly ownsLanAddress: boolean;
  readonly process = "gw6c";
  readonly service: Service;

  constructor(name: string, args: Gw6cTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ipv6gw:tunnel:Gw6cTunnel", name, {}, opts);
    const conn = args.connection;
    const f = args.facts;
    const installDir = args.installDir ?? "/usr/local/gw6c";
    const router = (args.conf.hostType ?? "host") === "router";
    const manager = f.serviceManager;
    if (!manager) throw resourceError(`Gw6cTunnel "${name}": the gateway has no supported service manager`, this);
    if (!fs.existsSync(args.tarball)) {
      throw resourceError(`Gw6cTunnel "${name}": 'tarball' ${args.tarball} does not exist on this machine; download gw6c's source (HOWTO step 4) and give its path`, this);
    }
    const tarballSha = crypto.createHash("sha256").update(fs.readFileSync(args.tarball)).digest("hex");
    const confModel = (passwd: string): Gw6cConf => ({
      ...args.conf,
      passwd,
      ifPrefix: args.lanInterface,
      gw6Dir: installDir,
      logFilename: args.conf.logFilename ?? `${installDir}/logs/gw6c.log`,
    });
    try {
      // Check everything but the secret now, so a bad key fails at preview.
      validateGw6cConf(confModel(args.conf.authMethod === "anonymous" ? "" : "x"));
    } catch (e) {
      throw resourceError(`Gw6cTunnel "${name}": ${(e as Error).message}`, this);
    }

    const packages = new Packages(`${name}-packages`, { connection: conn, names: gw6cPackages(f, router) }, childOf(this, opts));
    const build = new RemoteCommand(
      `${name}-build`,
      {
        connection: conn,
        create: buildScript(installDir, args.subdir ?? "tspc-advanced", args.makeArgs ?? []),
        delete: `rm -rf ${shq(installDir)} /usr/local/src/ipv6gw-gw6c`,
        present: `test -x ${shq(installDir)}/bin/gw6c`,
        stdinFile: args.tarball,
        triggers: [tarballSha, installDir, ...(args.makeArgs ?? [])],
        timeoutSeconds: 1800,
      },
      childOf(this, opts, packages),
    );
    const conf = new RemoteFile(
      `${name}-conf`,
      { connection: conn, path: `${installDir}/etc/gw6c.conf`, mode: "0600", content: pulumi.secret(pulumi.output(args.password ?? "").apply((p) => renderGw6cConf(confModel(p)))) },
      childOf(this, opts, build),
    );
    const unit =
      manager === "systemd"
        ? new RemoteFile(`${name}-unit`, { connection: conn, path: "/etc/systemd/system/gw6c.service", content: renderGw6cSystemdUnit({ installDir, ownsRadvd: router }) }, childOf(this, opts))
        : new RemoteFile(
            `${name}-initscript`,
            { connection: conn, path: "/etc/init.d/gw6c", mode: "0755", content: manager === "openrc" ? renderGw6cOpenrc({ installDir }) : renderGw6cSysvInit({ installDir }) },
            childOf(this, opts),
          );
    const standAside: pulumi.Resource[] = [];
    if (router) {
      // HOWTO step 10: gw6c starts radvd itself, the distribution's service must stay off.
      standAside.push(new Service(`${name}-distro-radvd-off`, { connection: conn, name: "radvd", enabled: false, running: false }, childOf(this, opts, packages)));
    }
    this.service = new Service(
      `${name}-service`,
      { connection: conn, name: "gw6c", restartTrigger: pulumi.all([conf.sha256, unit.sha256]).apply((h) => h.join(",")) },
      childOf(this, opts, build, conf, unit, ...standAside),
    );
    if (args.watchdog ?? true) {
      const line = gw6cWatchdogCronLine({ restartCommand: serviceRestartCommand(manager, "gw6c") });
      const [m, h, dom, mon, dow, ...command] = line.split(" ");
      new CronEntry(`${name}-watchdog`, { connection: conn, name: "gw6c-watchdog", schedule: [m, h, dom, mon, dow].join(" "), command: command.join(" ") }, childOf(this, opts, this.service));
    }
    const mode = args.conf.tunnelMode ?? "v6anyv4";
    this.interface = mode === "v6v4" ? (args.conf.ifTunnelV6v4 ?? "sit1") : (args.conf.ifTunnelV6udpv4 ?? "tun");
    this.ownsRadvd = router;
    this.ownsLanAddress = router;
    if (args.expectedPrefix) {
      this.prefix = pulumi.output(args.expectedPrefix);
    } else {
      const probe = new RemoteCommand(`${name}-prefix`, { connection: conn, create: prefixProbeScript(args.lanInterface, 120), triggers: [tarballSha] }, childOf(this, opts, this.service));
      // gw6c puts <prefix>::1/64 on the LAN interface: its network is the LAN prefix.
      this.prefix = probe.stdout.apply((a) => canonicalPrefix(`${a.trim().split("/")[0]}/64`, { normalize: true }));
    }
    this.lanPrefix = this.prefix;
    this.registerOutputs({ interface: this.interface, prefix: this.prefix });
  }
}
