/** Authorization by realm roles: static permissions, defaults, disclosure, and dynamic authorizers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { InternalCaller } from '../../src/core/internal-caller.ts';
import type { TransportAuth } from '../../src/core/authentication.ts';
import { buildAuthorizer, starred, type RoleConfig } from '../../src/authz/roles.ts';
import { enableMetaApi } from '../../src/meta/index.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { flush } from '../helpers/meta-calls.ts';

const ALL = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

/** Test-only authentication: the client names its role in authextra. */
const roleFromHello: TransportAuth = new Map([
  [
    'anonymous',
    {
      method: 'anonymous',
      start: (r) => ({
        kind: 'welcome',
        principal: { authid: r.authid ?? 'x', authrole: r.authextra.role as string, authprovider: 'static' },
      }),
    },
  ],
]);

function setup(roles: RoleConfig[], meta = false) {
  let router!: Router;
  const caller = { call: (...a: Parameters<InternalCaller['call']>) => internal.call(...a) } as InternalCaller;
  router = new Router({ realms: [{ name: 'realm1', authorizer: buildAuthorizer('realm1', roles, caller) }] });
  const internal = new InternalCaller(router);
  if (meta) enableMetaApi(router);
  const join = (role: string, authid = role) => MemoryClient.join(router, 'realm1', ALL, roleFromHello, { authid, authextra: { role } });
  return { router, join };
}

const ROLES: RoleConfig[] = [
  {
    name: 'frontend',
    permissions: [
      { uri: 'com.app.', match: 'prefix', allow: { call: true, subscribe: true } },
      { uri: 'com.app.admin.', match: 'prefix', allow: {} },
      { uri: 'com.app.admin.status', match: 'exact', allow: { call: true } },
      { uri: 'com.app..public', match: 'wildcard', allow: { call: true, publish: true } },
      { uri: 'org..public', match: 'wildcard', allow: { publish: true } },
    ],
  },
  {
    name: 'backend',
    permissions: [
      {
        uri: 'com.app.*',
        allow: { register: true, publish: true, subscribe: true, call: true },
        disclose: { caller: true, publisher: true },
      },
    ],
  },
  { name: 'open', 'allow-by-default': true },
  { name: 'closed' },
];

describe('static roles', () => {
  it('converts Crossbar starred URIs', () => {
    assert.deepEqual(starred('com.app.add'), { uri: 'com.app.add', match: 'exact' });
    assert.deepEqual(starred('com.app.*'), { uri: 'com.app.', match: 'prefix' });
    assert.deepEqual(starred('com.*.add'), { uri: 'com..add', match: 'wildcard' });
    assert.deepEqual(starred('*'), { uri: '', match: 'prefix' });
  });

  it('allows and denies each action by the permission Crossbar would choose (exact, wildcard, longest prefix)', () => {
    const { join } = setup(ROLES);
    const backend = join('backend');
    const frontend = join('frontend');
    for (const uri of ['com.app.add', 'com.app.admin.status', 'com.app.admin.reset', 'com.app.x.public']) backend.register(uri);

    /** The error URI a frontend CALL gets, or 'routed' if the backend got the INVOCATION. */
    const call = (uri: string) => {
      frontend.send([48, frontend.request(), {}, uri]);
      const [reply] = frontend.take();
      if (reply) return reply[4];
      const [invocation] = backend.take();
      assert.equal(invocation?.[0], 68, `expected an INVOCATION for ${uri}`);
      return 'routed';
    };
    assert.equal(call('com.app.add'), 'routed', 'prefix com.app. allows call');
    assert.equal(call('com.app.admin.reset'), 'wamp.error.not_authorized', 'the longer prefix com.app.admin. allows nothing');
    assert.equal(call('com.app.admin.status'), 'routed', 'exact beats both prefixes');
    assert.equal(call('org.other'), 'wamp.error.not_authorized', 'no permission: denied');
    frontend.send([64, frontend.request(), {}, 'com.app.mine']);
    assert.equal(frontend.take()[0][4], 'wamp.error.not_authorized', 'frontend may not register');
    frontend.send([16, frontend.request(), { acknowledge: true }, 'com.app.news']);
    assert.equal(frontend.take()[0][4], 'wamp.error.not_authorized', 'frontend may not publish under com.app.');
    frontend.send([16, frontend.request(), {}, 'com.app.news']);
    assert.deepEqual(frontend.take(), [], 'an unacknowledged denied publish is not answered');
    frontend.send([16, frontend.request(), { acknowledge: true }, 'com.app.x.public']);
    assert.equal(frontend.take()[0][0], 17, 'as in Crossbar, the wildcard com.app..public beats the prefix com.app.');
    frontend.send([16, frontend.request(), { acknowledge: true }, 'org.x.public']);
    assert.equal(frontend.take()[0][0], 17, 'the wildcard permission applies where no prefix does');
    frontend.send([32, frontend.request(), {}, 'com.app.news']);
    assert.equal(frontend.take()[0][0], 33, 'frontend may subscribe');
  });

  it('checks the URI before authorizing: a malformed URI gets invalid_uri, not not_authorized', () => {
    const { join } = setup(ROLES);
    const frontend = join('frontend');
    frontend.send([48, 1, {}, 'com..bad']);
    assert.equal(frontend.take()[0][4], 'wamp.error.invalid_uri');
  });

  it('allow-by-default true allows everything, a role without permissions denies everything', () => {
    const { join } = setup(ROLES);
    const open = join('open');
    open.register('com.anything.at.all');
    const closed = join('closed');
    closed.send([32, 1, {}, 'com.anything']);
    assert.equal(closed.take()[0][4], 'wamp.error.not_authorized');
  });

  it('refuses a session whose role the realm does not define with no_such_role', () => {
    const { router } = setup(ROLES);
    const client = new MemoryClient(router, roleFromHello);
    client.send([1, 'realm1', { roles: ALL, authextra: { role: 'nobody' } }]);
    const [abort] = client.take();
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.no_such_role']);
  });

  it('discloses caller and publisher when the role says so, whatever the client asked', () => {
    const { join } = setup(ROLES);
    const backend = join('backend', 'svc-1');
    const other = join('backend', 'svc-2');
    other.register('com.app.whoami');
    other.subscribe('com.app.events');
    backend.send([48, 1, {}, 'com.app.whoami']);
    const invocation = other.take()[0];
    assert.deepEqual(
      [(invocation[3] as any).caller, (invocation[3] as any).caller_authid, (invocation[3] as any).caller_authrole],
      [backend.session.id, 'svc-1', 'backend'],
    );
    backend.send([16, 2, {}, 'com.app.events']);
    const event = other.take()[0];
    assert.deepEqual([(event[3] as any).publisher, (event[3] as any).publisher_authid], [backend.session.id, 'svc-1']);
  });

  it('does not disclose when the role does not say so', () => {
    const { join } = setup(ROLES);
    const backend = join('backend');
    const frontend = join('frontend');
    backend.register('com.app.add');
    frontend.send([48, 1, {}, 'com.app.add']);
    assert.equal((backend.take()[0][3] as any).caller, undefined);
  });

  it('honours REGISTER disclose_caller only where the permission of the callee role allows disclosure (crossbar#447)', () => {
    const roles: RoleConfig[] = [
      { name: 'plain', permissions: [{ uri: 'com.', match: 'prefix', allow: { register: true, call: true } }] },
      {
        name: 'trustedsvc',
        permissions: [{ uri: 'com.', match: 'prefix', allow: { register: true, call: true }, disclose: { caller: true } }],
      },
    ];
    const { join } = setup(roles);
    const plain = join('plain', 'p-1');
    const svc = join('trustedsvc', 's-1');
    const caller = join('plain', 'c-1');
    plain.register('com.a.whoami', { disclose_caller: true });
    svc.register('com.b.whoami', { disclose_caller: true });
    caller.send([48, 1, {}, 'com.a.whoami']);
    caller.send([48, 2, {}, 'com.b.whoami']);
    assert.equal((plain.take()[0][3] as any).caller, undefined, 'asked for, but its role may not learn callers');
    assert.equal((svc.take()[0][3] as any).caller_authid, 'c-1', 'its role allows it');
  });

  it('lets the meta API be reached only by roles granted wamp. URIs', async () => {
    const roles: RoleConfig[] = [
      { name: 'admin', permissions: [{ uri: 'wamp.', match: 'prefix', allow: { call: true, subscribe: true } }] },
      { name: 'user', permissions: [{ uri: 'com.', match: 'prefix', allow: { call: true } }] },
    ];
    const { join } = setup(roles, true);
    const admin = join('admin');
    const user = join('user');
    admin.send([48, 1, {}, 'wamp.session.count']);
    user.send([48, 1, {}, 'wamp.session.count']);
    await flush();
    assert.deepEqual(admin.take()[0].slice(0, 2), [50, 1]);
    assert.equal(user.take()[0][4], 'wamp.error.not_authorized');
    user.send([32, 2, {}, 'wamp.session.on_join']);
    assert.equal(user.take()[0][4], 'wamp.error.not_authorized');
  });
});

describe('precedence as in Crossbar', () => {
  const roles: RoleConfig[] = [
    {
      name: 'app',
      permissions: [
        { uri: 'com.app.', match: 'prefix', allow: { call: true, subscribe: true } },
        { uri: 'com.app..secret', match: 'wildcard', allow: {} },
        { uri: 'com.app.open.secret', match: 'exact', allow: { call: true } },
        { uri: 'com.*.*.log', allow: { call: true } },
        { uri: 'com.app.*.log', allow: {} },
      ],
    },
  ];

  /** The error URI of a CALL by the app role, or 'allowed' (no_such_procedure: it passed authorization). */
  function callAs(uri: string): string {
    const { join } = setup(roles);
    const app = join('app');
    app.send([48, 1, {}, uri]);
    const error = app.take()[0][4] as string;
    return error === 'wamp.error.no_such_procedure' ? 'allowed' : error;
  }

  it('a wildcard deny beats a prefix allow', () => {
    assert.equal(callAs('com.app.x.secret'), 'wamp.error.not_authorized');
    assert.equal(callAs('com.app.x.public'), 'allowed', 'the prefix, where no wildcard matches');
  });

  it('the exact permission beats both', () => {
    assert.equal(callAs('com.app.open.secret'), 'allowed');
  });

  it('between matching wildcards, the longer literal head wins', () => {
    assert.equal(callAs('com.app.x.log'), 'wamp.error.not_authorized', 'com.app..log (head com.app) over com...log (head com)');
    assert.equal(callAs('com.other.x.log'), 'allowed', 'only com...log matches');
  });
});

describe('pattern-based subscriptions and registrations', () => {
  const roles: RoleConfig[] = [
    {
      name: 'reader',
      permissions: [
        { uri: 'com.x.news', match: 'exact', allow: { subscribe: true } },
        { uri: 'com.x.add', match: 'exact', allow: { register: true } },
        { uri: 'com.y.', match: 'prefix', allow: { subscribe: true, register: true } },
        { uri: 'com.y..secret', match: 'wildcard', allow: {} },
      ],
    },
    { name: 'publisher', 'allow-by-default': true },
  ];

  const ask = (client: MemoryClient, type: number, uri: string, options: object) => {
    client.send([type, client.request(), options, uri]);
    const [reply] = client.take();
    if (reply[0] === 8) return reply[4] as string;
    assert.ok(reply[0] === 33 || reply[0] === 65, JSON.stringify(reply));
    return 'ok';
  };

  it('refuses a prefix pattern over an exact permission: it would reach more than that URI', () => {
    const { join } = setup(roles);
    const reader = join('reader');
    assert.equal(ask(reader, 32, 'com.x.news', {}), 'ok');
    assert.equal(ask(reader, 32, 'com.x.news', { match: 'prefix' }), 'wamp.error.not_authorized', 'com.x.news.secret');
    assert.equal(ask(reader, 64, 'com.x.add', {}), 'ok');
    assert.equal(ask(reader, 64, 'com.x.add', { match: 'prefix' }), 'wamp.error.not_authorized', 'com.x.add.admin');
  });

  it('allows patterns a prefix grant covers, refuses those a denying wildcard cuts into', () => {
    const { join } = setup(roles);
    const reader = join('reader');
    assert.equal(ask(reader, 32, 'com.y.news', { match: 'prefix' }), 'wamp.error.not_authorized', 'com.y.news.secret');
    assert.equal(ask(reader, 32, 'com.y..public', { match: 'wildcard' }), 'ok');
    assert.equal(ask(reader, 64, 'com.y.a.', { match: 'wildcard' }), 'wamp.error.not_authorized', 'com.y.a.secret');
    assert.equal(ask(reader, 64, 'com.y.a.b.', { match: 'prefix' }), 'ok');
    assert.equal(ask(reader, 32, 'com.y', { match: 'prefix' }), 'wamp.error.not_authorized', 'com.yz by characters');
    // The router refuses an unknown match policy before authorizing; the authorizer too, on its own.
    const authorizer = buildAuthorizer('realm1', roles, {} as InternalCaller);
    assert.deepEqual(authorizer.authorize(reader.session, 'com.y.x', 'subscribe', { match: 'regex' }), { allow: false });
  });

  it('an event the pattern would have leaked is not delivered: the subscription does not exist', () => {
    const { join } = setup(roles);
    const reader = join('reader');
    const publisher = join('publisher');
    assert.equal(ask(reader, 32, 'com.x.news', { match: 'prefix' }), 'wamp.error.not_authorized');
    publisher.send([16, 1, {}, 'com.x.news.secret', ['classified']]);
    assert.deepEqual(reader.take(), []);
  });

  it('allow-by-default and trusted cover every pattern', () => {
    const { join } = setup(roles);
    const open = join('publisher');
    assert.equal(ask(open, 32, '', { match: 'prefix' }), 'ok');
    assert.equal(ask(open, 64, '..', { match: 'wildcard' }), 'ok');
  });
});

describe('role names and URIs are data', () => {
  const roles: RoleConfig[] = [
    {
      name: 'constructor',
      permissions: [
        { uri: 'constructor', match: 'exact', allow: { call: true } },
        { uri: '__proto__.', match: 'prefix', allow: { subscribe: true } },
      ],
    },
    { name: 'hasOwnProperty', permissions: [{ uri: 'toString..valueOf', match: 'wildcard', allow: { subscribe: true } }] },
  ];

  it('a role named "constructor" works like any other, and Object.prototype names are plain URIs', () => {
    const { join } = setup(roles);
    const c = join('constructor');
    c.send([48, 1, {}, 'constructor']);
    assert.equal(c.take()[0][4], 'wamp.error.no_such_procedure', 'authorized; nobody registered it');
    c.send([48, 2, {}, 'toString']);
    assert.equal(c.take()[0][4], 'wamp.error.not_authorized');
    c.send([32, 3, { match: 'prefix' }, '__proto__.x']);
    assert.equal(c.take()[0][0], 33);
    c.send([32, 4, { match: 'prefix' }, 'valueOf']);
    assert.equal(c.take()[0][4], 'wamp.error.not_authorized');
    const h = join('hasOwnProperty');
    h.send([32, 1, { match: 'wildcard' }, 'toString.constructor.valueOf']);
    assert.equal(h.take()[0][0], 33);
  });

  it('authroles "__proto__", "toString" and "valueOf" are roles the realm does not define', () => {
    const { router } = setup(roles);
    for (const role of ['__proto__', 'toString', 'valueOf', 'trustedx']) {
      const client = new MemoryClient(router, roleFromHello);
      client.send([1, 'realm1', { roles: ALL, authextra: { role } }]);
      const [abort] = client.take();
      assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.no_such_role'], role);
    }
  });
});

describe('dynamic authorizer', () => {
  const roles: RoleConfig[] = [
    { name: 'authorizer', permissions: [{ uri: 'com.example.authorize', match: 'exact', allow: { register: true } }] },
    { name: 'dynamic', authorizer: 'com.example.authorize' },
    { name: 'backend', 'allow-by-default': true },
  ];

  /** Registers the authorizer procedure; answers each INVOCATION with `decide`. */
  function authorizerClient(join: (role: string) => MemoryClient, decide: (uri: string, action: string) => unknown) {
    const client = join('authorizer');
    client.register('com.example.authorize');
    const seen: unknown[][] = [];
    const answer = () => {
      for (const m of client.take()) {
        if (m[0] !== 68) continue;
        const args = m[4] as [Record<string, unknown>, string, string, object];
        seen.push(args);
        client.send([70, m[1], {}, [decide(args[1], args[2])]]);
      }
    };
    return { client, seen, answer };
  }

  it('is called with (session details, uri, action, options) and its answer decides, in message order', async () => {
    const { join } = setup(roles);
    const auth = authorizerClient(join, (uri) => (uri.startsWith('com.ok.') ? { allow: true } : false));
    const backend = join('backend');
    backend.register('com.ok.add');
    const user = join('dynamic', 'user-7');
    user.send([48, 1, {}, 'com.ok.add', [1]]);
    user.send([48, 2, {}, 'com.no.add', [2]]);
    // Both calls wait for the authorizer, in order.
    assert.deepEqual(user.take(), []);
    for (let i = 0; i < 5; i++) {
      auth.answer();
      await flush();
    }
    const [details, uri, action, options] = auth.seen[0] as [Record<string, unknown>, string, string, object];
    assert.deepEqual(
      [details.session, details.authid, details.authrole, uri, action, options],
      [user.session.id, 'user-7', 'dynamic', 'com.ok.add', 'call', {}],
    );
    assert.equal(backend.take()[0][0], 68, 'the allowed call was routed');
    assert.deepEqual(
      user.take().map((m) => [m[0], m[2], m[4]]),
      [[8, 2, 'wamp.error.not_authorized']],
    );
  });

  it('caches decisions marked cache: true per (authrole, uri, action)', async () => {
    const { join } = setup(roles);
    const auth = authorizerClient(join, () => ({ allow: true, cache: true }));
    join('backend').register('com.ok.x');
    const a = join('dynamic', 'a');
    const b = join('dynamic', 'b');
    for (const c of [a, b, a]) {
      c.send([48, c.request(), {}, 'com.ok.x']);
      for (let i = 0; i < 3; i++) {
        auth.answer();
        await flush();
      }
    }
    assert.equal(auth.seen.length, 1, 'asked once, then cached for the role');
  });

  it('gets the options of a pattern SUBSCRIBE, match included, and caches its answer per match policy', async () => {
    const { join } = setup(roles);
    // Yes to the exact topic only, cached: the answer must not carry over to the prefix.
    const auth = authorizerClient(join, (_uri, _action) => ({ allow: true, cache: true }));
    const user = join('dynamic');
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        auth.answer();
        await flush();
      }
    };
    user.send([32, 1, {}, 'com.ok.news']);
    await settle();
    user.send([32, 2, { match: 'prefix' }, 'com.ok.news']);
    await settle();
    assert.deepEqual(
      auth.seen.map((a) => [a[1], a[2], a[3]]),
      [
        ['com.ok.news', 'subscribe', {}],
        ['com.ok.news', 'subscribe', { match: 'prefix' }],
      ],
      'asked twice: the cached exact answer is not reused for the prefix',
    );
  });

  it('answers wamp.error.authorization_failed when the authorizer fails or answers nonsense', async () => {
    const { join } = setup(roles);
    const auth = authorizerClient(join, () => 'yes please');
    const user = join('dynamic');
    user.send([32, 1, {}, 'com.ok.topic']);
    for (let i = 0; i < 3; i++) {
      auth.answer();
      await flush();
    }
    assert.equal(user.take()[0][4], 'wamp.error.authorization_failed');
  });
});
