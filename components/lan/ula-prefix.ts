// An RFC 4193 unique local prefix, generated once as the RFC describes
// (SHA-1 of the time and the gateway's EUI-64) and then kept in the stack's
// state: a ULA must not change once hosts use it (HOWTO step 26).

import * as pulumi from "@pulumi/pulumi";
import { eui64Bytes } from "../net/eui64";
import { ntpTimestamp, ulaPrefix } from "../net/ula";
import { ReferencedResource, providerReference } from "../host/provider-reference";

interface UlaState {
  mac: string;
  prefix?: string;
}

export class UlaPrefixProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new UlaPrefixProvider();
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, UlaPrefixProvider);

  async create(inputs: UlaState) {
    const prefix = ulaPrefix({ ntpTime: ntpTimestamp(new Date()), eui64: eui64Bytes(inputs.mac) });
    return { id: prefix, outs: { ...inputs, prefix } };
  }

  /** Generated once: nothing ever changes it, not even another MAC. */
  async diff() {
    return { changes: false };
  }
}

export interface UlaPrefixArgs {
  /** The MAC whose EUI-64 seeds the generation (the gateway's LAN interface). */
  readonly mac: string;
}

export class UlaPrefix extends ReferencedResource {
  /** The generated /48, e.g. "fd3a:91c2:7e05::/48". */
  declare readonly prefix: pulumi.Output<string>;

  constructor(name: string, args: UlaPrefixArgs, opts?: pulumi.CustomResourceOptions) {
    super(UlaPrefixProvider.reference, name, { ...args, prefix: undefined }, opts, "ipv6gw:lan", "UlaPrefix");
  }
}
