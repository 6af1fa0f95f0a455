// What the ConfigSecrets component records as its inputs (config-secrets.ts):
// which secret keys of the stack's config are set, and whether each is
// stored encrypted. Types only, so the policy pack loads nothing else.

export const CONFIG_SECRETS_TYPE = "ipv6gw:site:ConfigSecrets";

export interface ConfigSecretsInputs {
  /** The secret keys this stack sets (e.g. "ipv6gw:wireguardPrivateKey"), each with whether it is encrypted. */
  readonly keys: readonly { readonly key: string; readonly secret: boolean }[];
}
