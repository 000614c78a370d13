/**
 * Cluster failures with real processes (CLUSTER.md sections 5, 6 and 9): nats-server(s) on 127.0.0.1
 * and three Kreuz nodes, each a `kreuz start --config` child process, with raw `ws` WAMP clients and
 * Autobahn|JS. Each case starts its own NATS and nodes under a cluster name of its own, and kills
 * what it started when it ends (the after() hook kills whatever is left, also on failure).
 *
 * Every deadline is a polling deadline from the moment of the fault; the times measured (how long
 * detection took) are printed, not asserted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { skipWithoutNats, startNatsCluster, startNatsServer } from '../helpers/nats-server.ts';
import { type AbClient, openAutobahn } from '../helpers/autobahn-js.ts';
import {
  HOLD,
  KreuzNode,
  type NodeConfig,
  type Outcome,
  type RestartedNats,
  WampClient,
  WampError,
  commandLine,
  connectedPort,
  killAllProcesses,
  poll,
  portOf,
  restartNats,
  sleep,
} from './process-helpers.ts';

// Autobahn|JS 26 uses the global WebSocket, which Node 20 has only with --experimental-websocket
// (scripts/run-tests.mjs passes it); without it, `ws` stands in.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const root = fileURLToPath(new URL('../../', import.meta.url));
const skip = skipWithoutNats();

const FAST = { heartbeat: 100, deadAfter: 300 };
const IDS = ['n1', 'n2', 'n3'] as const;

/** Measured times (ms), printed for the report. */
const measured: string[] = [];
function note(what: string, ms: number): void {
  const line = `${what}: ${ms.toFixed(0)} ms`;
  measured.push(line);
  console.log(`[failover] ${line}`);
}

// ---- what each case starts, and stops ----

const natsServers: Array<{ stop(): Promise<void> }> = [];
const clients: Array<{ close(): unknown }> = [];
const nodesStarted: KreuzNode[] = [];

async function cleanUp(): Promise<void> {
  for (const c of clients.splice(0)) {
    try {
      await Promise.race([c.close(), sleep(1000)]);
    } catch {
      // gone already
    }
  }
  await Promise.all(nodesStarted.splice(0).map((n) => n.kill()));
  // One after another: a restarted server (first in the list) uses the directory of the one it replaced.
  for (const s of natsServers.splice(0)) await s.stop().catch(() => undefined);
  await killAllProcesses();
}

/** A case: it cleans up after itself; on failure its error carries the tail of every node's log. */
function failover(name: string, body: () => Promise<void>): void {
  it(name, async (t) => {
    t.after(cleanUp);
    try {
      await body();
    } catch (err) {
      const logs = nodesStarted.map((n) => `--- ${n.id} (pid ${n.pid}${n.alive ? '' : ', exited'}):\n${n.log().slice(-2500)}`);
      if (err instanceof Error) err.message += `\n${logs.join('\n')}`;
      throw err;
    }
  });
}

let clusterCount = 0;
function clusterName(): string {
  return `fo-${process.pid}-${++clusterCount}`;
}

/**
 * Three nodes of a new cluster; `servers[i]` are node i's NATS URLs. The first node starts alone and
 * makes the KV bucket; the other two then start together. (Three nodes making a new R3 bucket at the
 * same moment may fail to start, with a JetStream timeout or "no responders" from connectNatsBackplane:
 * not what these cases test.)
 */
async function startNodes(servers: string[][], extra: Partial<NodeConfig> = {}): Promise<KreuzNode[]> {
  const cluster = clusterName();
  const config = (i: number): NodeConfig => ({ cluster, node: IDS[i]!, servers: servers[i]!, ...extra });
  const first = await startNode(config(0));
  const nodes = [first, ...(await Promise.all([1, 2].map((i) => startNode(config(i)))))];
  await meshed(nodes);
  return nodes;
}

async function startNode(config: NodeConfig, dir?: string): Promise<KreuzNode> {
  const node = await KreuzNode.start(config, dir);
  nodesStarted.push(node);
  return node;
}

/** Waits until every node logged every other one as joined (after log offset `from[i]`). */
async function meshed(nodes: KreuzNode[], from: number[] = [], ms = 15_000): Promise<void> {
  await Promise.all(
    nodes.flatMap((n, i) =>
      nodes.filter((o) => o !== n).map((o) => n.waitForLog(new RegExp(`cluster: node joined node=${o.id}\\b`), ms, from[i] ?? 0)),
    ),
  );
}

async function client(node: KreuzNode, name: string, serializer: 'json' | 'msgpack' | 'cbor' = 'json'): Promise<WampClient> {
  const c = await WampClient.join(node.url, `${name}@${node.id}`, serializer);
  clients.push(c);
  return c;
}

async function autobahnOn(node: KreuzNode): Promise<AbClient> {
  const ab = await openAutobahn(node.url, 'json');
  clients.push(ab);
  return ab;
}

/** A client subscribed to the session and registration meta events it checks. */
interface MetaWatch {
  client: WampClient;
  leave: number;
  unregister: number;
  del: number;
}

async function watchMeta(node: KreuzNode): Promise<MetaWatch> {
  const c = await client(node, 'meta');
  return {
    client: c,
    leave: await c.subscribe('wamp.session.on_leave'),
    unregister: await c.subscribe('wamp.registration.on_unregister'),
    del: await c.subscribe('wamp.registration.on_delete'),
  };
}

/** When `w` heard on_leave of `session` (undefined: not yet). */
function leftAt(w: MetaWatch, session: number): number | undefined {
  return w.client.eventsOf(w.leave).find((e) => e.args[0] === session)?.at;
}

function unregisteredAt(w: MetaWatch, session: number, registration: number): number | undefined {
  return w.client.eventsOf(w.unregister).find((e) => e.args[0] === session && e.args[1] === registration)?.at;
}

function deletedAt(w: MetaWatch, registration: number): number | undefined {
  return w.client.eventsOf(w.del).find((e) => e.args[1] === registration)?.at;
}

/** Polls until each observer's lookups see (`present`) or miss every URI. */
async function untilLookups(
  observers: WampClient[],
  o: { registrations?: string[]; subscriptions?: string[] },
  present: boolean,
  ms: number,
  what: string,
): Promise<void> {
  await poll(
    async () => {
      for (const c of observers) {
        for (const uri of o.registrations ?? []) if (((await c.lookupRegistration(uri)) !== null) !== present) return false;
        for (const uri of o.subscriptions ?? []) if (((await c.lookupSubscription(uri)) !== null) !== present) return false;
      }
      return true;
    },
    ms,
    what,
  );
}

/** Calls until the call succeeds (a new registration reaches other nodes' mirrors asynchronously; a failover settles). */
async function callUntilOk(c: WampClient, uri: string, args: unknown[], ms: number): Promise<Outcome> {
  return poll(
    async () => {
      const r = await c.call(uri, args, {}, 5000);
      if (r.ok) return r;
      throw new Error(`${r.error} ${JSON.stringify(r.args)}`); // the last one shows if the deadline passes
    },
    ms,
    `${c.name} calls ${uri}`,
  );
}

/** REGISTERs until it works, retrying while the registry is unavailable (a NATS failover): its ID, and the time it took. */
async function registerRetrying(
  c: WampClient,
  uri: string,
  ms: number,
  handler?: (inv: { args: unknown[] }) => unknown,
): Promise<{ id: number; took: number }> {
  const start = performance.now();
  let refusals = 0;
  const id = await poll(
    async () => {
      try {
        return await c.register(uri, handler);
      } catch (err) {
        if (err instanceof WampError && err.uri === 'kreuz.error.cluster_unavailable') {
          refusals++;
          return 0;
        }
        throw err;
      }
    },
    ms,
    `${c.name} registers ${uri}`,
    100,
  );
  if (refusals > 0) console.log(`[failover] ${c.name}: REGISTER ${uri} refused ${refusals}x with kreuz.error.cluster_unavailable first`);
  return { id, took: performance.now() - start };
}

/** Polls until every observer's lookup of `uri` gives `id`: the ID its callee was given is the one the whole cluster knows. */
async function untilSameId(observers: WampClient[], uri: string, id: number, ms: number, context = ''): Promise<void> {
  const seen: Record<string, unknown> = {};
  try {
    await poll(
      async () => {
        for (const c of observers) seen[c.name] = await c.lookupRegistration(uri);
        return observers.every((c) => seen[c.name] === id);
      },
      ms,
      `${uri}: the ID its callee got (${id}) on ${observers.map((c) => c.name).join(', ')}`,
    );
  } catch (err) {
    if (err instanceof Error) err.message += `; the lookups gave ${JSON.stringify(seen)}${context}`;
    throw err;
  }
}

/** Whether `c`'s node knows session `id` (wamp.session.get). */
async function sessionKnown(c: WampClient, id: number): Promise<boolean> {
  const r = await c.call('wamp.session.get', [id]);
  if (!r.ok && r.error !== 'wamp.error.no_such_session') throw new Error(`wamp.session.get: ${r.error}`);
  return r.ok;
}

const since = (t: number) => performance.now() - t;
/** What is left of `total` ms counted from `start` (at least 1 ms, so a late check still runs once). */
const left = (start: number, total: number) => Math.max(1, total - since(start));

/** The detection checks of a node that died (SIGKILL or SIGSTOP), on each observer, within `total` ms of `fault`. */
async function assertGoneEverywhere(o: {
  what: string;
  fault: number;
  total: number;
  observers: MetaWatch[];
  callee: WampClient;
  registrations: Record<string, number>;
  subscriptions: string[];
}): Promise<void> {
  const lookups = o.observers.map((w) => w.client);
  await untilLookups(
    lookups,
    { registrations: Object.keys(o.registrations), subscriptions: o.subscriptions },
    false,
    left(o.fault, o.total),
    `${o.what}: registrations and subscriptions of the dead node gone on the other nodes`,
  );
  note(`${o.what}: registrations and subscriptions gone on every other node (lookups)`, since(o.fault));
  for (const w of o.observers) {
    const at = await poll(() => leftAt(w, o.callee.sessionId), left(o.fault, o.total), `${o.what}: on_leave on ${w.client.name}`);
    note(`${o.what}: wamp.session.on_leave on ${w.client.name}`, at - o.fault);
    for (const [uri, id] of Object.entries(o.registrations)) {
      const u = await poll(
        () => unregisteredAt(w, o.callee.sessionId, id),
        left(o.fault, o.total),
        `${o.what}: on_unregister of ${uri} on ${w.client.name}`,
      );
      const d = await poll(() => deletedAt(w, id), left(o.fault, o.total), `${o.what}: on_delete of ${uri} on ${w.client.name}`);
      note(`${o.what}: on_unregister / on_delete of ${uri} on ${w.client.name}`, Math.max(u, d) - o.fault);
    }
  }
}

describe('cluster failover with real processes', { skip, concurrency: false, timeout: 600_000 }, () => {
  before(() => {
    const built = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
    assert.equal(built.status, 0, 'node scripts/build.mjs --if-stale');
  });
  after(async () => {
    await cleanUp();
    console.log(`[failover] measured:\n  ${measured.join('\n  ')}`);
  });

  failover(
    '1. SIGKILL (defaults 500 / 1500): within 2 s the node is gone everywhere, its calls canceled, its single URI free',
    async () => {
      const nats = await startNatsServer();
      natsServers.push(nats);
      const [n1, n2, n3] = await startNodes([[nats.url], [nats.url], [nats.url]]);

      const callee = await client(n3!, 'callee');
      const regs = {
        'c1.single': await callee.register('c1.single', (inv) => `n3:${inv.args[0]}`),
        'c1.hold': await callee.register('c1.hold', () => HOLD),
      };
      await callee.subscribe('c1.topic');
      // A caller on the doomed node, with a call in flight to a callee on n1: that invocation is interrupted.
      const survivor = await client(n1!, 'survivor');
      await survivor.register('c1.survivor', () => HOLD);
      const doomedCaller = await client(n3!, 'caller');

      const observers = [await watchMeta(n1!), await watchMeta(n2!)];
      await untilLookups(
        observers.map((w) => w.client),
        { registrations: Object.keys(regs), subscriptions: ['c1.topic'] },
        true,
        5000,
        'registrations and subscriptions of n3 visible on n1 and n2',
      );
      const ab = await autobahnOn(n1!);
      const rawCaller = await client(n2!, 'caller');
      const abCall = (ab.session.call('c1.hold', ['ab']) as Promise<unknown>).then(
        (value) => ({ ok: true as const, value, at: performance.now() }),
        (err: { error?: string }) => ({ ok: false as const, error: err?.error, at: performance.now() }),
      );
      const rawCall = rawCaller.call('c1.hold', ['raw']);
      void doomedCaller.call('c1.survivor', ['from n3']).catch(() => undefined);
      await poll(
        () => callee.invocations.length >= 2 && survivor.invocations.length >= 1,
        5000,
        'the calls in flight reached their callees',
      );

      const fault = performance.now();
      n3!.signal('SIGKILL');
      await assertGoneEverywhere({
        what: 'SIGKILL, 500/1500',
        fault,
        total: 2000,
        observers,
        callee,
        registrations: regs,
        subscriptions: ['c1.topic'],
      });
      const abOutcome = await Promise.race([abCall, sleep(left(fault, 2000)).then(() => undefined)]);
      assert.ok(abOutcome, 'the Autobahn|JS call in flight (n1 -> n3) ended within 2 s');
      assert.deepEqual([abOutcome.ok, abOutcome.ok ? undefined : abOutcome.error], [false, 'wamp.error.canceled']);
      note('SIGKILL, 500/1500: Autobahn|JS call in flight n1 -> n3 ended with wamp.error.canceled', abOutcome.at - fault);
      const rawOutcome = await Promise.race([rawCall, sleep(left(fault, 2000)).then(() => undefined)]);
      assert.ok(rawOutcome, 'the raw call in flight (n2 -> n3) ended within 2 s');
      assert.deepEqual([rawOutcome.ok, rawOutcome.error], [false, 'wamp.error.canceled']);
      note('SIGKILL, 500/1500: raw call in flight n2 -> n3 ended with wamp.error.canceled', rawOutcome.at - fault);
      const interrupt = await poll(() => survivor.interrupts[0], left(fault, 2000), 'INTERRUPT to the n1 callee of the dead caller on n3');
      note('SIGKILL, 500/1500: INTERRUPT of the dead caller`s invocation on n1', interrupt.at - fault);

      // The single URI n3 held is free: n2 registers it, n1 calls it.
      const taker = await client(n2!, 'taker');
      const taken = await taker.register('c1.single', (inv) => `n2:${inv.args[0]}`);
      await untilSameId([observers[0]!.client, observers[1]!.client], 'c1.single', taken, 3000);
      const r = await callUntilOk(observers[0]!.client, 'c1.single', ['x'], 3000);
      assert.deepEqual(r.args, ['n2:x']);
      assert.ok(n1!.alive && n2!.alive);
    },
  );

  failover('2. SIGSTOP during calls (100 / 300): gone within 3 s; after SIGCONT the node fences itself and rejoins', async () => {
    const nats = await startNatsServer();
    natsServers.push(nats);
    const [n1, n2, n3] = await startNodes([[nats.url], [nats.url], [nats.url]], FAST);

    const callee = await client(n2!, 'callee', 'msgpack');
    const regs = {
      'c2.single': await callee.register('c2.single', (inv) => `n2:${inv.args[0]}`),
      'c2.hold': await callee.register('c2.hold', () => HOLD),
      'c2.echo': await callee.register('c2.echo', (inv) => inv.args[0]),
    };
    await callee.subscribe('c2.topic');
    const observers = [await watchMeta(n1!), await watchMeta(n3!)];
    await untilLookups(
      observers.map((w) => w.client),
      { registrations: Object.keys(regs), subscriptions: ['c2.topic'] },
      true,
      5000,
      'registrations and subscriptions of n2 visible on n1 and n3',
    );
    const caller1 = await client(n1!, 'caller');
    const caller3 = await client(n3!, 'caller', 'cbor');
    const held = [caller1.call('c2.hold', [1]), caller3.call('c2.hold', [3])];
    await poll(() => callee.invocations.filter((i) => i.registrationId === regs['c2.hold']).length === 2, 5000, 'held calls reached n2');
    // Calls one after another from n1, until one fails: the node stops in the middle of them.
    const outcomes: Outcome[] = [];
    let looping = true;
    const loop = (async () => {
      for (let i = 0; looping && i < 100_000; i++) {
        const r = await caller1.call('c2.echo', [i], {}, 10_000);
        outcomes.push(r);
        if (!r.ok) return;
      }
    })();
    await poll(() => outcomes.length >= 20, 5000, 'calls n1 -> n2 running');

    const fault = performance.now();
    n2!.signal('SIGSTOP');
    await assertGoneEverywhere({
      what: 'SIGSTOP, 100/300',
      fault,
      total: 3000,
      observers,
      callee,
      registrations: regs,
      subscriptions: ['c2.topic'],
    });
    for (const [i, call] of held.entries()) {
      const r = await Promise.race([call, sleep(left(fault, 3000)).then(() => undefined)]);
      assert.ok(r, `held call ${i} ended within 3 s`);
      assert.deepEqual([r.ok, r.error], [false, 'wamp.error.canceled'], `held call ${i}`);
      note(`SIGSTOP, 100/300: held call ${i === 0 ? 'n1' : 'n3'} -> n2 ended with wamp.error.canceled`, r.at - fault);
    }
    await Promise.race([loop, sleep(left(fault, 3000))]);
    looping = false;
    const last = outcomes.at(-1)!;
    assert.equal(last.ok, false, `the call loop n1 -> n2 ended within 3 s (${outcomes.length} calls)`);
    assert.ok(['wamp.error.canceled', 'wamp.error.no_such_procedure'].includes(last.error!), `the loop's last call: ${last.error}`);
    note(`SIGSTOP, 100/300: the call loop's last call (${last.error})`, last.at - fault);

    const taker = await client(n3!, 'taker');
    const taken = await taker.register('c2.single', (inv) => `n3:${inv.args[0]}`);
    await untilSameId([caller1, caller3], 'c2.single', taken, 3000);
    assert.deepEqual((await callUntilOk(caller1, 'c2.single', ['a'], 3000)).args, ['n3:a']);

    // SIGCONT: the node learns it was declared dead, closes its sessions (GOODBYE) and comes back.
    const logFrom = n2!.log().length;
    const peersFrom = [n1!, n3!].map((n) => n.log().length);
    const resumed = performance.now();
    n2!.signal('SIGCONT');
    const line = await n2!.waitForLog(/declared dead/, 5000, logFrom);
    note('SIGCONT: n2 logged that it was declared dead', since(resumed));
    assert.match(line, /declared dead/);
    await poll(() => callee.goodbye, 5000, 'GOODBYE to the client of the fenced node');
    assert.equal(callee.goodbye![0], 6, `GOODBYE, not ${JSON.stringify(callee.goodbye)}`);
    assert.equal(callee.goodbye![2], 'wamp.close.system_shutdown', JSON.stringify(callee.goodbye));
    note('SIGCONT: GOODBYE to n2`s client', callee.goodbyeAt - resumed);
    // The others hear it again, as a new incarnation.
    await Promise.all([n1!, n3!].map((n, i) => n.waitForLog(/cluster: node joined node=n2\b/, 5000, peersFrom[i])));

    const back = await client(n2!, 'back');
    await back.register('c2.after', (inv) => `n2 again:${inv.args[0]}`);
    assert.deepEqual((await callUntilOk(caller1, 'c2.after', ['b'], 5000)).args, ['n2 again:b']);
    assert.deepEqual((await callUntilOk(caller3, 'c2.after', ['c'], 5000)).args, ['n2 again:c']);
    // Its mirror is whole again: the single URI stays n3's (with n3's ID), and n2's client reaches it.
    await untilSameId([back, caller1, caller3], 'c2.single', taken, 5000, ` (n2's own c2.single had ID ${regs['c2.single']})`);
    assert.deepEqual((await callUntilOk(back, 'c2.single', ['d'], 5000)).args, ['n3:d']);
    assert.deepEqual((await caller1.call('c2.single', ['e'])).args, ['n3:e']);
  });

  failover(
    '3. restart (SIGTERM, then the same node ID): old registrations gone, new ones work across nodes, single URIs free',
    async () => {
      const nats = await startNatsServer();
      natsServers.push(nats);
      const [n1, n2, n3] = await startNodes([[nats.url], [nats.url], [nats.url]], FAST);

      // n1 (the cleanup leader, lowest ID) holds a single URI, shares a roundrobin one with n2, subscribes.
      const old = await client(n1!, 'old');
      await old.register('c3.single', () => 'old n1');
      await old.register('c3.shared', () => 'old n1', { invoke: 'roundrobin' });
      await old.subscribe('c3.topic');
      const partner = await client(n2!, 'partner');
      await partner.register('c3.shared', () => 'n2', { invoke: 'roundrobin' });
      const o3 = await client(n3!, 'observer');
      const o2 = await client(n2!, 'observer');
      await untilLookups(
        [o2, o3],
        { registrations: ['c3.single', 'c3.shared'], subscriptions: ['c3.topic'] },
        true,
        5000,
        'n1`s entries seen',
      );

      const stopAt = performance.now();
      const exit = await n1!.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, `n1 exits cleanly: ${n1!.log().slice(-2000)}`);
      note('restart: SIGTERM to exit of n1', since(stopAt));
      assert.equal(old.goodbye?.[2], 'wamp.close.system_shutdown', `GOODBYE at shutdown: ${JSON.stringify(old.goodbye)}`);
      await untilLookups([o2, o3], { registrations: ['c3.single'], subscriptions: ['c3.topic'] }, false, 2000, 'n1`s entries gone');
      assert.notEqual(await o3.lookupRegistration('c3.shared'), null, 'c3.shared keeps its n2 callee');
      for (let i = 0; i < 4; i++) assert.deepEqual((await o3.call('c3.shared')).args, ['n2'], 'the shared URI goes to n2 alone');

      const peersFrom = [n2!, n3!].map((n) => n.log().length);
      const restartAt = performance.now();
      const again = await startNode(n1!.config, n1!.dir);
      await Promise.all([n2!, n3!].map((n, i) => n.waitForLog(/cluster: node joined node=n1\b/, 10_000, peersFrom[i])));
      await again.waitForLog(/cluster: node joined node=n2\b/, 10_000);
      await again.waitForLog(/cluster: node joined node=n3\b/, 10_000);
      note('restart: start of n1 until every node saw every other', since(restartAt));

      // Its old registrations are gone, on it and elsewhere.
      const fresh = await client(again, 'fresh');
      assert.equal(await fresh.lookupRegistration('c3.single'), null, 'the old single registration is gone (on the restarted n1)');
      assert.equal(await o3.lookupRegistration('c3.single'), null, 'the old single registration is gone (on n3)');
      assert.equal(await fresh.lookupSubscription('c3.topic'), null, 'the old subscription is gone');
      assert.notEqual(await fresh.lookupRegistration('c3.shared'), null, 'the restarted node mirrors n2`s registration');
      for (const c of [fresh, o2, o3]) assert.equal(await sessionKnown(c, old.sessionId), false, `old session unknown to ${c.name}`);
      assert.equal(await sessionKnown(o3, partner.sessionId), true, 'n2`s session known on n3');
      assert.equal(await sessionKnown(fresh, partner.sessionId), true, 'n2`s session known on the restarted n1');

      // Autobahn|JS on the restarted node takes the single URI and a new one; n3 calls them.
      const ab = await autobahnOn(again);
      const single = await ab.session.register('c3.single', (args: unknown[]) => `new n1:${args[0]}`);
      const added = await ab.session.register('c3.new', (args: unknown[]) => `new n1 new:${args[0]}`);
      await untilSameId([o2, o3, fresh], 'c3.single', single.id, 3000);
      await untilSameId([o2, o3, fresh], 'c3.new', added.id, 3000);
      assert.deepEqual((await callUntilOk(o3, 'c3.single', ['a'], 3000)).args, ['new n1:a']);
      assert.deepEqual((await callUntilOk(o3, 'c3.new', ['b'], 3000)).args, ['new n1 new:b']);
      assert.equal(await ab.session.call('c3.shared'), 'n2', 'the restarted node calls n2`s callee');
      // A new callee on n1 joins the roundrobin registration: calls from n3 reach both nodes.
      await fresh.register('c3.shared', () => 'new n1', { invoke: 'roundrobin' });
      const answers = new Set<unknown>();
      await poll(
        async () => {
          answers.add((await o3.call('c3.shared')).args[0]);
          return answers.has('new n1') && answers.has('n2');
        },
        3000,
        'roundrobin across n1 and n2',
      );
      assert.deepEqual([...answers].sort(), ['n2', 'new n1']);
    },
  );

  failover('3b. SIGKILL and an immediate restart with the same node ID (defaults 500 / 1500): its old entries go', async () => {
    const nats = await startNatsServer();
    natsServers.push(nats);
    const [n1, n2, n3] = await startNodes([[nats.url], [nats.url], [nats.url]]);

    const old = await client(n2!, 'old');
    await old.register('c3b.single', () => 'old n2');
    await old.subscribe('c3b.topic');
    const o1 = await client(n1!, 'observer');
    const o3 = await client(n3!, 'observer');
    await untilLookups([o1, o3], { registrations: ['c3b.single'], subscriptions: ['c3b.topic'] }, true, 5000, 'n2`s entries seen');
    assert.equal(await sessionKnown(o1, old.sessionId), true);

    const peersFrom = [n1!, n3!].map((n) => n.log().length);
    const fault = performance.now();
    await n2!.kill();
    const again = await startNode(n2!.config, n2!.dir);
    await Promise.all([n1!, n3!].map((n, i) => n.waitForLog(/cluster: node joined node=n2\b/, 10_000, peersFrom[i])));
    const back = since(fault);
    note(`SIGKILL + restart, 500/1500: the others heard n2 again (${back < 1500 ? 'before' : 'after'} dead_after)`, back);
    const fresh = await client(again, 'fresh');
    await untilLookups(
      [o1, o3, fresh],
      { registrations: ['c3b.single'], subscriptions: ['c3b.topic'] },
      false,
      left(fault, 3000),
      'old entries gone',
    );
    note('SIGKILL + restart, 500/1500: the old registration and subscription gone everywhere', since(fault));
    await poll(
      async () => {
        for (const c of [o1, o3, fresh]) if (await sessionKnown(c, old.sessionId)) return false;
        return true;
      },
      left(fault, 3000),
      'the old session unknown everywhere',
    );
    const taker = await client(n3!, 'taker');
    const taken = await taker.register('c3b.single', () => 'n3');
    await untilSameId([o1, o3, fresh], 'c3b.single', taken, 3000);
    assert.deepEqual((await callUntilOk(fresh, 'c3b.single', [], 3000)).args, ['n3']);
    const mine = await fresh.register('c3b.new', () => 'n2 again');
    await untilSameId([o1, o3, fresh], 'c3b.new', mine, 3000);
    assert.deepEqual((await callUntilOk(o1, 'c3b.new', [], 3000)).args, ['n2 again']);
  });

  failover(
    '4. a node that loses NATS (its nats-server killed, restarted on its port) serves its local sessions and reconnects',
    async () => {
      // One nats-server: with three, a node given only its own server learns the others from the
      // server's INFO (connect_urls) and fails over at once (case 5), so it never goes without NATS.
      const nats = await startNatsServer();
      natsServers.push(nats);
      const nodes = await startNodes([[nats.url], [nats.url], [nats.url]], FAST);
      const [n1, n2, n3] = nodes as [KreuzNode, KreuzNode, KreuzNode];

      const local = await client(n3, 'callee');
      await local.register('c4.local', (inv) => `n3 local:${inv.args[0]}`);
      await local.register('c4.remote', (inv) => `n3:${inv.args[0]}`);
      await local.register('c4.hold', () => HOLD);
      const localCaller = await client(n3, 'caller');
      const far = await client(n1, 'callee');
      await far.register('c4.n1', (inv) => `n1:${inv.args[0]}`);
      const caller1 = await client(n1, 'caller');
      assert.deepEqual((await callUntilOk(caller1, 'c4.remote', ['a'], 3000)).args, ['n3:a']);
      assert.deepEqual((await callUntilOk(localCaller, 'c4.n1', ['b'], 3000)).args, ['n1:b']);
      const oldClients = [local, localCaller, far, caller1];

      const args = commandLine(nats.pid);
      const logFrom = nodes.map((n) => n.log().length);
      const fault = performance.now();
      nats.kill('SIGKILL');
      await Promise.all(nodes.map((n, i) => n.waitForLog(/backplane disconnected/, 5000, logFrom[i])));
      note('NATS loss: every node logged the disconnect', since(fault));
      // While NATS is down: local calls work on n3 (and on n1), longer than dead_after.
      const crossDuringOutage = caller1.call('c4.remote', ['during'], {}, 30_000);
      for (let i = 0; i < 8; i++) {
        const r = await localCaller.call('c4.local', [i], {}, 2000);
        assert.deepEqual([r.ok, r.args], [true, [`n3 local:${i}`]], `local call ${i} on n3 while NATS is down`);
        const r1 = await caller1.call('c4.n1', [i], {}, 2000);
        assert.deepEqual([r1.ok, r1.args], [true, [`n1:${i}`]], `local call ${i} on n1 while NATS is down`);
        await sleep(100);
      }
      assert.ok(since(fault) > 2 * FAST.deadAfter, 'NATS was down for longer than dead_after');
      for (const c of oldClients) assert.equal(c.goodbye, undefined, `${c.name} keeps its session while NATS is down`);
      // A REGISTER needs the registry: refused while it cannot be written, not left hanging.
      const refused = await localCaller.register('c4.during', undefined, {}, 10_000).then(
        () => 'registered',
        (err: unknown) => (err instanceof WampError ? err.uri : String(err)),
      );
      assert.equal(refused, 'kreuz.error.cluster_unavailable', 'REGISTER while NATS is down');

      const reconnectFrom = nodes.map((n) => n.log().length);
      const restartedAt = performance.now();
      const again: RestartedNats = await restartNats(args, portOf(nats.url));
      natsServers.unshift(again);
      await Promise.all(nodes.map((n, i) => n.waitForLog(/backplane reconnected/, 15_000, reconnectFrom[i])));
      note('NATS loss: every node reconnected after the server restarted', since(restartedAt));
      const during = await Promise.race([crossDuringOutage, sleep(10_000).then(() => undefined)]);
      assert.ok(during, 'the cross-node call made while NATS was down ended within 10 s of the reconnect');
      console.log(`[failover] NATS loss: the call n1 -> n3 made during the outage ended with ${during.ok ? 'its result' : during.error}`);

      // Fresh sessions: cross-node calls work again, both ways, and REGISTER does.
      const [f1, f2, f3] = [await client(n1, 'fresh'), await client(n2, 'fresh'), await client(n3, 'fresh')];
      const after3 = await registerRetrying(f3, 'c4.after', 10_000, (inv) => `n3 after:${inv.args[0]}`);
      note('NATS loss: REGISTER on n3 after the reconnect took', after3.took);
      const after1 = await registerRetrying(f1, 'c4.after1', 10_000, (inv) => `n1 after:${inv.args[0]}`);
      await untilSameId([f1, f2, f3], 'c4.after', after3.id, 5000);
      await untilSameId([f1, f2, f3], 'c4.after1', after1.id, 5000);
      assert.deepEqual((await callUntilOk(f1, 'c4.after', ['d'], 5000)).args, ['n3 after:d']);
      assert.deepEqual((await callUntilOk(f2, 'c4.after', ['e'], 5000)).args, ['n3 after:e']);
      assert.deepEqual((await callUntilOk(f3, 'c4.after1', ['f'], 5000)).args, ['n1 after:f']);
      // The old sessions were either closed by their node (GOODBYE, it fenced itself) or still work across nodes: never half.
      for (const [c, uri, expected] of [
        [local, 'c4.remote', 'n3:g'],
        [far, 'c4.n1', 'n1:g'],
      ] as const) {
        const outcome = await poll(
          async () => {
            if (c.goodbye) return `closed with ${JSON.stringify(c.goodbye)}`;
            const r = await (c === local ? f1 : f3).call(uri, ['g'], {}, 3000);
            return r.ok && r.args[0] === expected ? 'kept, callable from another node' : undefined;
          },
          10_000,
          `after the reconnect, the old callee ${c.name} is either closed or callable from another node`,
        );
        console.log(`[failover] NATS loss: old session ${c.name} after the reconnect: ${outcome}`);
        if (c.goodbye) assert.equal(c.goodbye[2], 'wamp.close.system_shutdown', JSON.stringify(c.goodbye));
      }
    },
  );

  failover('5. one nats-server of three dies under a node: it reconnects to another, calls and REGISTER keep working', async () => {
    const natsCluster = await startNatsCluster(3);
    natsServers.push({ stop: natsCluster.stopAll });
    const urls = natsCluster.urls;
    const [n1, n2, n3] = await startNodes([urls, urls, urls], { ...FAST, replicas: 3 });

    const callee3 = await client(n3!, 'callee');
    await callee3.register('c5.n3', (inv) => `n3:${inv.args[0]}`);
    const caller3 = await client(n3!, 'caller');
    const callee1 = await client(n1!, 'callee');
    await callee1.register('c5.n1', (inv) => `n1:${inv.args[0]}`);
    const caller1 = await client(n1!, 'caller');
    const caller2 = await client(n2!, 'caller');
    assert.deepEqual((await callUntilOk(caller1, 'c5.n3', ['a'], 3000)).args, ['n3:a']);
    assert.deepEqual((await callUntilOk(caller3, 'c5.n1', ['b'], 3000)).args, ['n1:b']);

    const ports = urls.map(portOf);
    const before = connectedPort(n3!.pid, ports);
    assert.ok(before, `n3 is connected to one of the nats-servers ${ports.join(', ')}`);
    const victim = natsCluster.servers[ports.indexOf(before)]!;
    const others = ports.filter((p) => p !== before);
    const under = [n1!, n2!].filter((n) => connectedPort(n.pid, ports) === before).map((n) => n.id);
    console.log(`[failover] NATS failover: killing ${victim.name} (port ${before}), under n3${under.map((id) => ` and ${id}`).join('')}`);

    const logFrom = n3!.log().length;
    const fault = performance.now();
    victim.kill('SIGKILL');
    await n3!.waitForLog(/backplane reconnected/, 10_000, logFrom);
    note('NATS failover: n3 reconnected to another server', since(fault));
    const now = await poll(() => connectedPort(n3!.pid, others), 5000, 'n3 connected to a remaining server');
    assert.ok(others.includes(now));

    // The sessions stay, and calls between them keep working both ways.
    assert.deepEqual((await callUntilOk(caller1, 'c5.n3', ['c'], 10_000)).args, ['n3:c']);
    note('NATS failover: call n1 -> n3 worked again', since(fault));
    assert.deepEqual((await callUntilOk(caller3, 'c5.n1', ['d'], 10_000)).args, ['n1:d']);
    assert.deepEqual((await callUntilOk(caller2, 'c5.n3', ['e'], 10_000)).args, ['n3:e']);
    for (const c of [callee3, caller3, callee1, caller1, caller2]) assert.equal(c.goodbye, undefined, `${c.name} keeps its session`);
    // REGISTER keeps working (the KV stream may elect a new leader first: retried while unavailable).
    const new3 = await registerRetrying(callee3, 'c5.new3', 15_000, (inv) => `n3 new:${inv.args[0]}`);
    note('NATS failover: REGISTER on n3 worked after (from the first try)', new3.took);
    const new1 = await registerRetrying(callee1, 'c5.new1', 15_000, (inv) => `n1 new:${inv.args[0]}`);
    note('NATS failover: REGISTER on n1 worked after (from the first try)', new1.took);
    await untilSameId([caller1, caller2, caller3], 'c5.new3', new3.id, 5000);
    await untilSameId([caller1, caller2, caller3], 'c5.new1', new1.id, 5000);
    assert.deepEqual((await callUntilOk(caller1, 'c5.new3', ['f'], 5000)).args, ['n3 new:f']);
    assert.deepEqual((await callUntilOk(caller3, 'c5.new1', ['g'], 5000)).args, ['n1 new:g']);
    assert.deepEqual((await callUntilOk(caller2, 'c5.new3', ['h'], 5000)).args, ['n3 new:h']);
    for (const c of [callee3, caller3, callee1, caller1, caller2]) assert.equal(c.goodbye, undefined, `${c.name} keeps its session`);
  });

  failover('6. a clean shutdown (SIGTERM, defaults 500 / 1500) removes its registrations on the others at once', async () => {
    const nats = await startNatsServer();
    natsServers.push(nats);
    const [n1, n2, n3] = await startNodes([[nats.url], [nats.url], [nats.url]]);

    const leaving = await client(n2!, 'leaving');
    await leaving.register('c6.single', () => 'n2');
    await leaving.register('c6.shared', () => 'n2', { invoke: 'roundrobin' });
    await leaving.subscribe('c6.topic');
    const staying = await client(n3!, 'staying');
    await staying.register('c6.shared', () => 'n3', { invoke: 'roundrobin' });
    const o1 = await client(n1!, 'observer');
    const o3 = await client(n3!, 'observer');
    await untilLookups(
      [o1, o3],
      { registrations: ['c6.single', 'c6.shared'], subscriptions: ['c6.topic'] },
      true,
      5000,
      'n2`s entries seen',
    );

    const fault = performance.now();
    n2!.signal('SIGTERM');
    // Well under dead_after (1500 ms): not found by missing heartbeats.
    await untilLookups([o1, o3], { registrations: ['c6.single'], subscriptions: ['c6.topic'] }, false, 1000, 'n2`s entries gone at once');
    note('clean shutdown, 500/1500: registrations and subscriptions gone on n1 and n3', since(fault));
    const taker = await client(n1!, 'taker');
    await taker.register('c6.single', () => 'n1');
    assert.deepEqual((await callUntilOk(o3, 'c6.single', [], 3000)).args, ['n1']);
    for (let i = 0; i < 4; i++) assert.deepEqual((await o1.call('c6.shared')).args, ['n3'], 'the shared URI goes to n3 alone');
    assert.deepEqual(await n2!.exited, { code: 0, signal: null });
  });

  failover(
    '6b. a clean shutdown with a call in flight to the node frees its registrations at once (drain step 1, CLUSTER.md 5)',
    async () => {
      const nats = await startNatsServer();
      natsServers.push(nats);
      const [n1, n2, n3] = await startNodes([[nats.url], [nats.url], [nats.url]]);

      const leaving = await client(n2!, 'leaving');
      await leaving.register('c6b.single', () => 'n2');
      await leaving.register('c6b.hold', () => HOLD);
      const o1 = await client(n1!, 'observer');
      const o3 = await client(n3!, 'observer');
      await untilLookups([o1, o3], { registrations: ['c6b.single', 'c6b.hold'] }, true, 5000, 'n2`s entries seen');
      const inFlight = o1.call('c6b.hold', ['x'], {}, 20_000);
      const inv = await poll(() => leaving.invocations[0], 5000, 'the call reached n2');

      const fault = performance.now();
      n2!.signal('SIGTERM');
      try {
        await untilLookups([o1, o3], { registrations: ['c6b.single', 'c6b.hold'] }, false, 1000, 'n2`s registrations gone while it drains');
        note('clean shutdown with a call in flight, 500/1500: registrations gone on n1 and n3', since(fault));
        const taker = await client(n3!, 'taker');
        await taker.register('c6b.single', () => 'n3');
      } finally {
        // The callee still answers the call it holds: it ends with its result.
        leaving.send([70, inv.requestId, {}, ['done']]);
      }
      const r = await inFlight;
      assert.deepEqual(
        [r.ok, r.error, r.args],
        [true, undefined, ['done']],
        `the call in flight ends with its result; n2 logged:\n${n2!.log().slice(-3000)}`,
      );
      assert.deepEqual(await n2!.exited, { code: 0, signal: null });
    },
  );
});
