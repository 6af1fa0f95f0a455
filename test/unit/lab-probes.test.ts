import { parseProbeOutput, probeScript } from "../../lab/probes";

describe("probe loop", () => {
  it("parses each attempt with its start time, in time order", () => {
    const out = [
      "1700000000.500000 ping 2001:db8::1 - 0 From 2001:db8:ffff::fe icmp_seq=1 Destination unreachable: Administratively prohibited",
      "1700000000.300000 tcp 2001:db8::1 80 0 nc: connect to 2001:db8::1 port 80 (tcp) failed: Permission denied",
      "1700000000.700000 tcp 192.0.2.12 22 1 Connection to 192.0.2.12 22 port [tcp/ssh] succeeded!",
      "garbage",
    ].join("\n");
    expect(parseProbeOutput(out)).toEqual([
      { at: 1700000000300, kind: "tcp", address: "2001:db8::1", port: 80, ok: false, detail: "nc: connect to 2001:db8::1 port 80 (tcp) failed: Permission denied" },
      {
        at: 1700000000500,
        kind: "ping",
        address: "2001:db8::1",
        ok: false,
        detail: "From 2001:db8:ffff::fe icmp_seq=1 Destination unreachable: Administratively prohibited",
      },
      { at: 1700000000700, kind: "tcp", address: "192.0.2.12", port: 22, ok: true, detail: "Connection to 192.0.2.12 22 port [tcp/ssh] succeeded!" },
    ]);
  });

  it("refuses targets that are not addresses, so nothing unquoted reaches the script", () => {
    expect(() => probeScript([{ address: "2001:db8::1; reboot" }], 200, 60)).toThrow("is not an IP address");
    expect(() => probeScript([{ address: "2001:db8::1", port: 70000 }], 200, 60)).toThrow("bad port");
    expect(() => probeScript([{ address: "2001:db8::1" }], 10, 60)).toThrow("interval must be >= 50 ms");
  });

  it("bounds itself in time and stops on a line or EOF on stdin", () => {
    const s = probeScript([{ address: "2001:db8::1", port: 80 }], 200, 60);
    expect(s).toContain("end=$((SECONDS + 60))");
    expect(s).toContain("read -r -t 0.200 _; [ $? -gt 128 ] || break");
  });
});
