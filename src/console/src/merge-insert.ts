import { useLayoutEffect, useRef } from 'react';

type FieldKey = 'subject' | 'html' | 'text';
type Fields = Record<FieldKey, string>;

/**
 * Insert a merge-field token at the caret of the field that last had focus.
 * The caret is put back in the same commit (useLayoutEffect), not in a timer:
 * a delayed re-focus could steal the focus from whatever field the user (or a
 * test) moves to right after clicking, and send their typing to the wrong field.
 */
export function useMergeInsert<F extends Fields>(f: F, setF: (next: F) => void) {
  const focused = useRef<FieldKey>('html');
  const refs = {
    subject: useRef<HTMLInputElement>(null),
    html: useRef<HTMLTextAreaElement>(null),
    text: useRef<HTMLTextAreaElement>(null),
  };
  const caret = useRef<{ key: FieldKey; at: number } | null>(null);
  useLayoutEffect(() => {
    const c = caret.current;
    if (!c) return;
    caret.current = null;
    const el = refs[c.key].current;
    el?.focus();
    el?.setSelectionRange(c.at, c.at);
  });
  const insert = (token: string) => {
    const k = focused.current;
    const el = refs[k].current;
    const v = f[k];
    const at = el?.selectionStart ?? v.length;
    caret.current = { key: k, at: at + token.length };
    setF({ ...f, [k]: v.slice(0, at) + token + v.slice(el?.selectionEnd ?? at) });
  };
  const onFocus = (k: FieldKey) => () => { focused.current = k; };
  return { refs, insert, onFocus };
}
