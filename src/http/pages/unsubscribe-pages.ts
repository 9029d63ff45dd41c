import type { UnsubscribeTarget } from '../../core/unsubscribe.js';
import { esc, page } from './html.js';

const T = {
  en: {
    confirmTitle: 'Unsubscribe', confirm: (s: string, l: string) => `Stop receiving <strong>${l}</strong> from <strong>${s}</strong> at this address?`,
    button: 'Unsubscribe', prefs: 'Manage all your subscriptions', doneTitle: 'You are unsubscribed',
    done: (s: string, l: string) => `You will no longer receive <strong>${l}</strong> from <strong>${s}</strong>.`,
    mistake: 'Unsubscribed by mistake?', resubscribe: 'Resubscribe', resubTitle: 'You are subscribed again',
    resub: (l: string) => `You will receive <strong>${l}</strong> again.`, allMail: 'all subscription mail',
    prefsTitle: 'Your subscriptions', save: 'Save', stopAll: 'Stop all subscription mail from this sender', saved: 'Saved.',
    notFoundTitle: 'Link not valid', notFound: 'This link is not valid. If you copied it, make sure it is complete, or reply to the sender to be removed.',
  },
  ja: {
    confirmTitle: '配信停止', confirm: (s: string, l: string) => `このアドレスへの <strong>${s}</strong> からの <strong>${l}</strong> の配信を停止しますか？`,
    button: '配信を停止する', prefs: '購読の設定を変更する', doneTitle: '配信を停止しました',
    done: (s: string, l: string) => `<strong>${s}</strong> からの <strong>${l}</strong> は今後届きません。`,
    mistake: '誤って停止しましたか？', resubscribe: '購読を再開する', resubTitle: '購読を再開しました',
    resub: (l: string) => `<strong>${l}</strong> の配信を再開しました。`, allMail: 'すべての購読メール',
    prefsTitle: '購読の設定', save: '保存する', stopAll: 'この送信者からの購読メールをすべて停止する', saved: '保存しました。',
    notFoundTitle: '無効なリンク', notFound: 'このリンクは無効です。コピーした場合は途中で切れていないかご確認ください。',
  },
};

type Lang = keyof typeof T;
const listLabel = (lang: Lang, t: UnsubscribeTarget) => esc(t.listName ?? T[lang].allMail);

/** GET /u/TOKEN: a confirmation page whose button POSTs; it never changes anything (R-UNSUB-7). */
export function confirmPage(lang: Lang, t: UnsubscribeTarget, action: string): string {
  const s = T[lang];
  return page(lang, s.confirmTitle, `<h1>${s.confirmTitle}</h1><p>${s.confirm(esc(t.accountName), listLabel(lang, t))}</p>`
    + `<p><small>${esc(t.address)}</small></p><form method="post" action="${esc(action)}"><button type="submit">${s.button}</button></form>`
    + `<p><a href="${esc(action)}/preferences">${s.prefs}</a></p>`);
}

/** After the POST: done, with "Unsubscribed by mistake? Resubscribe" (issue 4 item 4). */
export function donePage(lang: Lang, t: UnsubscribeTarget, action: string): string {
  const s = T[lang];
  return page(lang, s.doneTitle, `<h1>${s.doneTitle}</h1><p>${s.done(esc(t.accountName), listLabel(lang, t))}</p>`
    + `<form method="post" action="${esc(action)}/resubscribe"><p>${s.mistake}</p><button class="secondary" type="submit">${s.resubscribe}</button></form>`
    + `<p><a href="${esc(action)}/preferences">${s.prefs}</a></p>`);
}

/** After a resubscribe. */
export function resubscribedPage(lang: Lang, t: UnsubscribeTarget, action: string): string {
  const s = T[lang];
  return page(lang, s.resubTitle, `<h1>${s.resubTitle}</h1><p>${s.resub(listLabel(lang, t))}</p><p><a href="${esc(action)}/preferences">${s.prefs}</a></p>`);
}

/** The preference centre: one checkbox per list, plus account-wide stop (R-UNSUB-8). */
export function preferencesPage(lang: Lang, p: { target: UnsubscribeTarget; all: boolean; lists: Array<{ id: string; name: string; subscribed: boolean }> }, action: string, saved = false): string {
  const s = T[lang];
  const boxes = p.lists.map((l) => `<label><input type="checkbox" name="list" value="${esc(l.id)}"${l.subscribed ? ' checked' : ''}> ${esc(l.name)}</label>`).join('');
  return page(lang, s.prefsTitle, `<h1>${s.prefsTitle}</h1><p><strong>${esc(p.target.accountName)}</strong> — <small>${esc(p.target.address)}</small></p>`
    + (saved ? `<p role="status">${s.saved}</p>` : '')
    + `<form method="post" action="${esc(action)}/preferences">${boxes}<hr><label><input type="checkbox" name="all" value="stop"${p.all ? ' checked' : ''}> ${s.stopAll}</label>`
    + `<p><button type="submit">${s.save}</button></p></form>`);
}

/** The same 404 page for every invalid token: it never says which part failed. */
export function notFoundPage(lang: Lang): string {
  const s = T[lang];
  return page(lang, s.notFoundTitle, `<h1>${s.notFoundTitle}</h1><p>${s.notFound}</p>`);
}
