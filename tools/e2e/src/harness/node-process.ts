// Child processes are started with the test kit's harness (`startNodeProcess` from
// @grpc-proxy/testing); what is left here reads this suite's programs' output.

/** Finds `host:port` in a "listening" line (plain text or a JSON log line). */
export function parseListeningAddress(line: string): string | undefined {
  if (!/listening/i.test(line)) return undefined;
  const match = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]|localhost):(\d{1,5})/i.exec(line);
  return match ? `${match[1]}:${match[2]}` : undefined;
}
