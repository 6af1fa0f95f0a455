// The policy pack the CLI runs (pulumi preview --policy-pack policy). The
// policies themselves are in policies.ts, where tests can reach them without
// serving a pack.
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policyPackArgs } from "./policies";

new PolicyPack(POLICY_PACK_NAME, policyPackArgs);
