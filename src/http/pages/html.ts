/** Escapes text for HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The language of a page from Accept-Language: Japanese or English (default). */
export function pageLang(acceptLanguage: string | undefined): 'ja' | 'en' {
  const first = (acceptLanguage ?? '').split(',').map((p) => p.trim().split(';')[0].toLowerCase()).find(Boolean) ?? '';
  return first.startsWith('ja') ? 'ja' : 'en';
}

/** A plain, self-contained page: no external assets, no scripts, no cookies. */
export function page(lang: 'ja' | 'en', title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="robots" content="noindex"><title>${esc(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.6}`
    + `button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#222;color:#fff;cursor:pointer}`
    + `button.secondary{background:#fff;color:#222}label{display:block;margin:.4rem 0}small{color:#666}</style></head><body>${body}</body></html>`;
}
