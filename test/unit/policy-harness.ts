// Runs policies the way the policy SDK runs them for the engine: requests
// built as the CLI sends them (protobuf, unknowns as the engine's sentinel),
// answered by @pulumi/policy's own Analyze and AnalyzeStack handlers, which
// deserialize, wrap props in the unknown-checking proxy, apply enforcement
// levels and collect violations and "not applicable" answers. The SDK ships
// no test helpers; these handlers are its own dispatch (server.js exports).

import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import { Policies } from "@pulumi/policy";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/** The value the engine sends for a property unknown at preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface Diagnostic {
  readonly policy: string;
  readonly level: "advisory" | "mandatory" | "disabled" | "remediate";
  /** What the policy reported (the SDK puts the policy's description on a line before it, as the CLI shows). */
  readonly message: string;
  readonly urn: string;
}

export interface Answer {
  readonly violations: Diagnostic[];
  readonly notApplicable: { policy: string; reason: string }[];
}

type Handler = (call: { request: unknown }, callback: (err: unknown, resp?: analyzerproto.AnalyzeResponse) => void) => void;

const server = require("@pulumi/policy/server") as {
  makeAnalyzeRpcFun(pack: string, version: string, level: string, policies: Policies): Handler;
  makeAnalyzeStackRpcFun(pack: string, version: string, level: string, policies: Policies): Handler;
};

const LEVELS = { [analyzerproto.EnforcementLevel.ADVISORY]: "advisory", [analyzerproto.EnforcementLevel.MANDATORY]: "mandatory", [analyzerproto.EnforcementLevel.DISABLED]: "disabled", [analyzerproto.EnforcementLevel.REMEDIATE]: "remediate" } as const;

function answer(handler: Handler, request: unknown): Promise<Answer> {
  return new Promise((resolve, reject) =>
    handler({ request }, (err, resp) => {
      if (err || !resp) return reject(err);
      resolve({
        violations: resp.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: LEVELS[d.getEnforcementlevel()], message: d.getMessage().startsWith(`${d.getDescription()}\n`) ? d.getMessage().slice(d.getDescription().length + 1) : d.getMessage(), urn: d.getUrn() })),
        notApplicable: resp.getNotApplicableList().map((n) => ({ policy: n.getPolicyName(), reason: n.getReason() })),
      });
    }),
  );
}

export interface TestResource {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  /** The parent's name (a URN is made from it). */
  readonly parent?: string;
}

const urnOf = (r: Pick<TestResource, "type" | "name">) => `urn:pulumi:test::ipv6gw::${r.type}::${r.name}`;

/** Plain JSON for a protobuf Struct (undefined fields dropped, as the engine does). */
const struct = (props: Record<string, unknown>) => Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));

/** One resource through every resource policy, as at preview. */
export function analyze(policies: Policies, r: TestResource): Promise<Answer> {
  const req = new analyzerproto.AnalyzeRequest()
    .setType(r.type)
    .setName(r.name)
    .setUrn(urnOf(r))
    .setProperties(struct(r.props))
    .setOptions(new analyzerproto.AnalyzerResourceOptions());
  return answer(server.makeAnalyzeRpcFun("ipv6gw", "0.1.0", "advisory", policies), req);
}

/** A whole stack through every stack policy. */
export function analyzeStack(policies: Policies, resources: readonly TestResource[]): Promise<Answer> {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const req = new analyzerproto.AnalyzeStackRequest().setResourcesList(
    resources.map((r) =>
      new analyzerproto.AnalyzerResource()
        .setType(r.type)
        .setName(r.name)
        .setUrn(urnOf(r))
        .setProperties(struct(r.props))
        .setOptions(new analyzerproto.AnalyzerResourceOptions())
        .setParent(r.parent ? urnOf(byName.get(r.parent)!) : ""),
    ),
  );
  return answer(server.makeAnalyzeStackRpcFun("ipv6gw", "0.1.0", "advisory", policies), req);
}
