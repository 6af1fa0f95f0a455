import * as pulumi from "@pulumi/pulumi";
import { inspect } from "util";
import { configError } from "../../components/user-error";

// What the SDK's run harness prints for an error: util.inspect with colors.
const printed = (e: Error) => inspect(e, { colors: true });

describe("errors for the person running pulumi", () => {
  it("a config error prints as its message, with no stack frames, and the SDK hides its stack", () => {
    const e = configError("ipv6gw:site.gateway: required; add it to stacks/Pulumi.<stack>.yaml");
    expect(pulumi.RunError.isInstance(e)).toBe(true);
    expect(printed(e)).not.toMatch(/\n\s+at /);
    expect(e.message).toBe("ipv6gw:site.gateway: required; add it to stacks/Pulumi.<stack>.yaml");
  });
});
