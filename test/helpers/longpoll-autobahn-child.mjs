// An Autobahn|JS client over its own long-poll transport, in a process of its
// own: Autobahn|JS's long-poll needs a global XMLHttpRequest, which Node has
// not; xhr2 (a devDependency) provides it here, in this child only.
//
// Usage: node longpoll-autobahn-child.mjs <long-poll base URL> <realm>
// Joins, prints {"event":"open","session":...,"transport":...}, then takes one
// JSON command per stdin line and answers each with one stdout line carrying
// its id:
//   {"id":1,"op":"call","procedure":"p","args":[...],"kwargs":{...}} -> {"id":1,"args":[...],"kwargs":{...}}
//   {"id":2,"op":"register","procedure":"p"}  (answers ["longpoll", ...args], kwargs)  -> {"id":2,"ok":true}
//   {"id":3,"op":"subscribe","topic":"t"}  (each event: {"event":"event","topic":"t","args":...,"kwargs":...}) -> {"id":3,"ok":true}
//   {"id":4,"op":"publish","topic":"t","args":[...],"kwargs":{...}}  (acknowledged)  -> {"id":4,"ok":true}
//   {"id":5,"op":"leave"}  -> {"event":"closed",...}, exit 0
// A failed command answers {"id":...,"error":"..."}. The whole run is bounded by 30 s.
import { createInterface } from 'node:readline';
import XMLHttpRequest from 'xhr2';

globalThis.XMLHttpRequest = XMLHttpRequest;
const { default: autobahn } = await import('autobahn');

const [url, realm] = process.argv.slice(2);
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const overall = setTimeout(() => {
  console.error('timeout: the long-poll child ran 30 s');
  process.exit(1);
}, 30_000);

const connection = new autobahn.Connection({
  transports: [{ type: 'longpoll', url }],
  realm,
  max_retries: 0,
  retry_if_unreachable: false,
});

let leaving = false;
connection.onclose = (reason, details) => {
  print({ event: 'closed', reason, details });
  clearTimeout(overall);
  // A close we did not ask for is a failure of the run.
  setImmediate(() => process.exit(leaving ? 0 : 1));
  return true;
};

const commands = {
  async call(session, c) {
    const r = await session.call(c.procedure, c.args ?? [], c.kwargs ?? {});
    if (r instanceof autobahn.Result) return { args: r.args, kwargs: r.kwargs };
    return { args: [r], kwargs: {} };
  },
  async register(session, c) {
    await session.register(c.procedure, (args, kwargs) => new autobahn.Result(['longpoll', ...(args ?? [])], kwargs ?? {}));
    return { ok: true };
  },
  async subscribe(session, c) {
    await session.subscribe(c.topic, (args, kwargs) => print({ event: 'event', topic: c.topic, args, kwargs }));
    return { ok: true };
  },
  async publish(session, c) {
    await session.publish(c.topic, c.args ?? [], c.kwargs ?? {}, { acknowledge: true });
    return { ok: true };
  },
  async leave() {
    leaving = true;
    connection.close();
    return { ok: true };
  },
};

connection.onopen = (session) => {
  print({ event: 'open', session: session.id, transport: session._socket.info.type, protocol: session._socket.info.protocol });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const c = JSON.parse(line);
    try {
      const run = commands[c.op];
      if (!run) throw new Error(`unknown op ${c.op}`);
      print({ id: c.id, ...(await run(session, c)) });
    } catch (err) {
      print({ id: c.id, error: err?.error ?? err?.message ?? String(err), args: err?.args });
    }
  });
};

connection.open();
