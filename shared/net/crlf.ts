// The CRLF framing shared by the text protocols the agents speak natively (HTTP/1.1, Redis RESP).

/** Where the next CRLF starts at or after `from`, in bytes; -1 while it has not arrived. */
export function indexOfCrLf(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  return -1;
}
