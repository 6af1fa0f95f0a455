// The program: one Ipv6Site from this stack's configuration
// (stacks/Pulumi.<stack>.yaml; the lab site is the embedded default).

import * as pulumi from "@pulumi/pulumi";
import { ConfigSecrets } from "./components/config-secrets";
import { cliCommandId, commandFactsReader } from "./components/host/command-facts";
import { getHostFacts } from "./components/host/host-facts";
import { Ipv6Site } from "./components/site";
import { ProgramOptions, loadSiteArgs } from "./components/stack-config";
import { processStart, traceMark } from "./components/trace";

traceMark("program", "start", {}, processStart());
traceMark("program", "loaded");

// The CLI runs the program without options (each box's facts are read once per command: `up`'s
// update takes its preview's); a fleet preview (scripts/fleet.ts) passes its own facts cache.
export = async (options: ProgramOptions = {}) => {
  // First, so the policy pack (policy/) refuses plain-text secrets before anything else registers.
  new ConfigSecrets("stack-config");
  const readFacts = options.readFacts ?? commandFactsReader(getHostFacts, { command: cliCommandId() });
  const site = new Ipv6Site("site", await loadSiteArgs(new pulumi.Config("ipv6gw"), readFacts));
  traceMark("program", "constructed");
  return {
    lanPrefix: site.lanPrefix,
    gatewayAddress: site.gatewayAddress,
    ...(site.ulaPrefix ? { ulaPrefix: site.ulaPrefix } : {}),
    // A native uplink: what the ISP delegated, as the gateway holds it (pulumi refresh reads it again).
    ...(site.delegatedPrefix ? { delegatedPrefix: site.delegatedPrefix, lanPrefixes: site.lanPrefixes } : {}),
    clientAddresses: site.clientAddresses,
    tunnelInterface: site.tunnel.interface,
    firewallRules: site.firewallRules,
    checksPassed: site.checksPassed,
    checkResults: site.checkResults,
  };
};
