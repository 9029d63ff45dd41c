import { createContext, useContext } from 'react';

/** What GET /v1/session answers. */
export interface Session {
  user: { id: string; email: string; role: 'admin' | 'editor' | 'viewer' };
  account: { id: string; name: string | null };
  scopes: string[];
  csrf_token: string;
  expires_at: number;
}

export const SessionCtx = createContext<Session | null>(null);

/** The logged-in session and what its role may do (the API enforces it; the UI hides what would fail). */
export function useSession() {
  const s = useContext(SessionCtx);
  if (!s) throw new Error('no session');
  const admin = s.scopes.includes('admin');
  return { ...s, canWrite: admin || s.scopes.includes('write'), isAdmin: admin };
}
