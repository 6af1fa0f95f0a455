// Which of a stack's secret config keys are set, and whether each is stored
// encrypted: a component whose inputs say so (never the values), so a policy
// (policy/site-invariants.ts) can stop a preview whose stack file holds a
// key, password or broker secret in plain text.

import * as pulumi from "@pulumi/pulumi";
import { SECRET_KEYS } from "./config";
import { CONFIG_SECRETS_TYPE, ConfigSecretsInputs } from "./config-secrets-inputs";

/** The status of every secret key that is set. Pure. */
export function configSecretStatus(config: Readonly<Record<string, string>>, isSecret: (key: string) => boolean): ConfigSecretsInputs {
  const keys = Object.keys(SECRET_KEYS)
    .map((k) => `ipv6gw:${k}`)
    .filter((k) => config[k] !== undefined)
    .map((key) => ({ key, secret: isSecret(key) }));
  return { keys };
}

/** Whether the engine handed this key over as a secret (PULUMI_CONFIG_SECRET_KEYS); the SDK keeps this internal. */
function isConfigSecret(key: string): boolean {
  const runtime = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function") throw new Error("@pulumi/pulumi no longer exports runtime/config isConfigSecret: the secret-config policy cannot tell plain values from secrets");
  return runtime.isConfigSecret(key);
}

/** The stack's secret config keys as a component, for policies. */
export class ConfigSecrets extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super(CONFIG_SECRETS_TYPE, name, configSecretStatus(pulumi.runtime.allConfig(), isConfigSecret), opts);
    this.registerOutputs({});
  }
}
