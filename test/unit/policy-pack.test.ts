// The policy pack as the CLI runs it: compiled as a fleet run compiles it,
// started with @pulumi/pulumi's own cmd/run-policy-pack (what the language
// host's RunPlugin spawns), and spoken to over gRPC as the engine does:
// Configure with a stack's policy config (--policy-pack-config), then Analyze.
// No lab: only this machine's loopback.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { firewallTable } from "../../components/firewall/firewall";
import { FIREWALL_TYPE, firewallInputs } from "../../components/firewall/firewall-inputs";
import { compiledPolicyPack } from "../../scripts/fleet/policy-pack";

const root = path.join(__dirname, "../..");
let pack: ChildProcess;
let client: analyzerrpc.AnalyzerClient;

const call = <Req, Res>(method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> =>
  new Promise((resolve, reject) => method.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));

beforeAll(async () => {
  const dir = compiledPolicyPack(root);
  pack = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", dir], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout!.once("data", (b: Buffer) => resolve(b.toString().trim()));
    pack.once("exit", (code) => reject(new Error(`the policy pack exited (${code}) before it listened`)));
  });
  client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

function configure(config: Record<string, { level: analyzerproto.EnforcementLevel; properties?: Record<string, unknown> }>) {
  const req = new analyzerproto.ConfigureAnalyzerRequest();
  for (const [name, c] of Object.entries(config)) {
    req.getPolicyconfigMap().set(name, new analyzerproto.PolicyConfig().setEnforcementlevel(c.level).setProperties(Struct.fromJavaScript((c.properties ?? {}) as never)));
  }
  return call(client.configure, req);
}

async function analyzeTelnetIn(): Promise<{ policy: string; level: analyzerproto.EnforcementLevel }[]> {
  const rules = [{ name: "telnet-in", action: "accept", protocol: "tcp", port: 23 }] as const;
  const props = firewallInputs({ preset: "howto", icmpv6: true, lanInterface: "eth0", table: firewallTable({ lanInterface: "eth0", rules: [...rules] }), siteRules: ["telnet-in"] });
  const req = new analyzerproto.AnalyzeRequest()
    .setType(FIREWALL_TYPE)
    .setName("site-firewall")
    .setUrn(`urn:pulumi:lab::ipv6gw::${FIREWALL_TYPE}::site-firewall`)
    .setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(props))))
    .setOptions(new analyzerproto.AnalyzerResourceOptions());
  const res = await call<analyzerproto.AnalyzeRequest, analyzerproto.AnalyzeResponse>(client.analyze, req);
  return res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel() }));
}

describe("the compiled policy pack, served as the CLI serves it", () => {
  it("names itself and its policies with their default levels", async () => {
    const info = await call<Empty, analyzerproto.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    expect(info.getName()).toBe("ipv6gw");
    expect(Object.fromEntries(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]))).toEqual({
      "management-lockout": analyzerproto.EnforcementLevel.MANDATORY,
      "rfc4890-icmpv6": analyzerproto.EnforcementLevel.MANDATORY,
      "rfc4890-icmpv6-other-presets": analyzerproto.EnforcementLevel.ADVISORY,
      "no-unrestricted-inbound": analyzerproto.EnforcementLevel.ADVISORY,
      "forwarding-needs-firewall": analyzerproto.EnforcementLevel.MANDATORY,
      "one-radvd": analyzerproto.EnforcementLevel.MANDATORY,
      "secret-config-is-secret": analyzerproto.EnforcementLevel.MANDATORY,
    });
  });

  it("takes a stack's own enforcement levels and settings: advisory by default, mandatory, allowed, or off", async () => {
    await configure({});
    expect(await analyzeTelnetIn()).toEqual([{ policy: "no-unrestricted-inbound", level: analyzerproto.EnforcementLevel.ADVISORY }]);
    await configure({ "no-unrestricted-inbound": { level: analyzerproto.EnforcementLevel.MANDATORY } });
    expect(await analyzeTelnetIn()).toEqual([{ policy: "no-unrestricted-inbound", level: analyzerproto.EnforcementLevel.MANDATORY }]);
    await configure({ "no-unrestricted-inbound": { level: analyzerproto.EnforcementLevel.MANDATORY, properties: { allow: ["telnet-in"] } } });
    expect(await analyzeTelnetIn()).toEqual([]);
    await configure({ "no-unrestricted-inbound": { level: analyzerproto.EnforcementLevel.DISABLED } });
    expect(await analyzeTelnetIn()).toEqual([]);
  });
});
