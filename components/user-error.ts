// Errors for the person running `pulumi`: a mistake in the stack's config or
// something the box lacks. The message names the what, the where and the fix,
// and is all they see.
//
// Such errors carry no stack frames. Besides being noise here, frames cost
// time: the SDK's run harness passes every error to util.inspect with colors,
// and on Node 20 that loops until the string overflows for @pulumi/pulumi's
// source-mapped frames (paths like node_modules/@pulumi/resource.ts, a scope
// without a package directory), so a failing preview used to wait 11 s or
// more before it printed the message.
import * as pulumi from "@pulumi/pulumi";

function withoutFrames<E extends Error>(e: E): E {
  Object.defineProperty(e, "stack", { value: `${e.name}: ${e.message}`, writable: true, configurable: true });
  return e;
}

/** A problem with the stack's configuration or a component's args, found before any resource exists. */
export function configError(message: string): pulumi.RunError {
  return withoutFrames(new pulumi.RunError(message));
}
