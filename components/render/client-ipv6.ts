// LAN client SLAAC configuration, one renderer per network stack: RedHat
// ifcfg keys (the HOWTO's step 21), NetworkManager, systemd-networkd and
// ifupdown (kernel settings themselves are Sysctl resources). Pure: each returns file paths and contents
// (or key/value edits); the component writes them.
//
// Two knobs everywhere: `privacy` (RFC 4941 temporary addresses, preferred
// for outgoing connections) and `eui64` (stable addresses from the MAC, as in
// the HOWTO, instead of the stack's default generation mode).

import { MANAGED_HEADER, checkIfname, renderError } from "./kit";


/** Why a systemd-networkd .network file name is unusable, or undefined. */
export function networkFileProblem(name: string): string | undefined {
  return typeof name === "string" && /^[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,200}\.network$/.test(name)
    ? undefined
    : "must be a bare .network file name (letters, digits, _ . @ -), as networkctl status <interface> shows it";
}

/** A file to place on the box. */
export interface RenderedFile {
  /** Absolute path. */
  readonly path: string;
  /** Full file content. */
  readonly content: string;
  /** Permission bits, e.g. `0o644`. */
  readonly mode: number;
}

/** Edits to a shell-style KEY=value file that the component merges into the existing file. */
export interface KeyValueEdit {
  /** Absolute path of the file to edit. */
  readonly path: string;
  /** Keys to set, in this order; values unquoted (the writer quotes as the file's format needs). */
  readonly set: Readonly<Record<string, string>>;
  /** Keys to delete if present. */
  readonly remove: readonly string[];
}

// Interface names end up in file names and config keys: no '/', no spaces.
function checkInterface(what: string, name: string): void {
  checkIfname(what, "interface", name, "e.g. eth0 or enp1s0");
}

function checkBool(what: string, field: string, v: unknown): void {
  if (typeof v !== "boolean") renderError(what, field, "must be true or false", String(v), "pass a boolean");
}

/** Options of {@link renderIfcfgKeys}. */
export interface IfcfgOptions {
  /** Client interface, e.g. `"eth0"`. */
  readonly interface: string;
  /** Set IPV6_PRIVACY=rfc3041; `false` removes the key. */
  readonly privacy: boolean;
}

/**
 * The HOWTO's step 21 for RedHat/CentOS/Fedora/Mandriva network-scripts:
 * `/etc/sysconfig/network` gets NETWORKING_IPV6=yes, and
 * `/etc/sysconfig/network-scripts/ifcfg-<if>` gets IPV6INIT=yes,
 * IPV6_AUTOCONF=yes and IPV6_PRIVACY=rfc3041 only with `privacy`
 * (otherwise IPV6_PRIVACY is removed).
 */
export function renderIfcfgKeys(options: IfcfgOptions): readonly KeyValueEdit[] {
  const what = "ifcfg keys";
  checkInterface(what, options.interface);
  checkBool(what, "privacy", options.privacy);
  const ifcfgSet: Record<string, string> = { IPV6INIT: "yes", IPV6_AUTOCONF: "yes" };
  if (options.privacy) ifcfgSet.IPV6_PRIVACY = "rfc3041";
  return [
    { path: "/etc/sysconfig/network", set: { NETWORKING_IPV6: "yes" }, remove: [] },
    {
      path: `/etc/sysconfig/network-scripts/ifcfg-${options.interface}`,
      set: ifcfgSet,
      remove: options.privacy ? [] : ["IPV6_PRIVACY"],
    },
  ];
}

/** Options of {@link renderNetworkManagerConf}. */
export interface NetworkManagerSlaacOptions {
  /** ipv6.ip6-privacy=2 (temporary addresses preferred); `false` sets 0. */
  readonly privacy: boolean;
  /** ipv6.addr-gen-mode=eui64; `false` sets stable-privacy (RFC 7217). */
  readonly eui64: boolean;
}

/**
 * `/etc/NetworkManager/conf.d/60-ipv6gw-slaac.conf`, a `[connection]`
 * section with global defaults for ipv6.addr-gen-mode and ipv6.ip6-privacy.
 * Defaults only reach profiles that leave the property at "default"
 * (addr-gen-mode defaults need NetworkManager 1.40 or later).
 * ipv6.method is not written: NetworkManager.conf cannot default it, and new
 * profiles already use `auto` (SLAAC).
 */
export function renderNetworkManagerConf(options: NetworkManagerSlaacOptions): RenderedFile {
  const what = "NetworkManager SLAAC defaults";
  checkBool(what, "privacy", options.privacy);
  checkBool(what, "eui64", options.eui64);
  const lines = [
    MANAGED_HEADER,
    "# Defaults for profiles that leave these properties unset. ipv6.method cannot be defaulted here;",
    "# profiles use ipv6.method=auto (SLAAC) unless they say otherwise.",
    "[connection]",
    `ipv6.addr-gen-mode=${options.eui64 ? "eui64" : "stable-privacy"}`,
    `ipv6.ip6-privacy=${options.privacy ? 2 : 0}`,
  ];
  return { path: "/etc/NetworkManager/conf.d/60-ipv6gw-slaac.conf", content: `${lines.join("\n")}\n`, mode: 0o644 };
}

/** Options of {@link renderNetworkdDropIn}. */
export interface NetworkdSlaacOptions {
  /** The .network file to extend, a bare file name such as `"10-eth0.network"`. */
  readonly networkFile: string;
  /** IPv6PrivacyExtensions=yes; `false` writes no. */
  readonly privacy: boolean;
  /** EUI-64 link-local and SLAAC addresses; `false` leaves networkd's defaults. */
  readonly eui64: boolean;
}

/**
 * `/etc/systemd/network/<file>.d/60-ipv6gw-slaac.conf`: `[Network]`
 * IPv6AcceptRA=yes and IPv6PrivacyExtensions=yes|no; with `eui64` also
 * IPv6LinkLocalAddressGenerationMode=eui64 (systemd 248+) and
 * `[IPv6AcceptRA] Token=eui64` (cleared first, since Token= accumulates
 * across drop-ins) so the SLAAC address is EUI-64 too.
 */
export function renderNetworkdDropIn(options: NetworkdSlaacOptions): RenderedFile {
  const what = "systemd-networkd SLAAC drop-in";
  const why = networkFileProblem(options.networkFile);
  if (why) renderError(what, "networkFile", why, `'${String(options.networkFile)}'`, "e.g. 10-eth0.network");
  checkBool(what, "privacy", options.privacy);
  checkBool(what, "eui64", options.eui64);
  const lines = [MANAGED_HEADER, "[Network]", "IPv6AcceptRA=yes", `IPv6PrivacyExtensions=${options.privacy ? "yes" : "no"}`];
  if (options.eui64) {
    lines.push("IPv6LinkLocalAddressGenerationMode=eui64", "", "[IPv6AcceptRA]", "# Token= accumulates across files: clear, then set.",
      "Token=", "Token=eui64");
  }
  return {
    path: `/etc/systemd/network/${options.networkFile}.d/60-ipv6gw-slaac.conf`,
    content: `${lines.join("\n")}\n`,
    mode: 0o644,
  };
}

/** Options of {@link renderIfupdownStanza}. */
export interface IfupdownSlaacOptions {
  /** Client interface, e.g. `"eth0"`. */
  readonly interface: string;
  /** `privext 2` (temporary addresses, preferred); `false` writes no privext line. */
  readonly privacy: boolean;
}

/**
 * `/etc/network/interfaces.d/60-ipv6gw-<if>` with `iface <if> inet6 auto`
 * (and `privext 2` with `privacy`). Read only when /etc/network/interfaces
 * has `source /etc/network/interfaces.d/*` (Debian's default); the `auto` or
 * `allow-hotplug` line stays in the main file.
 */
export function renderIfupdownStanza(options: IfupdownSlaacOptions): RenderedFile {
  const what = "ifupdown SLAAC stanza";
  checkInterface(what, options.interface);
  checkBool(what, "privacy", options.privacy);
  const lines = [MANAGED_HEADER, `iface ${options.interface} inet6 auto`];
  if (options.privacy) lines.push("    privext 2");
  return { path: `/etc/network/interfaces.d/60-ipv6gw-${options.interface}`, content: `${lines.join("\n")}\n`, mode: 0o644 };
}
