/**
 * Live traffic for the dashboard tests, from real Autobahn|JS clients: on
 * realm1 a callee (com.example.add, com.example.fail), a caller calling
 * add in a loop, a publisher publishing com.example.tick in a loop, two
 * subscribers of it and one of com.example.other; on realm2 a callee of
 * com.realm2.secret and a subscriber of com.realm2.news (what realm1's
 * unprivileged visitor must never see). The loops are bounded: one call or
 * publication at a time, a pause between, until stopped.
 */
import { type AbClient, autobahn, openAutobahn } from '../helpers/autobahn-js.ts';

const PAUSE_MS = 20;

export interface Traffic {
  /** Calls answered and publications acknowledged so far. */
  readonly calls: number;
  readonly publications: number;
  readonly realm1: AbClient[];
  readonly realm2: AbClient[];
  stop(): Promise<void>;
}

export async function startTraffic(url: string): Promise<Traffic> {
  const [callee, caller, publisher, sub1, sub2, sub3] = await Promise.all([
    openAutobahn(url, 'msgpack'),
    openAutobahn(url, 'json'),
    openAutobahn(url, 'cbor'),
    openAutobahn(url, 'json'),
    openAutobahn(url, 'msgpack'),
    openAutobahn(url, 'json'),
  ]);
  const [secretCallee, newsSubscriber] = await Promise.all([openAutobahn(url, 'json', 'realm2'), openAutobahn(url, 'json', 'realm2')]);

  await callee.session.register('com.example.add', (args: number[]) => args[0] + args[1]);
  // A rejected promise of an application error: an ERROR answer, without Autobahn logging a stack for each.
  await callee.session.register('com.example.fail', () => Promise.reject(new autobahn.Error('com.example.failed', ['always fails'])));
  await sub1.session.subscribe('com.example.tick', () => {});
  await sub2.session.subscribe('com.example.tick', () => {});
  await sub3.session.subscribe('com.example.other', () => {});
  await secretCallee.session.register('com.realm2.secret', () => 'secret');
  await newsSubscriber.session.subscribe('com.realm2.news', () => {});

  let running = true;
  let calls = 0;
  let publications = 0;
  const pause = () => new Promise((r) => setTimeout(r, PAUSE_MS));
  const callLoop = (async () => {
    for (let i = 0; running; i++) {
      await caller.session.call('com.example.add', [i, 1]).catch(() => {});
      calls++;
      if (i % 10 === 0) await caller.session.call('com.example.fail').catch(() => {});
      await pause();
    }
  })();
  const publishLoop = (async () => {
    for (let i = 0; running; i++) {
      await publisher.session.publish('com.example.tick', [i], {}, { acknowledge: true }).catch(() => {});
      publications++;
      await pause();
    }
  })();

  const realm1 = [callee, caller, publisher, sub1, sub2, sub3];
  const realm2 = [secretCallee, newsSubscriber];
  return {
    get calls() {
      return calls;
    },
    get publications() {
      return publications;
    },
    realm1,
    realm2,
    async stop() {
      running = false;
      await Promise.all([callLoop, publishLoop]);
      await Promise.all([...realm1, ...realm2].map((c) => c.close()));
    },
  };
}
