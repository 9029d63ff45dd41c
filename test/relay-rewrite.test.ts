import { describe, expect, it } from 'vitest';
import { matchFilter, validateFilter } from '../src/inbound/relay/filters.js';
import { dkimSignedNames, normalizeLineEnds, splitMessage } from '../src/inbound/relay/message-headers.js';
import { rewriteRelayed, type RelayPlan } from '../src/inbound/relay/rewrite.js';
import { TegamiError } from '../src/domain/errors.js';

const MSG = [
  'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=c; h=From:To:Subject:\r\n List-Unsubscribe; bh=x; b=y',
  'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=d; h=from:to:subject; bh=x; b=y',
  'From: News <news@example.com>', 'To: a@example.net', 'Subject: Hi', 'Bcc: hidden@example.net',
  'X-Tegami-List: weekly', 'List-Unsubscribe: <mailto:old@example.com>', 'Feedback-ID: theirs', '', 'body line', '',
].join('\r\n');
const plan = (p: Partial<RelayPlan> = {}): RelayPlan => ({
  category: 'subscription', listId: 'lst_1', oneClick: true, remove: ['x-tegami-list'], received: 'Received: from h ([127.0.0.1])\r\n\tby me; date',
  messageId: '<new@example.com>', date: 'Mon, 23 Nov 2026 10:00:00 +0000', warnings: [], ...p,
});

describe('relayed message rewrite (issue 7 items 2, 5)', () => {
  it('replaces list headers, drops filter headers, Bcc and the client signature over a changed header; keeps the body', () => {
    const { raw, droppedSignatures } = rewriteRelayed(Buffer.from(MSG), plan(), {
      listUnsubscribe: '<https://u.example.com/u/T>, <mailto:u+T@bounces.example.com?subject=unsubscribe>', listId: '"News" <news.example.com>', feedbackId: 'relay:a:subscription:tegami',
    });
    const s = raw.toString();
    expect(droppedSignatures).toBe(1);
    expect(s).not.toContain('s=c;');
    expect(s).toContain('s=d;');
    expect(s.startsWith('Received: from h ([127.0.0.1])\r\n\tby me; date\r\n')).toBe(true);
    for (const gone of ['X-Tegami-List', 'Bcc:', 'old@example.com', 'Feedback-ID: theirs']) expect(s).not.toContain(gone);
    expect(s.match(/^List-Unsubscribe:/gm)).toHaveLength(1);
    expect(s).toContain('\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
    expect(s).toContain('\r\nList-Id: "News" <news.example.com>\r\n');
    expect(s).toContain('\r\nMessage-ID: <new@example.com>\r\n');
    expect(s.endsWith('\r\n\r\nbody line\r\n')).toBe(true);
  });

  it('transactional mail keeps the client list headers and its signatures; the Cc guard withholds one-click', () => {
    const t = rewriteRelayed(Buffer.from(MSG), plan({ category: 'transactional', listId: null, messageId: null, date: null }), { listUnsubscribe: null, listId: null, feedbackId: 'f' });
    expect(t.droppedSignatures).toBe(0);
    expect(t.raw.toString()).toContain('List-Unsubscribe: <mailto:old@example.com>');
    const g = rewriteRelayed(Buffer.from(MSG), plan({ oneClick: false }), { listUnsubscribe: null, listId: '<l.example.com>', feedbackId: 'f' }).raw.toString();
    expect(g).not.toMatch(/^List-Unsubscribe/m);
  });

  it('drops a client signature with l= (R-AUTH-7) even when it covers nothing changed', () => {
    const m = Buffer.from('DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=l; l=10; h=from; bh=x; b=y\r\nFrom: a@example.com\r\n\r\nbody\r\n');
    const r = rewriteRelayed(m, plan({ category: 'transactional', listId: null, remove: [] }), { listUnsubscribe: null, listId: null, feedbackId: 'f' });
    expect(r.droppedSignatures).toBe(1);
    expect(r.raw.toString()).not.toContain('s=l;');
  });

  it('parses fields, h= lists and line ends', () => {
    expect(dkimSignedNames('v=1; h=From : To:\r\n\tList-Unsubscribe ; b=x')).toEqual(['from', 'to', 'list-unsubscribe']);
    expect(normalizeLineEnds(Buffer.from('A: b\nC: d\r\n\nx\n')).toString()).toBe('A: b\r\nC: d\r\n\r\nx\r\n');
    expect(() => splitMessage(Buffer.from('not a header\r\n\r\nbody'))).toThrow(TegamiError);
    expect(splitMessage(Buffer.from('Subject: a\r\n b\r\n\r\n')).fields).toEqual([{ key: 'subject', raw: 'Subject: a\r\n b' }]);
  });
});

describe('relay filters (購読解除フィルタ)', () => {
  const fields = splitMessage(Buffer.from('From: a@example.com\r\nX-List: weekly\r\nX-Campaign: promo-7\r\n\r\n')).fields;
  const rules = [
    { id: '1', header: 'x-list', match: 'exact', value: 'Weekly', list_id: 'l1' },
    { id: '2', header: 'x-campaign', match: 'regex', value: '^promo-\\d+$', list_id: 'l2' },
    { id: '3', header: 'x-list', match: 'exact', value: 'weekly', list_id: 'l3' },
  ];
  it('takes the first rule in order; exact is case-sensitive; no match is transactional', () => {
    expect(matchFilter(rules, fields)?.id).toBe('2');
    expect(matchFilter([rules[0], rules[2]], fields)?.id).toBe('3');
    expect(matchFilter([rules[0]], fields)).toBeNull();
  });
  it('validates header names, match kinds and patterns with E_RELAY_FILTER', () => {
    expect(validateFilter({ header: 'X-Tegami-List', match: 'exact', value: 'a' })).toBe('x-tegami-list');
    for (const bad of [{ header: 'X A', match: 'exact', value: 'a' }, { header: 'DKIM-Signature', match: 'exact', value: 'a' }, { header: 'X', match: 'glob', value: 'a' },
      { header: 'X', match: 'regex', value: '[' }, { header: 'X', match: 'exact', value: 'a\r\nb' }, { header: 'X', match: 'exact', value: 'a'.repeat(201) }]) {
      expect(() => validateFilter(bad)).toThrow(expect.objectContaining({ code: 'E_RELAY_FILTER' }));
    }
  });
});
