// Types of the mailauth internals tegami signs with (src/render/mailauth-parts.ts); mailauth ships none for them.
declare module 'mailauth/lib/tools.js' {
  const tools: {
    parseHeaders(buf: Buffer): { parsed: Array<{ key: string; casedKey: string; line: Buffer }> };
    getSigningHeaderLines(parsed: unknown[], fieldNames: string, verify: boolean): { keys: string; headers: Array<{ key: string; casedKey: string; line: Buffer }> };
    formatSignatureHeaderLine(type: string, values: Record<string, unknown>, folded: boolean): string;
    formatRelaxedLine(line: Buffer | string, suffix?: string): Buffer;
    stripSignatureValue(line: Buffer | string, strict?: boolean): Buffer;
  };
  export default tools;
}
declare module 'mailauth/lib/dkim/header/index.js' {
  const header: {
    generateCanonicalizedHeader(type: string, lines: { keys: string; headers: Array<{ key: string; casedKey: string; line: Buffer }> }, opts: Record<string, unknown>): {
      canonicalizedHeader: Buffer;
      dkimHeaderOpts: Record<string, unknown>;
    };
  };
  export default header;
}
declare module 'mailauth/lib/dkim/body/index.js' {
  const body: {
    dkimBody(canon: string, hashAlgo: string, maxBodyLength: number | false): { update(chunk: Buffer): void; digest(enc: 'base64'): string };
  };
  export default body;
}
declare module 'mailauth/lib/dkim/header/signature-opts.js' {
  const signatureOpts: {
    buildSignatureOpts(type: string, lines: { keys: string }, opts: Record<string, unknown>): { opts: Record<string, unknown>; signatureHeaderLine: string };
  };
  export default signatureOpts;
}
