/** The dashboard's panels: node health, realms, and the session, registration and subscription tables. */
import type { ComponentChildren } from 'preact';
import {
  META_ITEMS,
  type Health,
  type Outcome,
  type RealmRow,
  type RegistrationRow,
  type SessionRow,
  type SubscriptionRow,
} from './api.ts';
import { bytes, count, DASH, duration, millis, percent, rate, since, words } from './format.ts';

/** Rows a table renders at most (the filter finds the others). */
const MAX_ROWS = 500;

interface PanelProps<T> {
  id: string;
  title: string;
  outcome: Outcome<T> | undefined;
  children: (value: T) => ComponentChildren;
  /** The count in the heading. */
  size?: (value: T) => number;
}

/** A panel with its data, or why there is none: loading, refused for the role, missing on this router, failed. */
export function Panel<T>({ id, title, outcome, children, size }: PanelProps<T>) {
  const state = outcome?.kind ?? 'loading';
  return (
    <section class="panel" id={id} data-state={state} aria-busy={state === 'loading'}>
      <h2>
        {title}
        {outcome?.kind === 'ok' && size && (
          <span class="count" data-count>
            {size(outcome.value)}
          </span>
        )}
        {outcome?.kind === 'ok' && outcome.source === 'meta' && (
          <span class="source" title={`The role may not call the kreuz.node procedure; at most ${META_ITEMS} items`}>
            from the WAMP meta API
          </span>
        )}
      </h2>
      {outcome === undefined && <p class="note">Loading…</p>}
      {outcome?.kind === 'refused' && (
        <p class="refused">
          Not permitted for your role <code>{outcome.uri}</code>
        </p>
      )}
      {outcome?.kind === 'missing' && <p class="note">Not available on this router ({outcome.uri}).</p>}
      {outcome?.kind === 'failed' && <p class="problem">Could not be read: {outcome.message}</p>}
      {outcome?.kind === 'ok' && children(outcome.value)}
    </section>
  );
}

/** Whether any of `cells` contains the filter text (already lower case). */
export function matches(filter: string, cells: Array<string | number | undefined>): boolean {
  if (filter === '') return true;
  return cells.some((c) => c !== undefined && String(c).toLowerCase().includes(filter));
}

interface TableProps<T> {
  name: string;
  rows: readonly T[];
  filter: string;
  cells(row: T): Array<string | number | undefined>;
  head: string[];
  /** Right-aligned (numeric) columns. */
  numeric?: ReadonlySet<number>;
  row(row: T, cells: Array<string | number | undefined>): ComponentChildren;
  empty: string;
  /**
   * How many there are (the realm's count): more than the rows when the router answered with its first page only
   * (1000 from kreuz.node, META_ITEMS from the meta API); a few more is only a table read a moment before the count.
   */
  total?: number;
}

function Table<T>({ name, rows, filter, cells, head, numeric, row, empty, total }: TableProps<T>) {
  const shown = rows.map((r) => ({ r, c: cells(r) })).filter(({ c }) => matches(filter, c));
  if (rows.length === 0) return <p class="note">{empty}</p>;
  return (
    <>
      {total !== undefined && total > rows.length && rows.length >= META_ITEMS && (
        <p class="note" data-partial={name}>
          The first {rows.length} of {total} are listed.
        </p>
      )}
      {filter !== '' && (
        <p class="note" data-filtered={name}>
          {shown.length} of {rows.length} match the filter
        </p>
      )}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              {head.map((h, i) => (
                <th key={h} class={numeric?.has(i) ? 'num' : undefined} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>{shown.slice(0, MAX_ROWS).map(({ r, c }) => row(r, c))}</tbody>
        </table>
      </div>
      {shown.length > MAX_ROWS && <p class="note">{shown.length - MAX_ROWS} more not shown: narrow the filter.</p>}
    </>
  );
}

function Cells({ cells, numeric }: { cells: Array<string | number | undefined>; numeric: ReadonlySet<number> }) {
  return (
    <>
      {cells.map((c, i) => (
        <td key={i} class={numeric.has(i) ? 'num' : undefined}>
          {c === undefined || c === '' ? DASH : c}
        </td>
      ))}
    </>
  );
}

const SESSION_NUMERIC = new Set([8, 9]);

export function SessionsTable({ rows, filter, total }: { rows: SessionRow[]; filter: string; total?: number }) {
  const sorted = [...rows].sort((a, b) => a.joined.localeCompare(b.joined) || a.session - b.session);
  return (
    <Table
      name="sessions"
      rows={sorted}
      filter={filter}
      total={total}
      head={['Session', 'Auth ID', 'Role', 'Method', 'Transport', 'Serializer', 'Peer', 'Connected since', 'Msgs in', 'Msgs out']}
      numeric={SESSION_NUMERIC}
      empty="No client sessions."
      cells={(s) => [
        s.session,
        s.authid,
        s.authrole,
        s.authmethod,
        s.transport,
        s.serializer,
        s.peer,
        since(s.joined),
        count(s.messagesIn),
        count(s.messagesOut),
      ]}
      row={(s, c) => (
        <tr key={s.session} data-session={s.session}>
          <Cells cells={c} numeric={SESSION_NUMERIC} />
        </tr>
      )}
    />
  );
}

const REGISTRATION_NUMERIC = new Set([4, 5, 6, 7, 8, 9, 10]);

export function RegistrationsTable({ rows, filter, total }: { rows: RegistrationRow[]; filter: string; total?: number }) {
  const sorted = [...rows].sort((a, b) => a.uri.localeCompare(b.uri) || a.id - b.id);
  return (
    <Table
      name="registrations"
      rows={sorted}
      filter={filter}
      total={total}
      head={['Procedure', 'Match', 'Invoke', 'Callees', 'Calls/s', 'p50', 'p99', 'Calls', 'Errors', 'In flight', 'Queued']}
      numeric={REGISTRATION_NUMERIC}
      empty="No registrations."
      cells={(r) => [
        r.uri,
        r.match,
        r.invoke,
        r.callees.join(', '),
        rate(r.callsPerS),
        millis(r.p50),
        millis(r.p99),
        count(r.calls),
        count(r.errors),
        count(r.inFlight),
        count(r.queued),
      ]}
      row={(r, c) => (
        <tr key={r.id} data-registration={r.id} data-uri={r.uri} data-callees={r.callees.join(' ')}>
          <Cells cells={c} numeric={REGISTRATION_NUMERIC} />
        </tr>
      )}
    />
  );
}

const SUBSCRIPTION_NUMERIC = new Set([2, 3, 4]);

export function SubscriptionsTable({ rows, filter, total }: { rows: SubscriptionRow[]; filter: string; total?: number }) {
  const sorted = [...rows].sort((a, b) => a.uri.localeCompare(b.uri) || a.id - b.id);
  return (
    <Table
      name="subscriptions"
      rows={sorted}
      filter={filter}
      total={total}
      head={['Topic', 'Match', 'Subscribers', 'Events/s', 'Events']}
      numeric={SUBSCRIPTION_NUMERIC}
      empty="No subscriptions."
      cells={(s) => [s.uri, s.match, s.subscribers, rate(s.eventsPerS), count(s.events)]}
      row={(s, c) => (
        <tr key={s.id} data-subscription={s.id} data-uri={s.uri} data-subscribers={s.subscribers}>
          <Cells cells={c} numeric={SUBSCRIPTION_NUMERIC} />
        </tr>
      )}
    />
  );
}

const REALM_NUMERIC = new Set([1, 2, 3]);

export function RealmsTable({
  rows,
  filter,
  selected,
  select,
}: {
  rows: RealmRow[];
  filter: string;
  selected: string;
  select?: (realm: string) => void;
}) {
  const sorted = [...rows].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <Table
      name="realms"
      rows={sorted}
      filter={filter}
      head={['Realm', 'Sessions', 'Registrations', 'Subscriptions']}
      numeric={REALM_NUMERIC}
      empty="No realms."
      cells={(r) => [r.name, r.sessions, r.registrations, r.subscriptions]}
      row={(r, c) => (
        <tr key={r.name} data-realm={r.name} class={r.name === selected ? 'selected' : undefined}>
          <td>
            {select && rows.length > 1 ? (
              <button type="button" class="link" onClick={() => select(r.name)} aria-pressed={r.name === selected}>
                {r.name}
              </button>
            ) : (
              r.name
            )}
          </td>
          <Cells cells={c.slice(1)} numeric={new Set([0, 1, 2])} />
        </tr>
      )}
    />
  );
}

function Pairs({ name, pairs, empty }: { name: string; pairs: Array<[string, number]>; empty: string }) {
  if (pairs.length === 0) return <dd>{empty}</dd>;
  return (
    <dd>
      <ul class="pairs" data-pairs={name}>
        {pairs.map(([k, v]) => (
          <li key={k}>
            {words(k)} <b>{count(v)}</b>
          </li>
        ))}
      </ul>
    </dd>
  );
}

export function HealthView({ health }: { health: Health }) {
  const { memory, loop, cluster } = health;
  return (
    <>
      <dl class="facts">
        <dt>Version</dt>
        <dd data-fact="version">
          Kreuz {health.version || DASH} <span class="muted">on Node.js {health.node || DASH}</span>
        </dd>
        <dt>Uptime</dt>
        <dd data-fact="uptime">{duration(health.uptimeMs)}</dd>
        <dt>Sessions</dt>
        <dd data-fact="sessions">{count(health.sessions)}</dd>
        <dt>Memory</dt>
        <dd data-fact="memory">
          RSS {bytes(memory.rss)}, heap {bytes(memory.heapUsed)} of {bytes(memory.heapTotal)}, external {bytes(memory.external)}
        </dd>
        <dt>Event loop</dt>
        <dd data-fact="event-loop">
          delay p50 {millis(loop.p50)}, p99 {millis(loop.p99)}, max {millis(loop.max)}; busy {percent(loop.utilization)}
        </dd>
        <dt>Connections</dt>
        <Pairs name="connections" pairs={health.connections} empty="none" />
        <dt>Cut-offs</dt>
        <Pairs name="cutoffs" pairs={health.cutoffs} empty="none" />
        <dt>Limits reached</dt>
        <Pairs name="limits" pairs={health.limitsReached} empty="none" />
      </dl>
      {cluster && (
        <div class="cluster" data-cluster={cluster.name}>
          <h3>
            Cluster {cluster.name} <span class="muted">this node: {cluster.node}</span>
            {cluster.leader && <span class="muted"> (leader)</span>}
          </h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {cluster.nodes.map((n) => (
                <tr key={n.node} data-node={n.node} class={n.self ? 'selected' : undefined}>
                  <td>
                    {n.node}
                    {n.self && <span class="muted"> (this node)</span>}
                  </td>
                  <td>{n.state || DASH}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
