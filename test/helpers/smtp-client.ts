import SMTPConnection from 'nodemailer/lib/smtp-connection';

/** Sends one message over a real SMTP session (nodemailer's client); returns the reply or the error text. */
export async function smtpSend(port: number, from: string, to: string | string[], body: string | Buffer): Promise<{ ok: boolean; text: string }> {
  const c = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, connectionTimeout: 5000 } as never);
  c.on('error', () => {});
  await new Promise<void>((res, rej) => c.connect((e?: Error) => (e ? rej(e) : res())));
  try {
    const info = await new Promise<{ response: string }>((res, rej) => c.send({ from, to: Array.isArray(to) ? to : [to] }, body, (e: any, i: any) => (e ? rej(e) : res(i))));
    return { ok: true, text: info.response };
  } catch (e) {
    return { ok: false, text: (e as { response?: string }).response ?? String(e) };
  } finally {
    c.quit();
  }
}
