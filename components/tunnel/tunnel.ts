// What every tunnel driver gives the site: the prefix it brings, the /64
// for the LAN, its interface, and whether it runs radvd itself. Each driver
// is a thin class over a builder function (the pulumi-eks shape): the
// builder creates the children and returns these parts.

import * as pulumi from "@pulumi/pulumi";
import { HostFactsData } from "../host/host-facts";
import { Service } from "../host/service";
import { subnet } from "../net/ipv6";
import { Problem, problem } from "../problems";

/** A process by name, or a systemd unit (a oneshot unit such as wg-quick@ has no process to find). */
export type Running = { readonly process: string } | { readonly unit: string };

export interface TunnelOutputs {
  /** The tunnel's interface on the gateway ("wg0", "tun", "he-ipv6"). */
  readonly interface: string;
  /** The global prefix routed to the site ("2001:db8:8888::/48"); empty for gw6c in host mode, which gets none. */
  readonly prefix: pulumi.Output<string>;
  /** The /64 advertised on the LAN. */
  readonly lanPrefix: pulumi.Output<string>;
  /** True when the tunnel client runs its own radvd (gw6c in router mode): the site's Radvd must stand aside. */
  readonly ownsRadvd: boolean;
  /** True when the tunnel client puts <prefix>::1 on the LAN interface itself (gw6c router mode). */
  readonly ownsLanAddress: boolean;
  /** What must be running for the tunnel to be up, for the checks: a process (pidof) or a systemd unit (is-active). */
  readonly running: Running;
  /** The running tunnel; what depends on the tunnel depends on this. */
  readonly service: Service;
}

// The class carries TunnelOutputs' members (declaration merging), set from the builder's parts.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Tunnel extends TunnelOutputs {}

/** A tunnel driver: its parts come from the builder it is constructed with. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export abstract class Tunnel extends pulumi.ComponentResource {
  protected constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions | undefined, build: (self: pulumi.ComponentResource) => TunnelOutputs) {
    super(type, name, {}, opts);
    Object.assign(this, build(this));
    // ownsRadvd too: a policy checks that a tunnel's radvd and ours never share a box (policy/site-invariants.ts).
    this.registerOutputs({ interface: this.interface, prefix: this.prefix, lanPrefix: this.lanPrefix, ownsRadvd: this.ownsRadvd });
  }
}

/**
 * A tunnel to a far end that routes a prefix here (WireGuard to a VPS, HE's
 * 6in4): the LAN gets the prefix's first /64 unless told otherwise, and we
 * run radvd and the LAN address ourselves.
 */
export function routedPrefixTunnel(p: { interface: string; routedPrefix: string; lanPrefix?: string; running: Running; service: Service }): TunnelOutputs {
  return {
    interface: p.interface,
    prefix: pulumi.output(p.routedPrefix),
    lanPrefix: pulumi.output(p.lanPrefix ?? subnet(p.routedPrefix, 0, 64)),
    ownsRadvd: false,
    ownsLanAddress: false,
    running: p.running,
    service: p.service,
  };
}

/** The tunnels that run as a unit of ours need systemd. */
export function systemdProblems(facts: HostFactsData, what: string): Problem[] {
  return facts.serviceManager === "systemd" ? [] : [problem([], `needs systemd (${what}) on the gateway, which runs ${facts.serviceManager || "no known init"}`)];
}
