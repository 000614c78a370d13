/** The login form: ticket or WAMP-CRA, shown when the router refuses anonymous visitors or when asked for. */
import { useState } from 'preact/hooks';
import type { Credentials } from './wamp.ts';

interface Props {
  problem?: string;
  /** A session is open: the form can be closed without logging in. */
  canCancel: boolean;
  onCancel(): void;
  onAnonymous(): void;
  onLogin(credentials: Credentials): Promise<void>;
}

export function LoginForm({ problem, canCancel, onCancel, onAnonymous, onLogin }: Props) {
  const [method, setMethod] = useState<'ticket' | 'wampcra'>('ticket');
  const [authid, setAuthid] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || authid === '') return;
    setBusy(true);
    try {
      await onLogin({ method, authid, secret });
    } finally {
      // Still here: the login was refused; the secret is not kept in the form.
      setSecret('');
      setBusy(false);
    }
  };

  return (
    <form id="login" class="login" onSubmit={submit} autocomplete="on">
      <h2>Log in</h2>
      {problem && (
        <p class="problem" id="login-problem" role="alert">
          {problem}
        </p>
      )}
      <label>
        Method
        <select id="login-method" value={method} onChange={(e) => setMethod(e.currentTarget.value === 'wampcra' ? 'wampcra' : 'ticket')}>
          <option value="ticket">Ticket</option>
          <option value="wampcra">WAMP-CRA (challenge-response)</option>
        </select>
      </label>
      <label>
        Auth ID
        <input
          id="login-authid"
          name="username"
          autocomplete="username"
          required
          value={authid}
          onInput={(e) => setAuthid(e.currentTarget.value)}
        />
      </label>
      <label>
        {method === 'ticket' ? 'Ticket' : 'Secret'}
        <input
          id="login-secret"
          name="password"
          type="password"
          autocomplete="current-password"
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
      </label>
      <div class="actions">
        <button type="submit" id="login-submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        {canCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : (
          <button type="button" id="login-anonymous" onClick={onAnonymous}>
            Try anonymously
          </button>
        )}
      </div>
    </form>
  );
}
