/** The one-click URL previews render in place of a recipient's own. */
export const PREVIEW_UNSUBSCRIBE_URL = 'https://example.invalid/u/preview';
