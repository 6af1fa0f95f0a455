// A Node.js language host for the Pulumi CLI, for machines where the official
// `pulumi-language-nodejs` cannot be built.
//
// Why: the Go module proxy serves the CLI (github.com/pulumi/pulumi/pkg/v3) but
// refuses the language host's untagged module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, 403 "This
// module version is not available"). The engine only needs a gRPC
// LanguageRuntime that can run the program, so this one implements the part of
// the protocol a `pulumi preview/up/refresh/destroy` of a Node.js project uses:
// Run (spawn @pulumi/pulumi's own `cmd/run`, exactly as the Go host does),
// RunPlugin for policy packs (`--policy-pack`: the CLI of this version runs a
// Node.js pack through the language host, which spawns @pulumi/pulumi's own
// `cmd/run-policy-pack`, as the Go host does), GetRequiredPackages,
// GetPluginInfo, InstallDependencies and About. Anything else answers
// UNIMPLEMENTED, which the CLI treats as "not supported".
//
// Run starts the program from a compiled cache where it can (compiled-program.ts).
//
// scripts/toolchain.sh puts a shim beside the built CLI that runs this file
// (compiled once, by start.sh).
//
// Protocol: the CLI starts us with the engine address as the last argument and
// reads our port from the first line of stdout.

import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as langproto from "@pulumi/pulumi/proto/language_pb";
import * as langrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import * as pluginproto from "@pulumi/pulumi/proto/plugin_pb";
import { traceMark, processStart } from "../../components/trace";
import { compiledProgram } from "./compiled-program";
import { findResourcePackages } from "./packages";
import { policyPackArguments, policyPackEnvironment, runArguments, runEnvironment } from "./run-args";

/** Exit code @pulumi/pulumi's cmd/run uses after it already showed the user an actionable error. */
const EXIT_ALREADY_REPORTED = 32;

const hostVersion: string = require("@pulumi/pulumi/package.json").version;

type Callback<T> = grpc.sendUnaryData<T>;

/** scripts/preload/defer-modules.js of the project that runs pulumi (IPV6GW_ROOT), when it has one. */
function deferModules(): string | undefined {
  const file = path.join(process.env.IPV6GW_ROOT ?? "", "scripts", "preload", "defer-modules.js");
  return process.env.IPV6GW_ROOT && fs.existsSync(file) ? file : undefined;
}

function programRunPath(programDirectory: string): string {
  return require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDirectory, __dirname] });
}

function run(engineAddress: string) {
  return (call: grpc.ServerUnaryCall<langproto.RunRequest, langproto.RunResponse>, cb: Callback<langproto.RunResponse>) => {
    const req = call.request;
    const info = req.getInfo();
    const programDirectory = info?.getProgramDirectory() || req.getPwd();
    const response = new langproto.RunResponse();
    let runPath: string;
    try {
      runPath = programRunPath(programDirectory);
    } catch (e) {
      response.setError(`could not find @pulumi/pulumi in ${programDirectory}: run npm ci there first (${String(e)})`);
      return cb(null, response);
    }
    const options = (info?.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>;
    const config: Record<string, string> = {};
    req.getConfigMap().forEach((value, key) => (config[key] = value));
    traceMark("host", "run", { dryRun: req.getDryrun() });
    const compileStart = Date.now();
    // From JavaScript compiled once (compiled-program.ts) unless that cannot be exact; then ts-node, as the Go host does.
    const noCache = (process.env.IPV6GW_NO_COMPILE_CACHE ?? "") !== "" && process.env.IPV6GW_NO_COMPILE_CACHE !== "0";
    const compiled = noCache ? { skipped: "IPV6GW_NO_COMPILE_CACHE is set" } : compiledProgram({ programDirectory, entryPoint: info?.getEntryPoint() || ".", options });
    traceMark("host", "compiled", { ms: Date.now() - compileStart, ...("program" in compiled ? { compiled: compiled.program.compiled } : { skipped: compiled.skipped.split("\n")[0] }) });
    const args = runArguments({
      runPath,
      monitor: req.getMonitorAddress(),
      engine: engineAddress,
      organization: req.getOrganization(),
      project: req.getProject(),
      rootDirectory: info?.getRootDirectory() ?? "",
      stack: req.getStack(),
      pwd: programDirectory,
      dryRun: req.getDryrun(),
      parallel: req.getParallel(),
      entryPoint: "program" in compiled ? compiled.program.entry : info?.getEntryPoint() || ".",
      programArgs: req.getArgsList(),
      // Compiled: stack traces still name the .ts files, as under ts-node.
      nodeargs: [typeof options.nodeargs === "string" ? options.nodeargs : "", "program" in compiled ? "--enable-source-maps" : ""].join(" "),
      preload: deferModules(),
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...runEnvironment({ config, secretKeys: req.getConfigsecretkeysList(), options }),
    };
    // Already JavaScript: cmd/run must not register ts-node for it.
    if ("program" in compiled) delete env.PULUMI_NODEJS_TYPESCRIPT;
    // stdout/stderr go straight to ours: the CLI shows them as the program's output.
    const child = childProcess.spawn(process.execPath, args, { cwd: programDirectory, env, stdio: ["ignore", "inherit", "inherit"] });
    call.on("cancelled", () => child.kill("SIGINT"));
    child.on("error", (err) => {
      response.setError(`Problem executing program (could not run language executor): ${err.message}`);
      cb(null, response);
    });
    child.on("exit", (code, signal) => {
      traceMark("host", "program-exit", { code });
      if (code === EXIT_ALREADY_REPORTED) {
        response.setBail(true);
      } else if (code !== 0) {
        response.setError(signal ? `Program was killed by ${signal}` : `Program exited with non-zero exit code: ${code}`);
      }
      cb(null, response);
    });
  };
}

/**
 * Runs a plugin written in Node.js. The CLI asks for it only for policy packs
 * (kind "analyzer"); the pack prints its port on stdout, which streams back to
 * the CLI like the rest of its output.
 */
function runPlugin(call: grpc.ServerWritableStream<langproto.RunPluginRequest, langproto.RunPluginResponse>): void {
  const req = call.request;
  const dir = req.getInfo()?.getProgramDirectory() ?? "";
  const fail = (message: string) => call.destroy(Object.assign(new Error(message), { code: grpc.status.FAILED_PRECONDITION }));
  if (req.getKind() !== "analyzer") {
    fail(`pulumi-language-nodejs (ipv6gw stand-in) runs only policy packs, not ${req.getKind() || "this"} plugin in ${dir}`);
    return;
  }
  let runPath: string;
  try {
    runPath = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [dir, __dirname] });
  } catch (e) {
    fail(`could not find @pulumi/pulumi for the policy pack in ${dir}: run npm ci there first (${String(e)})`);
    return;
  }
  const options = (req.getInfo()?.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>;
  const child = childProcess.spawn(process.execPath, policyPackArguments({ runPath, pluginArgs: req.getArgsList(), programDirectory: dir }), {
    cwd: dir,
    env: policyPackEnvironment(req.getEnvList(), options),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (b: Buffer) => call.write(new langproto.RunPluginResponse().setStdout(b)));
  child.stderr.on("data", (b: Buffer) => call.write(new langproto.RunPluginResponse().setStderr(b)));
  call.on("cancelled", () => child.kill("SIGTERM"));
  child.on("error", (err) => fail(`could not start the policy pack in ${dir}: ${err.message}`));
  child.on("close", (code, signal) => {
    call.write(new langproto.RunPluginResponse().setExitcode(code ?? (signal ? 128 : 1)));
    call.end();
  });
}

function getRequiredPackages(
  call: grpc.ServerUnaryCall<langproto.GetRequiredPackagesRequest, langproto.GetRequiredPackagesResponse>,
  cb: Callback<langproto.GetRequiredPackagesResponse>,
) {
  const dir = call.request.getInfo()?.getProgramDirectory() ?? process.cwd();
  const response = new langproto.GetRequiredPackagesResponse();
  for (const pkg of findResourcePackages(dir)) {
    const dep = new pluginproto.PackageDependency();
    dep.setName(pkg.name).setKind("resource").setVersion(pkg.version).setServer(pkg.server);
    response.addPackages(dep);
  }
  cb(null, response);
}

function getPluginInfo(_call: unknown, cb: Callback<pluginproto.PluginInfo>) {
  cb(null, new pluginproto.PluginInfo().setVersion(hostVersion));
}

function installDependencies(
  call: grpc.ServerWritableStream<langproto.InstallDependenciesRequest, langproto.InstallDependenciesResponse>,
) {
  const dir = call.request.getInfo()?.getProgramDirectory() || call.request.getDirectory();
  const lock = fs.existsSync(path.join(dir, "package-lock.json"));
  const child = childProcess.spawn("npm", [lock ? "ci" : "install"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (b: Buffer) => call.write(new langproto.InstallDependenciesResponse().setStdout(b)));
  child.stderr.on("data", (b: Buffer) => call.write(new langproto.InstallDependenciesResponse().setStderr(b)));
  child.on("exit", (code) => {
    if (code === 0) call.end();
    else call.destroy(new Error(`npm in ${dir} exited with code ${code}`));
  });
}

function about(_call: unknown, cb: Callback<langproto.AboutResponse>) {
  const response = new langproto.AboutResponse().setExecutable(process.execPath).setVersion(process.version);
  cb(null, response);
}

function handshake(_call: unknown, cb: Callback<langproto.LanguageHandshakeResponse>) {
  cb(null, new langproto.LanguageHandshakeResponse());
}

function main(argv: string[]): void {
  if (argv.includes("-version") || argv.includes("--version")) {
    console.log(`v${hostVersion}`);
    return;
  }
  traceMark("host", "start", {}, processStart());
  const positional = argv.filter((a) => !a.startsWith("-"));
  const engineAddress = positional[0] ?? "";

  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  // The generated service type lists every RPC; grpc-js answers UNIMPLEMENTED for the ones left out.
  server.addService(langrpc.LanguageRuntimeService, {
    run: run(engineAddress),
    runPlugin,
    getRequiredPackages,
    getPluginInfo,
    installDependencies,
    about,
    handshake,
  } as unknown as grpc.UntypedServiceImplementation);
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(`pulumi-language-nodejs: could not listen on 127.0.0.1: ${err.message}`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
    traceMark("host", "ready");
  });

  // The CLI kills us when it is done; if it dies first we are re-parented, so leave too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000).unref();
}

main(process.argv.slice(2));
