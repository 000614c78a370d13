// An Autobahn|JS client in its own process, for what the test process cannot
// do itself: Node's global WebSocket (which Autobahn|JS uses) has no option to
// trust a certificate, but a child started with NODE_EXTRA_CA_CERTS trusts it.
//
// Usage: node --experimental-websocket autobahn-js-child.mjs <url> <json|msgpack|cbor>
// Joins realm1, registers and calls a procedure, subscribes and publishes,
// prints ONE JSON line with what it saw, exits 0; exits 1 on any failure;
// bounded by a 10 s overall timeout.
import autobahn from 'autobahn';

const [url, serializerName] = process.argv.slice(2);
const serializers = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
  cbor: () => new autobahn.serializer.CBORSerializer(),
};

const overall = setTimeout(() => {
  console.error('timeout: nothing within 10 s');
  process.exit(1);
}, 10_000);

const connection = new autobahn.Connection({
  url,
  realm: 'realm1',
  serializers: [serializers[serializerName]()],
  max_retries: 0,
  retry_if_unreachable: false,
});

connection.onopen = async (session) => {
  try {
    await session.register('com.example.child.add2', (args) => args[0] + args[1]);
    const sum = await session.call('com.example.child.add2', [20, 22]);
    const event = new Promise((resolve) => session.subscribe('com.example.child.topic', (args) => resolve(args)));
    await session.publish('com.example.child.topic', ['hello'], {}, { exclude_me: false, acknowledge: true });
    const eventArgs = await event;
    console.log(JSON.stringify({ sum, eventArgs, transport: session._socket.info.type }));
    clearTimeout(overall);
    connection.onclose = () => {
      process.exit(0);
    };
    connection.close();
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
};

connection.onclose = (reason, details) => {
  console.error(`closed before finishing: ${reason} ${JSON.stringify(details)}`);
  process.exit(1);
};

connection.open();
