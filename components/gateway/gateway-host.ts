// The box that becomes the gateway: its facts, the preflight that refuses a
// box which cannot do the job (at preview, before anything changes), and
// IPv6 forwarding (HOWTO step 11), persisted.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFacts, HostFactsData, stableFacts } from "../host/host-facts";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { Sysctl } from "../host/sysctl";
import { MANAGED_HEADER } from "../render/kit";
import { Problem, parseArgs, problem } from "../problems";
import { factsValue, ifname, inputOf, strictObject } from "../schema-kit";
import { GatewayNeeds, gatewayProblems } from "./preflight";

/** What a site's owner says about the gateway box (the stack file's `gateway`, less its connection). */
export const gatewaySettingsShape = {
  lanInterface: ifname.optional().describe("the interface facing the LAN (HOWTO's if_prefix); default eth0; not with a dhcpv6-pd uplink, whose LANs are tunnel.lans"),
  uplinkInterface: ifname.optional().describe("the interface facing the ISP; default: none named"),
  uplinkAutoconf: z.boolean().default(false).describe("the uplink takes RAs from the ISP: keep accepting them with forwarding on (accept_ra=2); needs uplinkInterface"),
};

/** Problems of the settings alone, with their key paths. Pure. */
export function gatewaySettingsProblems(s: { lanInterface?: string; uplinkInterface?: string; uplinkAutoconf: boolean }): Problem[] {
  const problems: Problem[] = [];
  if (s.uplinkAutoconf && !s.uplinkInterface) problems.push(problem(["uplinkAutoconf"], "needs uplinkInterface: name the interface facing the ISP"));
  if (s.uplinkInterface !== undefined && s.lanInterface !== undefined && s.uplinkInterface === s.lanInterface) {
    problems.push(problem(["uplinkInterface"], `is the LAN interface '${s.lanInterface}': the uplink and the LAN must be different interfaces`));
  }
  return problems;
}

const FORWARDING_KEY = "net.ipv6.conf.all.forwarding";
export const FORWARDING_UNIT = "ipv6gw-forwarding.service";

/**
 * The unit that turns IPv6 forwarding on at boot, after the firewall's boot
 * unit and only if it loaded (Requires=): before network-pre.target, so no
 * interface is configured before both. Pure.
 */
export function renderForwardingUnit(firewallBootUnit: string): string {
  return [
    MANAGED_HEADER,
    "[Unit]",
    "Description=ipv6gw: IPv6 forwarding, once the firewall is loaded",
    "DefaultDependencies=no",
    `Requires=${firewallBootUnit}`,
    `After=${firewallBootUnit} systemd-sysctl.service`,
    "Before=network-pre.target shutdown.target",
    "Wants=network-pre.target",
    "Conflicts=shutdown.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=/sbin/sysctl -q -w ${FORWARDING_KEY}=1`,
    `ExecStop=/sbin/sysctl -q -w ${FORWARDING_KEY}=0`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

export const gatewayHostArgsSchema = strictObject({
  ...gatewaySettingsShape,
  connection: inputOf<ConnectionArgs>("the connection"),
  facts: factsValue,
  lanInterface: ifname.optional().describe("the LAN interface preflight looks for; default none (a native uplink checks its own LANs)"),
  /** What the site needs of the box beyond the settings (its tunnel); checked against the facts. */
  tunnel: z.enum(["wireguard", "gw6c", "sit6in4", "dhcpv6-pd"]).optional(),
  gw6cTunnelMode: z.enum(["v6anyv4", "v6v4", "v6udpv4", "v4v6"]).optional(),
  /**
   * The systemd unit that loads the firewall at boot. On systemd boxes
   * forwarding is then switched on at boot by a unit that requires it: never
   * before the firewall is loaded, and not at all if loading it fails.
   * Default: forwarding persisted in /etc/sysctl.d (no firewall to wait for).
   */
  firewallBootUnit: z.string().regex(/^[A-Za-z0-9_.@-]+\.service$/, "must be a systemd service unit name").optional(),
});

export type GatewayHostArgs = z.input<typeof gatewayHostArgsSchema>;
type ParsedGatewayHostArgs = z.output<typeof gatewayHostArgsSchema>;

export function gatewayNeedsOf(a: Pick<ParsedGatewayHostArgs, "lanInterface" | "uplinkInterface" | "tunnel" | "gw6cTunnelMode">): GatewayNeeds {
  return { lanInterface: a.lanInterface, uplinkInterface: a.uplinkInterface, tunnel: a.tunnel, gw6cTunnelMode: a.gw6cTunnelMode };
}

/** Everything wrong with these args for this box. Pure. */
export function gatewayHostProblems(a: ParsedGatewayHostArgs): Problem[] {
  return [...gatewaySettingsProblems(a), ...gatewayProblems(a.facts as HostFactsData, gatewayNeedsOf(a))];
}

export class GatewayHost extends pulumi.ComponentResource {
  /** Facts as read at preview. */
  readonly facts: HostFactsData;
  /** Facts as recorded in state (a refresh re-reads them). */
  readonly recordedFacts: pulumi.Output<HostFactsData>;
  /** The forwarding sysctl. */
  readonly forwarding: Sysctl;
  /**
   * What turns forwarding on and may turn it off: the sysctl, and the unit that
   * sets it at boot (stopping that unit, as destroy does, turns forwarding off).
   * The tunnel and radvd start after these, so they are also gone before them.
   */
  readonly forwardingOn: pulumi.Resource[];

  constructor(name: string, args: GatewayHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`GatewayHost "${name}" (${args.facts?.prettyName || args.facts?.distro}, kernel ${args.facts?.kernel})`, gatewayHostArgsSchema, args, gatewayHostProblems);
    super("ipv6gw:gateway:GatewayHost", name, {}, opts);
    this.facts = a.facts;
    // Recorded as the preflight read them: no second read of the box in the same command.
    const facts = new HostFacts(`${name}-facts`, { connection: a.connection, observed: stableFacts(a.facts) }, childOf(this, opts));
    this.recordedFacts = facts.facts;
    // The HOWTO's "net.ipv6.ip_forward" is not a Linux key; this is the one that turns forwarding on.
    const atBoot = a.firewallBootUnit !== undefined && a.facts.serviceManager === "systemd";
    this.forwarding = new Sysctl(`${name}-forwarding`, { connection: a.connection, key: FORWARDING_KEY, value: "1", persist: !atBoot }, childOf(this, opts));
    this.forwardingOn = [this.forwarding];
    if (atBoot) {
      const unit = new RemoteFile(
        `${name}-forwarding-unit`,
        { connection: a.connection, path: `/etc/systemd/system/${FORWARDING_UNIT}`, content: renderForwardingUnit(a.firewallBootUnit!) },
        childOf(this, opts),
      );
      this.forwardingOn.push(new Service(`${name}-forwarding-at-boot`, { connection: a.connection, name: FORWARDING_UNIT, restartTrigger: unit.sha256 }, childOf(this, opts, unit, this.forwarding)));
    }
    if (a.uplinkAutoconf && a.uplinkInterface) {
      // With forwarding on, the kernel ignores RAs unless accept_ra is 2.
      new Sysctl(`${name}-uplink-accept-ra`, { connection: a.connection, key: `net.ipv6.conf.${a.uplinkInterface}.accept_ra`, value: "2" }, childOf(this, opts, this.forwarding));
    }
    this.registerOutputs({ facts: this.recordedFacts });
  }
}
