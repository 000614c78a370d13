/**
 * The Kreuz dashboard page: reads its realm and WebSocket URL from the
 * <meta name="kreuz-dashboard"> the router writes into index.html, joins
 * as an ordinary WAMP session, and shows what that session's role may see.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Chart } from './chart.tsx';
import { Controller, type PageConfig, type State } from './controller.ts';
import { millis, rate } from './format.ts';
import { LoginForm } from './login.tsx';
import { HealthView, Panel, RealmsTable, RegistrationsTable, SessionsTable, SubscriptionsTable } from './panels.tsx';

/** The page's settings; a relative URL ("/ws") is on the page's own host, ws: for http and wss: for https. */
export function pageConfig(doc: Document, location: Location): PageConfig {
  const raw = doc.querySelector('meta[name="kreuz-dashboard"]')?.getAttribute('content') ?? '{}';
  let parsed: { realm?: unknown; url?: unknown } = {};
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Shown below as a missing realm.
  }
  const realm = typeof parsed.realm === 'string' ? parsed.realm : '';
  const given = typeof parsed.url === 'string' ? parsed.url : '/ws';
  const base = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
  return { realm, url: given.startsWith('/') ? base + given : given };
}

/** The router's own procedures and topics (the meta API, kreuz.node.*): shown to a trusted session only when asked for. */
const ROUTER_URI = /^(wamp|crossbar|kreuz)\./;

function App({ controller }: { controller: Controller }) {
  const [state, setState] = useState<State>(controller.current);
  const [filter, setFilter] = useState('');
  const [routerUris, setRouterUris] = useState(false);
  useEffect(() => controller.subscribe(setState), [controller]);
  const f = filter.trim().toLowerCase();
  const w = state.welcome;
  const anonymous = !w || w.authmethod === 'anonymous';
  const trusted = w?.authrole === 'trusted';
  const shown = state.realm ?? w?.realm ?? state.config.realm;
  const totals = state.realms?.kind === 'ok' ? state.realms.value.find((r) => r.name === shown) : undefined;
  // A trusted session is answered the router's own URIs too; the realm's counts include them.
  const hideRouter = trusted && !routerUris;
  const app = <T extends { uri: string }>(rows: T[]) => (hideRouter ? rows.filter((r) => !ROUTER_URI.test(r.uri)) : rows);

  return (
    <>
      <header>
        <h1>
          Kreuz <span class="muted">dashboard</span>
        </h1>
        <span class="status" data-connection={state.connection}>
          {state.connection === 'open' ? 'live' : state.connection}
        </span>
        {w && (
          <span class="who" data-who={w.authid}>
            {w.authid || 'anonymous'} · {w.authrole} · {w.authmethod} on <b>{w.realm}</b>
          </span>
        )}
        <span class="grow" />
        <input
          id="filter"
          type="search"
          placeholder="Filter tables"
          aria-label="Filter the tables"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
        {trusted && (
          <label class="toggle">
            <input id="router-uris" type="checkbox" checked={routerUris} onChange={(e) => setRouterUris(e.currentTarget.checked)} />
            router procedures
          </label>
        )}
        {anonymous ? (
          <button type="button" id="login-open" onClick={() => controller.askLogin()}>
            Log in
          </button>
        ) : (
          <button type="button" id="logout" onClick={() => void controller.logout()}>
            Log out
          </button>
        )}
      </header>

      {state.problem && state.connection !== 'login' && (
        <p class="banner problem" role="status">
          {state.problem}
        </p>
      )}
      {state.connection === 'login' && (
        <LoginForm
          problem={state.problem}
          canCancel={w !== undefined}
          onCancel={() => controller.cancelLogin()}
          onAnonymous={() => void controller.logout()}
          onLogin={(c) => controller.login(c)}
        />
      )}

      {w && (
        <main>
          {state.live !== 'live' && state.live !== 'pending' && (
            <p class="note" id="live-note">
              {state.live === 'refused' ? 'Live statistics (kreuz.node.on_stats) are not permitted for your role' : 'No live statistics'}:
              the page polls every 2 s.
            </p>
          )}
          <div class="charts">
            <Chart
              id="chart-calls"
              title={`Calls/s on ${shown}`}
              samples={state.history}
              series={[{ label: 'calls/s', color: '--calls', value: (s) => s.callsPerS }]}
              format={rate}
            />
            <Chart
              id="chart-events"
              title={`Events/s on ${shown}`}
              samples={state.history}
              series={[{ label: 'events/s', color: '--events', value: (s) => s.eventsPerS }]}
              format={rate}
            />
            <Chart
              id="chart-loop"
              title="Event-loop delay"
              samples={state.history}
              series={[
                { label: 'p50', color: '--p50', value: (s) => s.loopP50 },
                { label: 'p99', color: '--p99', value: (s) => s.loopP99 },
              ]}
              format={millis}
            />
          </div>
          <div class="columns">
            <Panel id="health" title="Node" outcome={state.health}>
              {(h) => <HealthView health={h} />}
            </Panel>
            <Panel id="realms" title="Realms" outcome={state.realms} size={(r) => r.length}>
              {(rows) => (
                <RealmsTable rows={rows} filter={f} selected={shown} select={trusted ? (r) => controller.selectRealm(r) : undefined} />
              )}
            </Panel>
          </div>
          <Panel id="sessions" title={`Sessions on ${shown}`} outcome={state.sessions} size={(r) => r.length}>
            {(rows) => <SessionsTable rows={rows} filter={f} total={totals?.sessions} />}
          </Panel>
          <Panel id="registrations" title={`Registrations on ${shown}`} outcome={state.registrations} size={(r) => app(r).length}>
            {(rows) => <RegistrationsTable rows={app(rows)} filter={f} total={hideRouter ? undefined : totals?.registrations} />}
          </Panel>
          <Panel id="subscriptions" title={`Subscriptions on ${shown}`} outcome={state.subscriptions} size={(r) => app(r).length}>
            {(rows) => <SubscriptionsTable rows={app(rows)} filter={f} total={hideRouter ? undefined : totals?.subscriptions} />}
          </Panel>
          <footer class="muted">
            {state.updated ? `Updated ${new Date(state.updated).toLocaleTimeString()}` : 'Waiting for the first update'} · refreshes every 2
            s
          </footer>
        </main>
      )}
    </>
  );
}

const config = pageConfig(document, window.location);
const root = document.getElementById('app');
if (root) {
  if (!config.realm) {
    root.textContent = 'This page is served without its settings: open it at the router’s dashboard path.';
  } else {
    const controller = new Controller(config);
    render(<App controller={controller} />, root);
    controller.start();
  }
}
