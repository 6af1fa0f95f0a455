// Our connection and @pulumi/command's remote.ConnectionArgs are one shape:
// each is assignable to the other, checked by the compiler (ts-jest fails
// this file if either assignment stops type-checking), so a user's own
// remote.Command takes the object our host resources take, and back.
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs, ProxyConnectionArgs } from "../../components/host/connection";

type Theirs = command.types.input.remote.ConnectionArgs;
type TheirProxy = command.types.input.remote.ProxyConnectionArgs;

const toTheirs = (c: ConnectionArgs): Theirs => c;
const toOurs = (c: Theirs): ConnectionArgs => c;
const proxyToTheirs = (c: ProxyConnectionArgs): TheirProxy => c;
const proxyToOurs = (c: TheirProxy): ProxyConnectionArgs => c;

describe("the connection type", () => {
  it("goes both ways between ours and @pulumi/command's remote.ConnectionArgs", () => {
    const ours: ConnectionArgs = {
      host: "192.0.2.1",
      port: 2222,
      user: "admin",
      privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
      hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
      proxy: { host: "198.51.100.1" },
    };
    const back = toOurs(toTheirs(ours));
    expect(back).toBe(ours);
    expect(proxyToOurs(proxyToTheirs({ host: "198.51.100.1", dialErrorLimit: 2 }))).toEqual({ host: "198.51.100.1", dialErrorLimit: 2 });
  });
});
