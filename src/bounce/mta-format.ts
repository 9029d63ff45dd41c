/**
 * Names the software or service that wrote a bounce, from its sender, subject, headers and the
 * first lines of its text. Only informative (logs, the bounce log API, per-format statistics):
 * parsing never depends on it, so an unknown MTA is read the same way as a known one.
 */

/** What a format signature looks at. */
export interface FormatInput {
  from: string;
  subject: string;
  headers: string;
  text: string;
  hasDsnPart: boolean;
  /** headers and text together (filled by detectFormat). */
  all?: string;
}

type Sig = [format: string, test: (i: Required<FormatInput>) => boolean];

const SIGNATURES: Sig[] = [
  ['amazonses', (i) => /amazonses\.com/i.test(i.from) || /^x-ses-outgoing:/im.test(i.headers)],
  ['office365', (i) => /outlook\.com|office365|protection\.outlook/i.test(i.headers) && /microsoft|outlook/i.test(i.text + i.from) || /Diagnostic information for administrators/i.test(i.text)],
  ['exchange', (i) => /x-ms-exchange|x-mimeole: produced by microsoft exchange/i.test(i.headers) || /did not reach the following recipient|Your message did not reach some or all|MSEXCH:/i.test(i.text)],
  ['gmail', (i) => /mailer-daemon@(googlemail|google)\.com/i.test(i.from) || /Delivery to the following recipient (failed|has been delayed)/i.test(i.text)],
  ['yahoo', (i) => /yahoo(inc)?\.(com|co\.jp)|aol\.com/i.test(i.from) && /MAILER-DAEMON/i.test(i.from) || /Sorry, we were unable to deliver your message/i.test(i.text)],
  ['postfix', (i) => /This is the mail system at host|\(Postfix\)|X-Postfix-Queue-ID/i.test(i.all) && /mail system|postfix/i.test(i.text)],
  ['exim', (i) => /This message was created automatically by mail delivery software|^X-Failed-Recipients:/im.test(i.all)],
  ['qmail', (i) => /This is the qmail-send program|qmail-send|Hi\. This is the/i.test(i.text)],
  ['sendmail', (i) => /The following addresses had permanent fatal errors|Transcript of session follows|The original message was received at/i.test(i.text)],
  ['courier', (i) => /Courier mail server|courier-mta/i.test(i.all)],
  ['domino', (i) => /Lotus Domino|Notes|Domino/i.test(i.from + i.headers) && /delivery failure|not delivered/i.test(i.subject + i.text)],
  ['dragonfly', (i) => /DragonFly Mail Agent/i.test(i.text)],
  ['opensmtpd', (i) => /OpenSMTPD|This is the MAILER-DAEMON, please DO NOT REPLY/i.test(i.text)],
  ['mailru', (i) => /mail\.ru/i.test(i.from)],
  ['yandex', (i) => /yandex/i.test(i.from)],
  ['gmx', (i) => /gmx\.(com|net|de)|web\.de/i.test(i.from)],
  ['einsundeins', (i) => /1and1|kundenserver|1und1/i.test(i.from + i.text)],
  ['googlegroups', (i) => /Google Groups|groups\.google/i.test(i.text)],
  ['imailserver', (i) => /IMail/i.test(i.headers) || /Original message follows\./i.test(i.text)],
  ['kddi', (i) => /dion\.ne\.jp|ezweb\.ne\.jp|au\.com|kddi/i.test(i.from)],
  ['docomo', (i) => /docomo\.ne\.jp/i.test(i.from)],
  ['zoho', (i) => /zoho/i.test(i.from + i.headers)],
  ['verizon', (i) => /verizon/i.test(i.from)],
  ['messagingserver', (i) => /Oracle Communications Messaging Server|Sun Java|iPlanet|Messaging Server/i.test(i.all)],
  ['powermta', (i) => /PowerMTA/i.test(i.all)],
  ['sendgrid', (i) => /sendgrid/i.test(i.from + i.headers)],
  ['mailgun', (i) => /mailgun/i.test(i.from + i.headers)],
  ['barracuda', (i) => /barracuda/i.test(i.all)],
  ['trendmicro', (i) => /InterScan|Trend Micro/i.test(i.all)],
  ['mailmarshal', (i) => /MailMarshal/i.test(i.all)],
  ['mcafee', (i) => /McAfee/i.test(i.all)],
  ['activehunter', (i) => /Active!Hunter/i.test(i.all)],
  ['fml', (i) => /fml|mailing list/i.test(i.headers) || /not a member of this mailing list/i.test(i.text)],
  ['v5sendmail', (i) => /----- Unsent message follows -----/i.test(i.text)],
];

/** The format name (`rfc3464` for a standard DSN from an unrecognised MTA, `text` otherwise). */
export function detectFormat(i: FormatInput): string {
  // Signatures sit in the first lines of the text and the top of the header.
  const text = i.text.slice(0, 3000);
  const headers = i.headers.slice(0, 6000);
  // One flat string for the signatures that look at both (a concatenation per test was the cost).
  const slice: Required<FormatInput> = { ...i, text, headers, all: `${headers}\n${text}` };
  for (const [name, test] of SIGNATURES) if (test(slice)) return name;
  return i.hasDsnPart ? 'rfc3464' : 'text';
}
