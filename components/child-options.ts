import * as pulumi from "@pulumi/pulumi";

/**
 * Options for a component's child: parented to the component, and waiting
 * for whatever the component was told to wait for (Pulumi does not pass a
 * component's dependsOn on to its children) plus `after`.
 */
export function childOf(
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
  ...after: pulumi.Input<pulumi.Resource>[]
): pulumi.CustomResourceOptions {
  const inherited = opts?.dependsOn ?? [];
  return { parent, dependsOn: [inherited, ...after] as pulumi.Input<pulumi.Input<pulumi.Resource>[]> };
}
