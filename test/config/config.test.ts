/** The config file: schema, error paths and messages, environment values, mapping to node options. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatProblem } from '../../src/config/errors.ts';
import { loadConfigFile, parseConfigText, validateConfig } from '../../src/config/load.ts';
import { toNodeOptions } from '../../src/config/to-node-options.ts';
import { routerWorkerOf } from '../../src/config/schema.ts';
import { configJsonSchemaText, SCHEMA_FILE } from '../../src/config/json-schema.ts';
import { INIT_CONFIG } from '../../src/cli/init.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** The problems of an invalid config, as `kreuz check` prints them. */
function problems(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    validateConfig(raw, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  assert.fail('expected the config to be refused');
}

const minimal = (transport: unknown, extra: object = {}) => ({
  version: 2,
  workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [transport] }],
  ...extra,
});
const ws = { type: 'websocket', endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' } };

describe('config schema', () => {
  it('accepts the config kreuz init writes', () => {
    const { config, notes } = validateConfig(parseConfigText(INIT_CONFIG, 'config.yaml'), { env: {} });
    assert.equal(routerWorkerOf(config).realms[0].name, 'realm1');
    assert.deepEqual(notes, [], 'the init config binds 127.0.0.1 explicitly');
    const options = toNodeOptions({ config, baseDir: '/tmp' });
    assert.deepEqual(
      options.transports?.map((t) => [t.type, t.endpoint]),
      [
        ['web', { host: '127.0.0.1', port: 8080 }],
        ['rawsocket', { host: '127.0.0.1', port: 8081 }],
      ],
    );
  });

  it("names every key of Crossbar's documentation example that Kreuz does not support, with what to do instead", () => {
    const raw = JSON.parse(readFileSync(fixture('crossbar-docs-example.json'), 'utf8'));
    // Web services ("static", "longpoll") are named by their own module, with its own hints.
    const found = problems(raw);
    assert.deepEqual(
      found.filter((p) => !/\.paths\.[^.]+\.type: /.test(p)),
      [
        'workers[0].realms[0].store.call-queue: "call-queue" is not supported by Kreuz (use kreuz.call_queue_limit, one limit for every registration)',
        'workers[0].transports[0].paths.ws.auth.tls: "tls" is not supported by Kreuz (Kreuz has no TLS client-certificate authentication: give each client a key pair and use "cryptosign", or use "ticket")',
        'workers[0].transports[0].paths.ws.auth.cookie: "cookie" is not supported by Kreuz (Kreuz has no cookie authentication: a client authenticates again on each connection ("ticket", "wampcra", "cryptosign" or "scram"))',
      ],
    );
    assert.ok(!found.some((p) => p.includes('.paths.lp')), `the longpoll path is served: ${found.join('\n')}`);
    // Accepted: pythonpath and the router component (run under Python), the chunk size and the cookie, each with a note.
    let notes: string[] = [];
    try {
      validateConfig(raw, { env: {} });
    } catch (err) {
      notes = (err as ConfigError).notes.map(formatProblem);
    }
    assert.deepEqual(notes, [
      'workers[0].realms[0].options.event_dispatching_chunk_size: accepted: Kreuz sends an event to all its subscribers at once, its writes batched per tick; there are no chunks to size',
      'workers[0].transports[0].paths.ws.cookie: accepted: Kreuz sets no tracking cookie (cbtid): nothing else depends on it, and cookie authentication is not supported by Kreuz',
    ]);
  });

  it('accepts a Crossbar router config (websocket + rawsocket, static roles, ticket auth, event history) unchanged', () => {
    const { config } = loadConfigFile(fixture('crossbar-router.json'), { env: { BACKEND_TICKET: 't0ps3cret' } });
    const options = toNodeOptions({ config, baseDir: '/srv/node' });
    const realm = options.realms![0] as Exclude<NonNullable<typeof options.realms>[number], string>;
    // Roles and auth are passed on exactly as written (with the environment value put in).
    assert.deepEqual(realm.roles, routerWorkerOf(config).realms[0].roles);
    assert.deepEqual(realm.eventHistory, [{ uri: 'com.example.oncounter', match: 'exact', limit: 10 }]);
    const [web, raw] = options.transports!;
    assert.equal(web.type, 'websocket');
    assert.equal(raw.type, 'rawsocket');
    if (web.type !== 'websocket' || raw.type !== 'rawsocket') return;
    assert.equal(web.path, '/ws', 'the path of the url');
    assert.deepEqual(web.serializers, ['json', 'msgpack', 'cbor']);
    assert.equal(web.maxMessageSize, 1048576);
    assert.equal(web.autoPingInterval, 10000);
    assert.deepEqual(web.auth, {
      ticket: {
        type: 'static',
        principals: { backend1: { ticket: 't0ps3cret', role: 'backend' }, browser: { ticket: 'browser-secret', role: 'frontend' } },
      },
    });
    assert.deepEqual(raw.auth, { ticket: { type: 'static', principals: { backend1: { ticket: 't0ps3cret', role: 'backend' } } } });
    assert.deepEqual(raw.serializers, ['msgpack', 'json']);
  });

  it("maps Crossbar's tuning knobs to the transports' own options", () => {
    const raw = minimal({
      type: 'websocket',
      endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1', backlog: 100 },
      serializers: ['ubjson', 'json'],
      options: {
        compression: {
          deflate: {
            request_no_context_takeover: true,
            request_max_window_bits: 0,
            no_context_takeover: false,
            max_window_bits: 12,
            memory_level: 5,
          },
        },
        auto_fragment_size: 4096,
        auto_ping_size: 20,
        auto_ping_restart_on_any_traffic: false,
        close_handshake_timeout: 0,
        fail_by_drop: true,
        allow_null_origin: true,
        require_websocket_subprotocol: false,
        enable_hybi10: false,
        tcp_nodelay: false,
      },
    });
    const [t] = toNodeOptions({ config: validateConfig(raw).config, baseDir: '/srv' }).transports ?? [];
    assert.ok(t?.type === 'websocket');
    const { type: _, endpoint, ...service } = t;
    assert.deepEqual(endpoint, { host: '127.0.0.1', port: 8080, backlog: 100 });
    assert.deepEqual(service, {
      serializers: ['json'],
      compression: { clientNoContextTakeover: true, serverNoContextTakeover: false, serverMaxWindowBits: 12, memLevel: 5 },
      allowNullOrigin: true,
      autoPingSize: 20,
      autoPingRestartOnAnyTraffic: false,
      autoFragmentSize: 4096,
      failByDrop: true,
      requireSubprotocol: false,
      versions: [13],
      tcpNoDelay: false,
      anyPath: true, // no url: any path, as Crossbar
    });
  });

  it('reports unknown keys at their exact path, with the keys known there', () => {
    assert.deepEqual(problems(minimal({ ...ws, typo: 1 })), [
      'workers[0].transports[0].typo: unknown key (known here: type, id, endpoint, url, serializers, options, auth, cookie, debug, debug_traffic, debug_ping_pong)',
    ]);
    assert.deepEqual(problems({ ...minimal(ws), extra: true }), [
      'extra: unknown key (known here: $schema, version, controller, workers, kreuz)',
    ]);
  });

  it('says why a value is wrong, with its path', () => {
    assert.deepEqual(
      problems(
        minimal({
          type: 'websocket',
          endpoint: { type: 'tcp', port: 70000 },
          serializers: ['json', 'ubjson', 'xml'],
          options: { max_message_size: -1, compression: 'yes', mask_server_frames: true },
        }),
      ),
      [
        'workers[0].transports[0].endpoint.port: must be at most 65535, got 70000',
        'workers[0].transports[0].serializers[2]: must be one of "json", "msgpack", "cbor" (Crossbar\'s "ubjson" and "flatbuffers" are accepted beside them), got "xml"',
        'workers[0].transports[0].options.max_message_size: must be more than 0, got -1',
        'workers[0].transports[0].options.compression: must be true or false, got a string',
        'workers[0].transports[0].options.mask_server_frames: true is not supported by Kreuz: a server sends unmasked frames, as RFC 6455 requires (remove the key)',
      ],
    );
    assert.deepEqual(problems(minimal({ ...ws, serializers: ['ubjson'] })), [
      'workers[0].transports[0].serializers: names only serializers Kreuz does not have (ubjson, flatbuffers): add json, msgpack or cbor',
    ]);
    assert.deepEqual(problems(minimal({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 } })), [
      'workers[0].transports[0].type: "mqtt" is not supported by Kreuz (Kreuz has no MQTT bridge: connect MQTT devices to an MQTT broker and bridge it with a WAMP component, or speak WAMP from the device)',
    ]);
    assert.deepEqual(problems(minimal({ endpoint: { type: 'tcp', port: 1 } })), [
      'workers[0].transports[0].type: is required (one of "websocket", "rawsocket", "web", "universal")',
    ]);
    assert.deepEqual(problems({ version: 3, workers: [{ type: 'proxy' }] }), [
      'version: must be 2 (Crossbar config version 2)',
      'workers[0].type: "proxy" is not supported by Kreuz (Kreuz has no proxy workers: clients connect to the router worker\'s transports directly; to spread load, run several Kreuz nodes joined with "kreuz.cluster" behind a load balancer)',
      'workers: has no router worker: Kreuz runs one per node; add {"type": "router", "realms": [...], "transports": [...]} (kreuz init writes one)',
    ]);
    assert.deepEqual(problems({ workers: [] }), [
      'workers: has no router worker: Kreuz runs one per node; add {"type": "router", "realms": [...], "transports": [...]} (kreuz init writes one)',
    ]);
  });

  it('checks roles in their Crossbar shape', () => {
    const withRoles = (roles: unknown) => ({
      version: 2,
      workers: [{ type: 'router', realms: [{ name: 'realm1', roles }, { name: 'realm2' }], transports: [ws] }],
    });
    assert.deepEqual(
      problems(
        withRoles([
          { name: 'a', permissions: [{ uri: 'com.x', match: 'glob', allow: { call: 'yes', delete: true } }] },
          { name: 'b', permissions: [], authorizer: 'com.authorize' },
          { name: 'a', 'allow-by-default': true },
        ]),
      ),
      [
        'workers[0].realms[0].roles[0].permissions[0].match: must be one of "exact", "prefix", "wildcard", got "glob"',
        'workers[0].realms[0].roles[0].permissions[0].allow.call: must be true or false, got a string',
        'workers[0].realms[0].roles[0].permissions[0].allow.delete: unknown key (known here: call, register, publish, subscribe)',
        'workers[0].realms[0].roles[1].authorizer: a role has either "permissions" or an "authorizer", not both',
      ],
    );
    assert.deepEqual(problems(withRoles([{ name: 'a' }, { name: 'a' }])), [
      'workers[0].realms[0].roles[1].name: role "a" is defined twice in this realm',
    ]);
  });

  it('checks transport auth in its Crossbar shape, down to each principal', () => {
    const withAuth = (auth: unknown) => minimal({ ...ws, auth });
    assert.deepEqual(problems(withAuth({ ticket: { type: 'static', principals: { joe: { ticket: 'x' } } }, magic: {} })), [
      'workers[0].transports[0].auth.ticket.principals.joe.role: is required',
      'workers[0].transports[0].auth.magic: unknown key (known here: anonymous, ticket, wampcra, cryptosign, scram, wamp-scram)',
    ]);
    assert.deepEqual(problems(withAuth({ wampcra: { type: 'function', callbacks: 'x.y' } })), [
      'workers[0].transports[0].auth.wampcra.type: "function" is not supported by Kreuz (a Python function inside Crossbar: register the same logic as a procedure and use {"type": "dynamic", "authenticator": <its URI>})',
    ]);
    assert.deepEqual(
      problems(withAuth({ cryptosign: { type: 'static', principals: { joe: { role: 'x', authorized_keys: ['abcd'] } } } })),
      ['workers[0].transports[0].auth.cryptosign.principals.joe.authorized_keys[0]: must be 32 bytes as 64 hex digits'],
    );
    // What only src/auth knows (iterations without a salt) comes from there, with the same path style.
    assert.deepEqual(problems(withAuth({ wampcra: { type: 'static', users: { peter: { secret: 's', role: 'r', iterations: 10 } } } })), [
      'workers[0].transports[0].auth.wampcra.users.peter: "iterations" and "keylen" need a "salt"',
    ]);
    assert.deepEqual(problems(withAuth({})), ['workers[0].transports[0].auth: configures no authentication method']);
  });

  it('finds realms, ports and paths used twice, and missing TLS files', () => {
    const raw = {
      version: 2,
      workers: [
        {
          type: 'router',
          realms: [{ name: 'realm1' }, { name: 'realm1' }],
          transports: [
            {
              type: 'web',
              endpoint: { type: 'tcp', port: 8080, interface: '0.0.0.0' },
              paths: { ws: { type: 'websocket' }, '/ws': { type: 'nodeinfo' } },
            },
            {
              type: 'rawsocket',
              endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1', tls: { key: 'missing.key', certificate: 'missing.crt' } },
            },
          ],
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-config-'));
    try {
      let found: string[] = [];
      try {
        validateConfig(raw, { baseDir: dir });
      } catch (err) {
        found = (err as ConfigError).problems.map(formatProblem);
      }
      assert.deepEqual(found, [
        'workers[0].realms[1].name: realm "realm1" is already defined at workers[0].realms[0]',
        'workers[0].transports[0].paths./ws: path /ws is already configured as "ws"',
        'workers[0].transports[1].endpoint.port: port 8080 is already used by workers[0].transports[0]',
        `workers[0].transports[1].endpoint.tls.key: file not found: ${join(dir, 'missing.key')}`,
        `workers[0].transports[1].endpoint.tls.certificate: file not found: ${join(dir, 'missing.crt')}`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a meta API on some realms only, and notes a realm anonymous clients cannot join', () => {
    const raw = {
      version: 2,
      workers: [
        {
          type: 'router',
          realms: [
            { name: 'realm1', roles: [{ name: 'user', 'allow-by-default': true }] },
            { name: 'realm2', options: { enable_meta_api: false } },
          ],
          transports: [ws],
        },
      ],
    };
    assert.deepEqual(problems(raw), [
      'workers[0].realms[1].options.enable_meta_api: must be the same on every realm: Kreuz turns the meta API on for all realms or for none',
    ]);
    raw.workers[0].realms[1].options = { enable_meta_api: true };
    assert.deepEqual(validateConfig(raw).notes.map(formatProblem), [
      'workers[0].realms[0].roles: has no role "anonymous": the clients of transports without "auth" (anonymous, role "anonymous") cannot join this realm',
    ]);
  });

  it('notes a TCP endpoint without interface: Kreuz binds 127.0.0.1 where Crossbar binds every interface', () => {
    const { notes } = validateConfig(minimal({ type: 'rawsocket', endpoint: { type: 'tcp', port: 8081 } }));
    assert.deepEqual(notes.map(formatProblem), [
      'workers[0].transports[0].endpoint.interface: not set: Kreuz listens on 127.0.0.1 only (Crossbar listens on every interface); set "0.0.0.0" or "::" to accept remote clients',
    ]);
  });
});

describe('environment values', () => {
  it('reads whole-string ${VAR} and $VAR values from the environment', () => {
    const raw = minimal({
      type: 'websocket',
      endpoint: { type: 'tcp', port: '${PORT}', interface: '$HOST' },
      options: { compression: '${DEFLATE}' },
      auth: { ticket: { type: 'static', principals: { joe: { ticket: '${JOE_TICKET}', role: 'user' } } } },
    });
    const { config } = validateConfig(raw, { env: { PORT: '9090', HOST: '127.0.0.2', DEFLATE: 'true', JOE_TICKET: 's3cret' } });
    const t = routerWorkerOf(config).transports[0];
    assert.equal(t.type, 'websocket');
    if (t.type !== 'websocket') return;
    assert.deepEqual(
      t.endpoint,
      { type: 'tcp', port: 9090, interface: '127.0.0.2' },
      'a number from the environment is a number where one is wanted',
    );
    assert.equal(t.options?.compression, true);
    assert.equal((t.auth?.ticket as { principals: Record<string, { ticket: string }> } | undefined)?.principals.joe.ticket, 's3cret');
  });

  it('leaves strings that only contain a $ alone', () => {
    const raw = minimal({ ...ws, auth: { ticket: { type: 'static', principals: { joe: { ticket: 'pa$$word-$X', role: 'user' } } } } });
    const t = routerWorkerOf(validateConfig(raw, { env: {} }).config).transports[0] as unknown as {
      auth: { ticket: { principals: { joe: { ticket: string } } } };
    };
    assert.equal(t.auth.ticket.principals.joe.ticket, 'pa$$word-$X');
  });

  it('names a variable that is not set, once, at the path that uses it', () => {
    const raw = minimal({ type: 'websocket', endpoint: { type: 'tcp', port: '${KREUZ_TEST_UNSET_PORT}', interface: '127.0.0.1' } });
    assert.deepEqual(problems(raw), ['workers[0].transports[0].endpoint.port: environment variable KREUZ_TEST_UNSET_PORT is not set']);
  });

  it('still says when an environment value is of the wrong kind', () => {
    const raw = minimal({ type: 'websocket', endpoint: { type: 'tcp', port: '${PORT}', interface: '127.0.0.1' } });
    assert.deepEqual(problems(raw, { PORT: 'http' }), ['workers[0].transports[0].endpoint.port: must be a number, got a string']);
  });
});

describe('config files', () => {
  it('reads YAML and JSON files, and reports a YAML syntax error with its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-config-'));
    try {
      const yamlFile = join(dir, 'config.yaml');
      writeFileSync(yamlFile, INIT_CONFIG);
      assert.equal(loadConfigFile(yamlFile).config.version, 2);
      assert.equal(loadConfigFile(yamlFile).baseDir, dir, 'relative paths are relative to the file');
      const jsonFile = join(dir, 'config.json');
      writeFileSync(jsonFile, JSON.stringify(minimal(ws)));
      assert.equal(loadConfigFile(jsonFile).config.workers.length, 1);
      writeFileSync(yamlFile, 'version: 2\nworkers:\n  - type: router\n   realms: []\n');
      assert.throws(
        () => loadConfigFile(yamlFile),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, 'a ConfigError');
          assert.match(err.problems[0].message, new RegExp(`^${yamlFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: `));
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves TLS files and Unix socket paths against the config file directory, which must exist', () => {
    const raw = minimal({ type: 'rawsocket', endpoint: { type: 'unix', path: 'run/kreuz.sock', backlog: 64 } });
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-config-'));
    try {
      assert.throws(
        () => validateConfig(raw, { baseDir: dir }),
        (err: unknown) => {
          assert.deepEqual((err as ConfigError).problems.map(formatProblem), [
            `workers[0].transports[0].endpoint.path: directory not found: ${join(dir, 'run')} (create it, or put the socket in one that exists)`,
          ]);
          return true;
        },
      );
      mkdirSync(join(dir, 'run'));
      const options = toNodeOptions({ config: validateConfig(raw, { baseDir: dir }).config, baseDir: '/srv/kreuz' });
      assert.deepEqual(options.transports?.[0].endpoint, { path: '/srv/kreuz/run/kreuz.sock', backlog: 64 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('publishes the schema as JSON Schema: the committed file is what npm run schema generates', () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    assert.ok(committed === configJsonSchemaText(), 'schema/kreuz-config.schema.json is out of date: run npm run schema');
    const schema = JSON.parse(committed);
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false, 'unknown top-level keys are refused by editors too');
    assert.ok(schema.$defs?.TransportAuth, 'transport auth has a definition of its own');
  });
});
