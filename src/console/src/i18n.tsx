import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { DICT } from './i18n-dict';

/** The console's two languages. */
export type Lang = 'en' | 'ja';
export const LANGS: Lang[] = ['en', 'ja'];
const STORE = 'tegami.lang';

/** The saved choice, else the browser's first preferred language we have, else English. */
export function initialLang(): Lang {
  const saved = localStorage.getItem(STORE);
  if (saved === 'en' || saved === 'ja') return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'ja' || base === 'en') return base;
  }
  return 'en';
}

interface I18n {
  lang: Lang;
  setLang(l: Lang): void;
  /** Translates a key; `{name}` placeholders are filled from vars. */
  t(key: string, vars?: Record<string, string | number>): string;
  /** Dates and numbers in the current language. */
  date(ms: number | null | undefined): string;
  num(n: number | null | undefined): string;
}

const Ctx = createContext<I18n | null>(null);

/** Provides the language to the tree and keeps <html lang> in step. */
export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => { document.documentElement.lang = lang; }, [lang]);
  const value = useMemo<I18n>(() => {
    const i = lang === 'ja' ? 1 : 0;
    const locale = lang === 'ja' ? 'ja-JP' : 'en-GB';
    const dtf = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    const nf = new Intl.NumberFormat(locale);
    return {
      lang,
      setLang(l) { localStorage.setItem(STORE, l); setLangState(l); },
      t(key, vars) {
        let s = DICT[key]?.[i] ?? key;
        if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
        return s;
      },
      date: (ms) => (ms === null || ms === undefined ? '—' : dtf.format(new Date(Number(ms)))),
      num: (n) => (n === null || n === undefined ? '—' : nf.format(n)),
    };
  }, [lang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The current language's helpers. */
export function useI18n(): I18n {
  const c = useContext(Ctx);
  if (!c) throw new Error('I18nProvider missing');
  return c;
}

/** The language switch: a labelled select, usable by keyboard. */
export function LangSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang">
      <span>{t('language')}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="lang-switch">
        <option value="en">English</option>
        <option value="ja">日本語</option>
      </select>
    </label>
  );
}
