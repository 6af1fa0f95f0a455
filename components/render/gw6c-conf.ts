// gw6c.conf renderer for gw6c 5.1 (Gateway6 client). Pure.
//
// Keys, defaults and validation follow gw6c 5.1's gw6c-config library
// (gw6cconfig.cc defaults, gw6cvalidation.cc checks, namevalueparser.cc
// syntax: one name=value per line, '#' comments at line start, values
// trimmed of spaces and tabs). Every key is written explicitly so the file
// does not depend on compiled-in defaults. The hap6_* add-on keys are not
// modelled.
//
// passwd is a secret: it is rendered (gw6c reads it from this file, so the
// file must be mode 0600) but never included in an error message.

import { canonicalIpv6, isIpv4Address, isIpv6Address } from "../net/ipv6";
import { ifnameProblem } from "../net/values";
import { MANAGED_HEADER, renderErrorAt } from "./kit";


/** auth_method values: `any` tries PASSDSS-3DES-1, DIGEST-MD5, PLAIN in turn and never anonymous. */
export type Gw6cAuthMethod = "anonymous" | "any" | "digest-md5" | "plain" | "passdss-3des-1";
/** host_type: `router` requests a prefix and sets up RA on if_prefix. */
export type Gw6cHostType = "host" | "router";
/** tunnel_mode: `v6anyv4` lets the broker choose v6v4 (6in4) or v6udpv4 (UDP, crosses NAT). */
export type Gw6cTunnelMode = "v6anyv4" | "v6v4" | "v6udpv4" | "v4v6";
/** template: the script under `<gw6_dir>/template/` that configures the host. */
export type Gw6cTemplate =
  | "checktunnel" | "freebsd" | "netbsd" | "linux" | "windows" | "darwin" | "cisco" | "solaris" | "openbsd" | "openwrt" | "dongle6";
/** Log level per device: 0 off, 1 errors, 2 more, 3 everything. */
export type Gw6cLogLevel = 0 | 1 | 2 | 3;
/** log_rotation_size, kilobytes. */
export type Gw6cLogRotationSize = 16 | 32 | 128 | 1024;
/** syslog_facility. */
export type Gw6cSyslogFacility = "USER" | "LOCAL0" | "LOCAL1" | "LOCAL2" | "LOCAL3" | "LOCAL4" | "LOCAL5" | "LOCAL6" | "LOCAL7";

/** gw6c 5.1 configuration. Every field but `server` is optional and defaults to {@link GW6C_DEFAULTS}. */
export interface Gw6cConf {
  /** userid: broker account, 1-253 printable ASCII characters, or empty for anonymous. Default `""`. */
  readonly userid?: string;
  /** passwd (secret): at most 128 printable ASCII characters; required unless authMethod is `anonymous`. Default `""`. */
  readonly passwd?: string;
  /** server: broker as `host`, `A.B.C.D` or `[v6]`, optional `:port` (default 3653). Required (gw6c cannot run without it). */
  readonly server: string;
  /** auth_method. Default `"any"`. */
  readonly authMethod?: Gw6cAuthMethod;
  /** host_type. Default `"host"`; `"router"` requires `ifPrefix`. */
  readonly hostType?: Gw6cHostType;
  /** prefixlen: prefix length requested in router mode, 1..128 (brokers usually give 48..64). Default `64`. */
  readonly prefixlen?: number;
  /** if_prefix: LAN interface that gets `PREFIX::1/64` and the RA in router mode. Default `""`. */
  readonly ifPrefix?: string;
  /** dns_server: FQDNs (not addresses) of DNS servers for reverse-DNS delegation; joined with `:`. Default none. */
  readonly dnsServer?: readonly string[];
  /** gw6_dir: install directory holding `template/`; empty means `/usr/local/etc/gw6`. Default `""` (set it to the install dir). */
  readonly gw6Dir?: string;
  /** auto_retry_connect: reconnect after a keepalive timeout or failure. Default `true`. */
  readonly autoRetryConnect?: boolean;
  /** retry_delay: seconds between connection attempts, 0..3600. Default `30`. */
  readonly retryDelay?: number;
  /** keepalive: send keepalives (required for v6udpv4). Default `true`. */
  readonly keepalive?: boolean;
  /** keepalive_interval: seconds suggested to the broker, not 0 while keepalive is on. Default `30`. */
  readonly keepaliveInterval?: number;
  /** tunnel_mode. Default `"v6anyv4"`; `"v4v6"` is rejected (not supported on Linux). */
  readonly tunnelMode?: Gw6cTunnelMode;
  /** if_tunnel_v6v4: sit interface for v6v4/v6anyv4. Default `"sit1"`. */
  readonly ifTunnelV6v4?: string;
  /** if_tunnel_v6udpv4: tun interface for v6udpv4/v6anyv4. Default `"tun"`. */
  readonly ifTunnelV6udpv4?: string;
  /** if_tunnel_v4v6: interface for v4v6 (unused on Linux). Default `"sit0"`. */
  readonly ifTunnelV4v6?: string;
  /** client_v4: `"auto"` (source address of the TSP socket) or an IPv4 address. Default `"auto"`. */
  readonly clientV4?: string;
  /** client_v6: `"auto"` or an IPv6 address (v4v6 only). Default `"auto"`. */
  readonly clientV6?: string;
  /** template. Default `"linux"`. */
  readonly template?: Gw6cTemplate;
  /** proxy_client: request a tunnel for another endpoint; not with v6udpv4. Default `false`. */
  readonly proxyClient?: boolean;
  /** broker_list: file (relative to the working directory) caching the broker list. Default `"tsp-broker-list.txt"`. */
  readonly brokerList?: string;
  /** last_server: file remembering the last broker. Default `"tsp-last-server.txt"`. */
  readonly lastServer?: string;
  /** always_use_same_server. Default `false`. */
  readonly alwaysUseSameServer?: boolean;
  /** log_console level. Default `0`. */
  readonly logConsole?: Gw6cLogLevel;
  /** log_stderr level. Default `1`. */
  readonly logStderr?: Gw6cLogLevel;
  /** log_file level. Default `0` (the HOWTO uses 2). */
  readonly logFile?: Gw6cLogLevel;
  /** log_syslog level. Default `0`. */
  readonly logSyslog?: Gw6cLogLevel;
  /** log_filename: log file, relative to the working directory unless absolute; no spaces. Default `"gw6c.log"`. */
  readonly logFilename?: string;
  /** log_rotation. Default `true`. */
  readonly logRotation?: boolean;
  /** log_rotation_size, KB. Default `32`. */
  readonly logRotationSize?: Gw6cLogRotationSize;
  /** log_rotation_delete: delete rotated logs instead of keeping them. Default `false`. */
  readonly logRotationDelete?: boolean;
  /** syslog_facility. Default `"USER"`. */
  readonly syslogFacility?: Gw6cSyslogFacility;
}

/** A model with every field present. */
export type ResolvedGw6cConf = { readonly [K in keyof Gw6cConf]-?: NonNullable<Gw6cConf[K]> };

/**
 * gw6c 5.1's defaults (CFG_DFLT_* in gw6cconfig.cc). Where the code has no
 * default but validation needs a value (template, tunnel interfaces), the
 * Linux sample conf's value is used. `server` has none: the model requires it.
 */
export const GW6C_DEFAULTS: ResolvedGw6cConf = Object.freeze({
  userid: "",
  passwd: "",
  server: "",
  authMethod: "any",
  hostType: "host",
  prefixlen: 64,
  ifPrefix: "",
  dnsServer: Object.freeze([]) as readonly string[],
  gw6Dir: "",
  autoRetryConnect: true,
  retryDelay: 30,
  keepalive: true,
  keepaliveInterval: 30,
  tunnelMode: "v6anyv4",
  ifTunnelV6v4: "sit1",
  ifTunnelV6udpv4: "tun",
  ifTunnelV4v6: "sit0",
  clientV4: "auto",
  clientV6: "auto",
  template: "linux",
  proxyClient: false,
  brokerList: "tsp-broker-list.txt",
  lastServer: "tsp-last-server.txt",
  alwaysUseSameServer: false,
  logConsole: 0,
  logStderr: 1,
  logFile: 0,
  logSyslog: 0,
  logFilename: "gw6c.log",
  logRotation: true,
  logRotationSize: 32,
  logRotationDelete: false,
  syslogFacility: "USER",
} as const);

// Character sets from gw6cvalidation.cc.
const SERVER_CHARS = /^[A-Za-z0-9.:[\]-]+$/;
const DNS_CHARS = /^[A-Za-z0-9.-]+$/;
const FILENAME_CHARS = /^[A-Za-z0-9_./\\-]+$/;
const MAX_FILENAME = 256;
const AUTH_METHODS: readonly Gw6cAuthMethod[] = ["anonymous", "any", "digest-md5", "plain", "passdss-3des-1"];
const TUNNEL_MODES: readonly Gw6cTunnelMode[] = ["v6anyv4", "v6v4", "v6udpv4", "v4v6"];
const TEMPLATES: readonly Gw6cTemplate[] = [
  "checktunnel", "freebsd", "netbsd", "linux", "windows", "darwin", "cisco", "solaris", "openbsd", "openwrt", "dongle6",
];
const LOG_ROTATION_SIZES: readonly number[] = [16, 32, 128, 1024];
const FACILITIES: readonly string[] = ["USER", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"];

function fail(key: string, field: string, problem: string, got: string, fix: string): never {
  return renderErrorAt("gw6c.conf", key === field ? `'${key}'` : `'${field}' (${key})`, problem, got, fix);
}

function quote(v: unknown): string {
  return typeof v === "string" ? `'${v}'` : String(v);
}

/** gw6c's own rule: every character between ' ' and '~'. */
function printableAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

function checkInt(key: string, field: string, v: number, min: number, max: number, fix: string): void {
  if (!Number.isInteger(v) || v < min || v > max) fail(key, field, `must be an integer ${min}..${max}`, String(v), fix);
}

function checkEnum<T>(key: string, field: string, v: T, allowed: readonly T[]): void {
  if (!allowed.includes(v)) fail(key, field, `must be one of ${allowed.join(", ")}`, quote(v), "pick one of those values");
}

function checkFilename(key: string, field: string, v: string): void {
  if (v.length === 0 || v.length > MAX_FILENAME || !FILENAME_CHARS.test(v)) {
    fail(key, field, `must be a file name of 1-${MAX_FILENAME} characters A-Z a-z 0-9 - _ . / (no spaces)`, quote(v),
      "use a plain path such as /usr/local/gw6c/logs/gw6c.log");
  }
}

function checkInterface(key: string, field: string, v: string): void {
  const why = ifnameProblem(v);
  if (why) fail(key, field, why, quote(v), "e.g. eth0, sit1 or tun");
}

/** Merges {@link GW6C_DEFAULTS} under the model. */
export function resolveGw6cConf(model: Gw6cConf): ResolvedGw6cConf {
  const out: Record<string, unknown> = { ...GW6C_DEFAULTS };
  for (const [k, v] of Object.entries(model)) if (v !== undefined) out[k] = v;
  return out as ResolvedGw6cConf;
}

/**
 * Checks a model with gw6c 5.1's own rules (gw6cvalidation.cc and the cross
 * checks in gw6cconfig.cc), plus what gw6c only finds out at run time:
 * server must be set, gw6_dir must be absolute, v4v6 is not supported on
 * Linux, v6udpv4 needs keepalive, and userid/passwd must not start or end
 * with whitespace (gw6c trims values). Throws
 * `gw6c.conf: '<field>' (<key>) <problem>, got <value>; <fix>`; passwd
 * problems never show the value.
 */
export function validateGw6cConf(model: Gw6cConf): void {
  const c = resolveGw6cConf(model);
  // Booleans first: the cross checks below branch on them.
  for (const [key, field] of [["auto_retry_connect", "autoRetryConnect"], ["keepalive", "keepalive"], ["proxy_client", "proxyClient"],
    ["always_use_same_server", "alwaysUseSameServer"], ["log_rotation", "logRotation"],
    ["log_rotation_delete", "logRotationDelete"]] as const) {
    if (typeof c[field] !== "boolean") fail(key, field, "must be true or false", quote(c[field]), "use a boolean");
  }

  if (c.userid.length > 253) fail("userid", "userid", "must be at most 253 characters", `${c.userid.length} characters`, "shorten it");
  if (!printableAscii(c.userid)) {
    fail("userid", "userid", "must contain printable ASCII only", quote(c.userid), "remove control and non-ASCII characters");
  }
  if (c.userid !== c.userid.trim()) {
    fail("userid", "userid", "must not start or end with whitespace (gw6c trims it)", quote(c.userid), "remove the spaces");
  }
  // Never echo the password: report its length or nothing.
  if (c.passwd.length > 128) fail("passwd", "passwd", "must be at most 128 characters", `${c.passwd.length} characters`, "use a shorter password");
  if (!printableAscii(c.passwd)) {
    fail("passwd", "passwd", "must contain printable ASCII only", "a value with other characters", "remove control and non-ASCII characters");
  }
  if (c.passwd !== c.passwd.trim()) {
    fail("passwd", "passwd", "must not start or end with whitespace (gw6c trims it)", "a value with surrounding spaces", "remove the spaces");
  }
  checkEnum("auth_method", "authMethod", c.authMethod, AUTH_METHODS);
  if (c.authMethod !== "anonymous" && c.passwd.length === 0) {
    fail("passwd", "passwd", `is required unless authMethod is "anonymous"`, "an empty value",
      `set the broker password, or authMethod "anonymous"`);
  }

  if (c.server.length === 0) fail("server", "server", "is required", "''", "set the broker, e.g. broker.freenet6.net or 192.0.2.1:3653");
  if (c.server.length > 1025 || !SERVER_CHARS.test(c.server)) {
    fail("server", "server", "must be host, A.B.C.D or [v6] with an optional :port (characters A-Z a-z 0-9 - . : [ ])",
      quote(c.server), "e.g. broker.freenet6.net or [2001:db8::1]:3653");
  }

  checkEnum("host_type", "hostType", c.hostType, ["host", "router"] as const);
  checkInt("prefixlen", "prefixlen", c.prefixlen, 1, 128, "use the length to request, usually 48..64");
  if (c.ifPrefix !== "") checkInterface("if_prefix", "ifPrefix", c.ifPrefix);
  if (c.hostType === "router" && c.ifPrefix === "") {
    fail("if_prefix", "ifPrefix", `is required when hostType is "router"`, "''", "set it to the LAN interface, e.g. eth0");
  }

  const dnsJoined = c.dnsServer.join(":");
  for (const name of c.dnsServer) {
    if (!DNS_CHARS.test(name) || isIpv4Address(name)) {
      fail("dns_server", "dnsServer", "must list DNS server names (FQDNs, characters A-Z a-z 0-9 - .), not addresses", quote(name),
        "e.g. ns1.example.net");
    }
  }
  if (dnsJoined.length > 1025) fail("dns_server", "dnsServer", "must be at most 1025 characters joined", `${dnsJoined.length}`, "list fewer servers");

  if (c.gw6Dir !== "" && (!c.gw6Dir.startsWith("/") || !FILENAME_CHARS.test(c.gw6Dir))) {
    fail("gw6_dir", "gw6Dir", "must be an absolute directory path (characters A-Z a-z 0-9 - _ . /)", quote(c.gw6Dir),
      "set it to the install directory, e.g. /usr/local/gw6c");
  }

  checkInt("retry_delay", "retryDelay", c.retryDelay, 0, 3600, "use seconds between 0 and 3600");
  checkInt("keepalive_interval", "keepaliveInterval", c.keepaliveInterval, 0, 2147483647, "use a positive number of seconds");
  if (c.keepalive && c.keepaliveInterval === 0) {
    fail("keepalive_interval", "keepaliveInterval", "must not be 0 while keepalive is on", "0", "use e.g. 30, or turn keepalive off");
  }

  checkEnum("tunnel_mode", "tunnelMode", c.tunnelMode, TUNNEL_MODES);
  if (c.tunnelMode === "v4v6") {
    fail("tunnel_mode", "tunnelMode", "v4v6 is not supported by gw6c on Linux", "'v4v6'", "use v6anyv4, v6v4 or v6udpv4");
  }
  if (c.tunnelMode === "v6udpv4" && !c.keepalive) {
    fail("keepalive", "keepalive", "must be on for tunnelMode v6udpv4 (keepalives hold the NAT mapping and the broker session)",
      "false", "set keepalive to true");
  }
  checkInterface("if_tunnel_v6v4", "ifTunnelV6v4", c.ifTunnelV6v4);
  checkInterface("if_tunnel_v6udpv4", "ifTunnelV6udpv4", c.ifTunnelV6udpv4);
  checkInterface("if_tunnel_v4v6", "ifTunnelV4v6", c.ifTunnelV4v6);
  if (c.clientV4 !== "auto" && !isIpv4Address(c.clientV4)) {
    fail("client_v4", "clientV4", `must be "auto" or an IPv4 address`, quote(c.clientV4), `use "auto" unless the source address must be forced`);
  }
  if (c.clientV6 !== "auto" && !isIpv6Address(c.clientV6)) {
    fail("client_v6", "clientV6", `must be "auto" or an IPv6 address`, quote(c.clientV6), `use "auto"`);
  }
  checkEnum("template", "template", c.template, TEMPLATES);
  if (c.proxyClient && c.tunnelMode === "v6udpv4") {
    fail("proxy_client", "proxyClient", "cannot be used with tunnelMode v6udpv4", "true", "turn proxyClient off or use v6v4");
  }

  checkFilename("broker_list", "brokerList", c.brokerList);
  checkFilename("last_server", "lastServer", c.lastServer);
  checkFilename("log_filename", "logFilename", c.logFilename);
  for (const [key, field] of [["log_console", "logConsole"], ["log_stderr", "logStderr"], ["log_file", "logFile"],
    ["log_syslog", "logSyslog"]] as const) {
    checkInt(key, field, c[field], 0, 3, "use 0 (off) to 3 (everything)");
  }
  if (!LOG_ROTATION_SIZES.includes(c.logRotationSize)) {
    fail("log_rotation_size", "logRotationSize", "must be one of 16, 32, 128, 1024 (KB)", String(c.logRotationSize), "pick one of those sizes");
  }
  checkEnum("syslog_facility", "syslogFacility", c.syslogFacility as string, FACILITIES);
}

function yesNo(v: boolean): string {
  return v ? "yes" : "no";
}

/** The rendered key order and group comments (documents the file layout). */
export const GW6C_CONF_GROUPS: readonly { readonly comment: string; readonly keys: readonly string[] }[] = Object.freeze([
  { comment: "Broker and authentication", keys: ["userid", "passwd", "server", "auth_method"] },
  { comment: "Host or router; the prefix requested and the LAN interface that gets PREFIX::1/64", keys: ["host_type", "prefixlen", "if_prefix", "dns_server"] },
  { comment: "Directory holding template/ (gw6c runs <gw6_dir>/template/<template>.sh)", keys: ["gw6_dir"] },
  { comment: "Reconnection and keepalive", keys: ["auto_retry_connect", "retry_delay", "keepalive", "keepalive_interval"] },
  { comment: "Tunnel mode, tunnel interfaces and local addresses", keys: ["tunnel_mode", "if_tunnel_v6v4", "if_tunnel_v6udpv4", "if_tunnel_v4v6", "client_v4", "client_v6", "template", "proxy_client"] },
  { comment: "Broker list files (relative paths resolve against the working directory)", keys: ["broker_list", "last_server", "always_use_same_server"] },
  { comment: "Logging: levels 0 (off) to 3 (everything) per device", keys: ["log_console", "log_stderr", "log_file", "log_syslog", "log_filename", "log_rotation", "log_rotation_size", "log_rotation_delete", "syslog_facility"] },
]);

function values(c: ResolvedGw6cConf): Record<string, string> {
  return {
    userid: c.userid,
    passwd: c.passwd,
    server: c.server,
    auth_method: c.authMethod,
    host_type: c.hostType,
    prefixlen: String(c.prefixlen),
    if_prefix: c.ifPrefix,
    dns_server: c.dnsServer.join(":"),
    gw6_dir: c.gw6Dir,
    auto_retry_connect: yesNo(c.autoRetryConnect),
    retry_delay: String(c.retryDelay),
    keepalive: yesNo(c.keepalive),
    keepalive_interval: String(c.keepaliveInterval),
    tunnel_mode: c.tunnelMode,
    if_tunnel_v6v4: c.ifTunnelV6v4,
    if_tunnel_v6udpv4: c.ifTunnelV6udpv4,
    if_tunnel_v4v6: c.ifTunnelV4v6,
    client_v4: c.clientV4,
    client_v6: c.clientV6 === "auto" ? "auto" : canonicalIpv6(c.clientV6),
    template: c.template,
    proxy_client: yesNo(c.proxyClient),
    broker_list: c.brokerList,
    last_server: c.lastServer,
    always_use_same_server: yesNo(c.alwaysUseSameServer),
    log_console: String(c.logConsole),
    log_stderr: String(c.logStderr),
    log_file: String(c.logFile),
    log_syslog: String(c.logSyslog),
    log_filename: c.logFilename,
    log_rotation: yesNo(c.logRotation),
    log_rotation_size: String(c.logRotationSize),
    log_rotation_delete: yesNo(c.logRotationDelete),
    syslog_facility: c.syslogFacility,
  };
}

/**
 * Renders gw6c.conf: the managed-file header, then every key as `name=value`
 * in the order of {@link GW6C_CONF_GROUPS}, each group under a `#` comment.
 * Unset fields take {@link GW6C_DEFAULTS}. Validates first
 * ({@link validateGw6cConf}). The output contains passwd: store it 0600.
 */
export function renderGw6cConf(model: Gw6cConf): string {
  validateGw6cConf(model);
  const v = values(resolveGw6cConf(model));
  const groups = GW6C_CONF_GROUPS.map((g) => [`# ${g.comment}`, ...g.keys.map((k) => `${k}=${v[k]}`)].join("\n"));
  return `${MANAGED_HEADER}\n# gw6c 5.1 configuration, see gw6c.conf(5). The password below makes this file secret (mode 0600).\n\n${groups.join("\n\n")}\n`;
}
