/**
 * `kreuz check` tells the whole truth: every worker is checked, each problem
 * names its path and what to do instead, errors (Kreuz cannot honour it) and
 * notes (accepted, and what Kreuz does with it) are told apart, and the
 * holes are closed: roles no realm has, realms no worker defines, a Unix
 * socket in a missing directory, cipher lists OpenSSL does not know.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatProblem } from '../../src/config/errors.ts';
import { validateConfig } from '../../src/config/load.ts';
import { check } from '../../src/cli/start.ts';

const ws = { type: 'websocket', endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' } };
const router = (extra: object = {}) => ({ type: 'router', realms: [{ name: 'realm1' }], transports: [ws], ...extra });

/** The errors and the notes of a config, as check prints them. */
function verdict(raw: unknown, baseDir = tmpdir()): { errors: string[]; notes: string[] } {
  try {
    const { notes } = validateConfig(raw, { env: {}, baseDir });
    return { errors: [], notes: notes.map(formatProblem) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { errors: err.problems.map(formatProblem), notes: err.notes.map(formatProblem) };
  }
}

describe('kreuz check: every worker', () => {
  it('refuses each router worker after the first, by its path, and still checks the others', () => {
    const { errors } = verdict({
      workers: [
        router(),
        { type: 'guest', executable: 'node', arguments: ['backend.js'] },
        router({ transports: [{ ...ws, endpoint: { ...ws.endpoint, port: 70000 } }] }),
        router(),
      ],
    });
    const extra = (i: number) =>
      `workers[${i}]: a second router worker: Kreuz runs one router worker per node (workers[0]); move its realms and transports into that one, or run it as another Kreuz node (kreuz.cluster shares realms across nodes)`;
    assert.deepEqual(errors, ['workers[2].transports[0].endpoint.port: must be at most 65535, got 70000', extra(2), extra(3)]);
    assert.deepEqual(verdict({ workers: [{ type: 'guest', executable: 'node' }] }).errors, [
      'workers: has no router worker: Kreuz runs one per node; add {"type": "router", "realms": [...], "transports": [...]} (kreuz init writes one)',
    ]);
  });

  it('accepts guest and container workers in their Crossbar shape, with a note of what Kreuz will do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-check-'));
    try {
      const { errors, notes } = verdict(
        {
          workers: [
            router(),
            {
              type: 'guest',
              executable: 'node',
              arguments: ['hello.js'],
              options: { workdir: '.', env: { inherit: ['PATH'], vars: { DEBUG: '1' } }, watch: { directories: ['.'], action: 'restart' } },
            },
            {
              type: 'container',
              options: { pythonpath: ['..'], restart: 'restart-on-failed', shutdown: 'shutdown-on-last-component-stopped' },
              components: [
                {
                  type: 'class',
                  classname: 'hello.AppSession',
                  realm: 'realm1',
                  transport: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: 8080 }, url: 'ws://127.0.0.1:8080/ws' },
                },
              ],
            },
            { type: 'guest', executable: 'true', options: { workdir: 'missing' } },
          ],
        },
        dir,
      );
      assert.deepEqual(errors, [`workers[3].options.workdir: directory not found: ${join(dir, 'missing')}`]);
      assert.deepEqual(notes, [
        'workers[1]: accepted: Kreuz runs "node" (1 argument, in ".") beside the router and logs its output; as in Crossbar, an exit is not restarted, a change in options.watch.directories restarts it; at shutdown: SIGTERM, SIGKILL after 10 s',
        'workers[2]: accepted: Kreuz runs its component "hello.AppSession" in a Python process of its own (/usr/bin/python3, Autobahn|Python), connecting over its "transport"; when one ends, "shutdown-on-last-component-stopped" and "restart-on-failed" apply, as in Crossbar; at shutdown: SIGTERM, SIGKILL after 10 s',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what to do instead of each Crossbar worker type and component Kreuz lacks', () => {
    const { errors } = verdict({
      workers: [
        router({
          components: [
            { type: 'function', realm: 'realm1', callbacks: { join: 'app.on_join' } },
            { type: 'class', classname: 'a.B', realm: 'nowhere' },
          ],
        }),
        { type: 'proxy' },
        { type: 'xbrmm' },
        {
          type: 'container',
          components: [
            {
              type: 'class',
              classname: 'a.B',
              realm: 'realm1',
              transport: { type: 'websocket', endpoint: { type: 'twisted' }, url: 'ws://x' },
            },
          ],
        },
      ],
    });
    assert.deepEqual(errors, [
      'workers[0].components[0].type: "function" is not supported by Kreuz (function components are Python callables inside Crossbar\'s own process: write it as a "class" component (an ApplicationSession subclass named by "classname"), or run it as a guest worker)',
      'workers[1].type: "proxy" is not supported by Kreuz (Kreuz has no proxy workers: clients connect to the router worker\'s transports directly; to spread load, run several Kreuz nodes joined with "kreuz.cluster" behind a load balancer)',
      'workers[2].type: "xbrmm" is not supported by Kreuz (Kreuz has no XBR market maker: keep this node on Crossbar.io)',
      'workers[3].components[0].transport.endpoint.type: "twisted" is not supported by Kreuz (a component connects to the router over "tcp" or "unix")',
    ]);
    // The router component's realm, once the worker passes the schema.
    assert.deepEqual(verdict({ workers: [router({ components: [{ type: 'class', classname: 'a.B', realm: 'nowhere' }] })] }).errors, [
      'workers[0].components[0].realm: realm "nowhere" is not defined by this router worker: a router component joins one of its realms',
    ]);
  });
});

describe('kreuz check: who can join', () => {
  const withAuth = (auth: unknown, realms: unknown[] = [{ name: 'realm1', roles: [{ name: 'user', 'allow-by-default': true }] }]) => ({
    workers: [{ type: 'router', realms, transports: [{ ...ws, auth }] }],
  });

  it('refuses a principal whose role no realm defines, or whose realm is not there', () => {
    const { errors } = verdict(
      withAuth({
        ticket: {
          type: 'static',
          principals: {
            joe: { ticket: 'x', role: 'user' },
            ann: { ticket: 'y', role: 'admin' },
            bob: { ticket: 'z', role: 'user', realm: 'realm9' },
          },
        },
        wampcra: { type: 'static', users: { peter: { secret: 's', role: 'guest', realm: 'realm1' } } },
        cryptosign: { type: 'dynamic', authenticator: 'com.auth', 'authenticator-realm': 'auth' },
      }),
    );
    const at = 'workers[0].transports[0].auth';
    assert.deepEqual(errors, [
      `${at}.cryptosign.authenticator-realm: realm "auth" is not defined by this router worker (workers[0].realms): the authenticator cannot be called`,
      `${at}.ticket.principals.ann.role: role "admin" is not defined on any realm of this router worker: principal "ann" can join none; add the role to a realm, or give another`,
      `${at}.ticket.principals.bob.realm: realm "realm9" is not defined by this router worker: principal "bob" can join no realm`,
      `${at}.wampcra.users.peter.role: role "guest" is not defined on realm "realm1": principal "peter" cannot join it; add the role there, or give another`,
    ]);
  });

  it('refuses anonymous access whose role no realm has, and notes a realm it cannot join', () => {
    assert.deepEqual(verdict(withAuth({ anonymous: { type: 'static', role: 'public' } })).errors, [
      'workers[0].transports[0].auth.anonymous.role: role "public" is not defined on any realm of this router worker: anonymous access can join none; add the role to a realm, or give another',
    ]);
    assert.deepEqual(verdict(withAuth(undefined)).errors, [
      'workers[0].transports[0].auth: role "anonymous" is not defined on any realm of this router worker: anonymous access (no "auth") can join none; add the role to a realm, or give another',
    ]);
    const realms = [
      { name: 'realm1', roles: [{ name: 'public', 'allow-by-default': true }] },
      { name: 'realm2', roles: [{ name: 'user' }] },
    ];
    const { errors, notes } = verdict(withAuth({ anonymous: { type: 'static', role: 'public', authid: 'visitor' } }, realms));
    assert.deepEqual(errors, []);
    assert.deepEqual(notes, ['workers[0].realms[1].roles: has no role "public": anonymous clients (role "public") cannot join this realm']);
    assert.deepEqual(
      verdict(withAuth({ anonymous: { type: 'static' } }, [{ name: 'realm1' }])).errors,
      [],
      'a realm without roles admits any',
    );
  });
});

describe('kreuz check: knobs', () => {
  it('notes every accepted knob with what Kreuz does instead, and maps the others without a word', () => {
    const { errors, notes } = verdict({
      controller: { id: 'node1', options: { shutdown: ['shutdown_on_shutdown_requested'] } },
      workers: [
        router({
          options: { cpu_affinity: [0, 1], pythonpath: ['..'] },
          transports: [
            {
              type: 'web',
              endpoint: { type: 'tcp', port: 8080, interface: '0.0.0.0', backlog: 1024, shared: true, user_timeout: 100 },
              options: { access_log: true, hsts: false },
              paths: {
                ws: {
                  type: 'websocket',
                  serializers: ['cbor', 'ubjson', 'json'],
                  debug: true,
                  options: {
                    enable_webstatus: true,
                    max_frame_size: 1048576,
                    auto_fragment_size: 65536,
                    fail_by_drop: true,
                    close_handshake_timeout: 1000,
                    auto_ping_size: 12,
                    allow_null_origin: false,
                    compression: {
                      deflate: { request_no_context_takeover: false, request_max_window_bits: 11, max_window_bits: 11, memory_level: 4 },
                    },
                    validate_utf8: true,
                  },
                },
              },
            },
          ],
        }),
      ],
    });
    assert.deepEqual(errors, []);
    const path = 'workers[0].transports[0]';
    assert.deepEqual(notes, [
      "controller.id: accepted: Kreuz has no node controller, and names nothing after the node ID (in a cluster, kreuz.cluster.node is the node's name)",
      'controller.options.shutdown: accepted: Kreuz stops on SIGTERM or SIGINT (kreuz stop), after in-flight calls finish (kreuz.shutdown.timeout)',
      'workers[0].options.cpu_affinity: accepted: Node has no CPU affinity setting: pin the process from outside (taskset -c, or CPUAffinity= in a systemd unit)',
      `${path}.endpoint.shared: accepted: Kreuz runs one router worker, so there is no other worker to share the port with; to spread load, run several Kreuz nodes (kreuz.cluster) behind a load balancer`,
      `${path}.endpoint.user_timeout: accepted: Node cannot set TCP_USER_TIMEOUT; Kreuz finds dead peers with the transport's auto_ping_interval and auto_ping_timeout`,
      `${path}.paths.ws.serializers: accepted: Kreuz has no ubjson: not offered here, so a client that speaks only it cannot connect; the others are offered`,
      `${path}.paths.ws.options.max_frame_size: accepted: ws has no limit per frame: every frame counts towards max_message_size, which bounds what one client can make Kreuz hold`,
      `${path}.paths.ws.options.enable_webstatus: accepted: Kreuz renders no status page: a plain HTTP request to a WebSocket path gets 426 and one line of text (kreuz.info serves health JSON)`,
      `${path}.paths.ws.debug: accepted: Kreuz has no per-transport debug output: run it with --loglevel debug (or kreuz.log.level)`,
      `${path}.options.access_log: accepted: Kreuz writes no HTTP access log: refused WebSocket handshakes are logged (kreuz.log), or log requests in a reverse proxy`,
    ]);
  });

  it('refuses what would change security or what clients see, saying what to do', () => {
    const { errors } = verdict({
      workers: [
        router({
          transports: [
            {
              type: 'web',
              endpoint: {
                type: 'tcp',
                port: 8443,
                interface: '127.0.0.1',
                tls: { key: 'k.pem', certificate: 'c.pem', ciphers: 'NO-SUCH-CIPHER' },
                portrange: [1, 2],
              },
              options: { hsts: true },
              paths: { ws: { type: 'websocket', options: { trust_x_forwarded_for: true } } },
            },
          ],
        }),
      ],
    });
    assert.deepEqual(errors, [
      'workers[0].transports[0].endpoint.portrange: "portrange" is not supported by Kreuz (use "port" (one port; 0 picks a free one))',
      'workers[0].transports[0].paths.ws.options.trust_x_forwarded_for: "trust_x_forwarded_for" is not supported by Kreuz (use "trusted_proxies", a list of the proxies to believe)',
      'workers[0].transports[0].options.hsts: true is not supported by Kreuz: it does not send Strict-Transport-Security; set the header in a reverse proxy in front (e.g. nginx add_header)',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-check-'));
    try {
      writeFileSync(join(dir, 'k.pem'), '');
      writeFileSync(join(dir, 'c.pem'), '');
      const tls = { key: 'k.pem', certificate: 'c.pem', ciphers: 'NO-SUCH-CIPHER', dhparam: 'dh.pem' };
      assert.deepEqual(verdict({ workers: [router({ transports: [{ ...ws, endpoint: { ...ws.endpoint, tls } }] })] }, dir).errors, [
        `workers[0].transports[0].endpoint.tls.dhparam: file not found: ${join(dir, 'dh.pem')}`,
        `workers[0].transports[0].endpoint.tls.ciphers: OpenSSL ${process.versions.openssl} knows none of these ciphers: give an OpenSSL cipher list (openssl ciphers -v)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('notes an allow-list that refuses Origin "null", which Crossbar accepts by default', () => {
    const notes = (options: object) => verdict({ workers: [router({ transports: [{ ...ws, options }] })] }).notes;
    assert.deepEqual(notes({ allowed_origins: ['https://app.example'] }), [
      'workers[0].transports[0].options: accepted: Origin "null" (sandboxed pages, file: URLs) is refused here, as no allowed_origins pattern matches it; Crossbar accepts it unless allow_null_origin is false: set allow_null_origin: true to accept it',
    ]);
    assert.deepEqual(notes({ allowed_origins: ['https://app.example'], allow_null_origin: false }), []);
    assert.deepEqual(notes({ allowed_origins: ['*'] }), []);
  });
});

describe('kreuz check: the command', () => {
  it('prints errors and notes, and exits 1 only on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-check-'));
    try {
      const file = join(dir, 'config.json');
      const run = (config: unknown) => {
        writeFileSync(file, JSON.stringify(config));
        const lines: string[] = [];
        return { status: check({ config: file }, (line) => lines.push(line)), lines };
      };
      const noted = run({ controller: { id: 'n1' }, workers: [router(), { type: 'guest', executable: 'node' }] });
      assert.equal(noted.status, 0);
      assert.deepEqual(noted.lines, [
        "note: controller.id: accepted: Kreuz has no node controller, and names nothing after the node ID (in a cluster, kreuz.cluster.node is the node's name)",
        'note: workers[1]: accepted: Kreuz runs "node" (0 arguments) beside the router and logs its output; as in Crossbar, an exit is not restarted; at shutdown: SIGTERM, SIGKILL after 10 s',
        `${file}: ok (1 realm, 1 transport, 1 guest worker)`,
      ]);
      const refused = run({ controller: { id: 'n1' }, workers: [router(), router()] });
      assert.equal(refused.status, 1);
      assert.deepEqual(refused.lines.at(-1), `${file}: 1 error, 1 note`);
      assert.match(refused.lines[0], /^error: workers\[1\]: a second router worker/);
      assert.match(refused.lines[1], /^note: controller\.id: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
