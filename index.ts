import * as pulumi from "@pulumi/pulumi";
const config = new pulumi.Config();
export const site = config.get("siteName") ?? "lab";
