/**
 * Which permission decides a URI (Crossbar's precedence) and whether a
 * pattern's every reachable URI is allowed, held to a brute-force reference
 * over a finite set of URIs that is provably enough (see UNIVERSE).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { example, freshCharacter, intersects, witness, type Pattern } from '../../src/authz/coverage.ts';
import { PermissionTable, type PermissionConfig } from '../../src/authz/permissions.ts';
import type { MatchPolicy } from '../../src/wamp/uri-syntax.ts';

// ---- the reference: the rules written as plainly as possible ----

function matches(p: Pattern, uri: string): boolean {
  if (p.match === 'exact') return p.uri === uri;
  if (p.match === 'prefix') return uri.startsWith(p.uri);
  const want = p.uri.split('.');
  const parts = uri.split('.');
  return want.length === parts.length && want.every((w, i) => w === '' || w === parts[i]);
}

/** The text before the first empty component (all of it if none). */
function literalHead(uri: string): string {
  const parts = uri.split('.');
  const first = parts.indexOf('');
  return (first < 0 ? parts : parts.slice(0, first)).join('.');
}

/** Exact, else the wildcard with the longest literal head (then: literal first, from the left), else the longest prefix. */
function referenceChoice(permissions: PermissionConfig[], uri: string): PermissionConfig | undefined {
  const found = permissions.filter((p) => matches(p as Pattern, uri));
  const exact = found.find((p) => p.match === 'exact');
  if (exact) return exact;
  const wildcards = found.filter((p) => p.match === 'wildcard');
  wildcards.sort((a, b) => {
    const byHead = literalHead(b.uri).length - literalHead(a.uri).length;
    if (byHead !== 0) return byHead;
    const pa = a.uri.split('.');
    const pb = b.uri.split('.');
    for (let i = 0; i < pa.length; i++) if ((pa[i] === '') !== (pb[i] === '')) return pa[i] === '' ? 1 : -1;
    return 0;
  });
  if (wildcards.length > 0) return wildcards[0];
  return found.filter((p) => p.match === 'prefix').sort((a, b) => b.uri.length - a.uri.length)[0];
}

// ---- the URIs tried ----

/** Components of generated URIs and patterns; prefixes may also cut one short ("a" of "ab"). */
const COMPONENTS = ['a', 'b', 'ab'];
/**
 * Every URI of up to MAX_COMPONENTS + 2 components over COMPONENTS, "z"
 * (a fresh component) and the char-extensions "az", "bz", "abz". Enough,
 * because any URI u decides like one of these, for every generated
 * permission and pattern: map each component c not in COMPONENTS to L(c) +
 * "z", where L(c) is the longest of "", "a", "b", "ab" that c starts with,
 * and drop components beyond MAX_COMPONENTS + 1. Equality with a literal
 * component is kept (literals never contain "z"); so is "starts with" the
 * last, possibly cut, component of a prefix (always one of "", "a", "b",
 * "ab", all prefixes of each other or incomparable alike for c and L(c) +
 * "z"); and a URI longer than every exact or wildcard pattern stays longer,
 * while a prefix only looks at as many components as it has.
 */
const MAX_COMPONENTS = 3;
const UNIVERSE_PARTS = [...COMPONENTS, 'z', 'az', 'bz', 'abz'];
const UNIVERSE: string[] = (() => {
  const out: string[] = [];
  let level = [''];
  for (let n = 1; n <= MAX_COMPONENTS + 2; n++) {
    level = level.flatMap((head) => UNIVERSE_PARTS.map((c) => (head ? `${head}.${c}` : c)));
    out.push(...level);
  }
  return out;
})();

const component = fc.constantFrom(...COMPONENTS);
const exactUri = fc.array(component, { minLength: 1, maxLength: MAX_COMPONENTS }).map((c) => c.join('.'));
const wildcardUri = fc.array(fc.oneof(component, fc.constant('')), { minLength: 1, maxLength: MAX_COMPONENTS }).map((c) => c.join('.'));
/** A joined URI with or without a trailing dot, cut anywhere: "", "a", "ab.", "ab.a" (of "ab.ab"), ... */
const prefixUri = fc
  .tuple(fc.array(component, { minLength: 1, maxLength: MAX_COMPONENTS }), fc.boolean(), fc.nat())
  .map(([parts, dot, cut]) => {
    const text = parts.join('.') + (dot && parts.length < MAX_COMPONENTS ? '.' : '');
    return text.slice(0, cut % (text.length + 1));
  });
const pattern = (match: MatchPolicy) =>
  (match === 'exact' ? exactUri : match === 'prefix' ? prefixUri : wildcardUri).map((uri): Pattern => ({ uri, match }));
const anyPattern = fc.constantFrom<MatchPolicy>('exact', 'prefix', 'wildcard').chain(pattern);
const requestPattern = fc.constantFrom<MatchPolicy>('prefix', 'wildcard').chain(pattern);
const permissionList = fc
  .uniqueArray(fc.tuple(anyPattern, fc.boolean()), { maxLength: 7, selector: ([p]) => `${p.match}|${p.uri}` })
  .map((list) => list.map(([p, allow]): PermissionConfig => ({ ...p, allow: allow ? { subscribe: true } : { call: true } })));

const show = (permissions: PermissionConfig[]) =>
  permissions.map((p) => `${p.match}:"${p.uri}"${p.allow?.subscribe ? '+' : '-'}`).join(' ');

describe('permission precedence (Crossbar: exact, wildcard, prefix)', () => {
  it('chooses as the reference does, for every URI tried', () => {
    fc.assert(
      fc.property(permissionList, fc.array(fc.constantFrom(...UNIVERSE), { minLength: 20, maxLength: 20 }), (permissions, uris) => {
        const table = new PermissionTable(permissions);
        for (const uri of uris) assert.equal(table.choose(uri), referenceChoice(permissions, uri), `${uri} with ${show(permissions)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('a wildcard beats a prefix; the exact permission beats both; the longer literal head wins', () => {
    const prefix: PermissionConfig = { uri: 'com.app.', match: 'prefix', allow: { call: true } };
    const wildcard: PermissionConfig = { uri: 'com.app..secret', match: 'wildcard', allow: {} };
    const exact: PermissionConfig = { uri: 'com.app.x.secret', match: 'exact', allow: { call: true } };
    const shortHead: PermissionConfig = { uri: 'com...secret', match: 'wildcard', allow: { call: true } };
    const table = new PermissionTable([prefix, wildcard, exact, shortHead]);
    assert.equal(table.choose('com.app.y.secret'), wildcard, 'the wildcard, not the longer prefix');
    assert.equal(table.choose('com.app.x.secret'), exact);
    assert.equal(table.choose('com.app.y.public'), prefix);
    assert.equal(table.choose('com.other.y.secret'), shortHead, 'head "com" is all that matches');
    assert.equal(
      new PermissionTable([shortHead, wildcard]).choose('com.app.y.secret'),
      wildcard,
      'head "com.app" beats head "com", whatever the order',
    );
  });

  it('between wildcards with the same head, the earlier literal wins, whatever the config order', () => {
    const early: PermissionConfig = { uri: 'a..c.', match: 'wildcard', allow: {} };
    const late: PermissionConfig = { uri: 'a...d', match: 'wildcard', allow: { call: true } };
    assert.equal(new PermissionTable([early, late]).choose('a.b.c.d'), early);
    assert.equal(new PermissionTable([late, early]).choose('a.b.c.d'), early);
  });

  it('a permission given twice counts once, the last one', () => {
    const first: PermissionConfig = { uri: 'com.x.', match: 'prefix', allow: {} };
    const second: PermissionConfig = { uri: 'com.x.*', allow: { call: true } };
    assert.equal(new PermissionTable([first, second]).choose('com.x.y'), second);
  });
});

describe('pattern coverage', () => {
  it('allows a pattern exactly when every URI it reaches is allowed (brute force over the universe)', () => {
    fc.assert(
      fc.property(permissionList, requestPattern, (permissions, request) => {
        const expected = UNIVERSE.filter((u) => matches(request, u)).every(
          (u) => referenceChoice(permissions, u)?.allow?.subscribe === true,
        );
        const got = new PermissionTable(permissions).coversPattern(request, 'subscribe');
        assert.equal(got, expected, `${request.match}:"${request.uri}" with ${show(permissions)}`);
      }),
      { numRuns: 400 },
    );
  });

  const table = (...permissions: PermissionConfig[]) => new PermissionTable(permissions);
  const covers = (t: PermissionTable, uri: string, match: 'prefix' | 'wildcard', action: 'subscribe' | 'register' = 'subscribe') =>
    t.coversPattern({ uri, match }, action);

  it('an exact permission covers no pattern on its URI (issue 11)', () => {
    const news = table({ uri: 'com.x.news', match: 'exact', allow: { subscribe: true } });
    assert.equal(covers(news, 'com.x.news', 'prefix'), false, 'com.x.news.secret is reachable');
    assert.equal(covers(news, 'com.x.news', 'wildcard'), true, 'a wildcard without empty components is the one URI');
    const add = table({ uri: 'com.x.add', match: 'exact', allow: { register: true } });
    assert.equal(covers(add, 'com.x.add', 'prefix', 'register'), false, 'com.x.add.admin is reachable');
  });

  it('a plain prefix grant covers the patterns under it, prefix by characters', () => {
    const grant = table({ uri: 'com.x.', match: 'prefix', allow: { subscribe: true } });
    assert.equal(covers(grant, 'com.x.news', 'prefix'), true);
    assert.equal(covers(grant, 'com.x..y', 'wildcard'), true);
    assert.equal(covers(grant, 'com.x.', 'prefix'), true);
    assert.equal(covers(grant, 'com.x', 'prefix'), false, '"com.x" reaches "com.xy" and "com.x"');
    assert.equal(covers(grant, 'com..y', 'wildcard'), false);
    assert.equal(covers(table({ uri: '', match: 'prefix', allow: { subscribe: true } }), '', 'prefix'), true, 'everything');
  });

  it('a denying wildcard or exact permission inside the pattern refuses it', () => {
    const t = table(
      { uri: 'com.app.', match: 'prefix', allow: { subscribe: true } },
      { uri: 'com.app..secret', match: 'wildcard', allow: {} },
      { uri: 'com.app.admin', match: 'exact', allow: {} },
    );
    assert.equal(covers(t, 'com.app.', 'prefix'), false);
    assert.equal(covers(t, 'com.app.x.', 'prefix'), false, 'com.app.x.secret');
    assert.equal(covers(t, 'com.app.x.secret.', 'prefix'), true, 'five components and more: the wildcard has four');
    assert.equal(covers(t, 'com.app..public', 'wildcard'), true);
    assert.equal(covers(t, 'com.app.a', 'prefix'), false, 'com.app.admin');
    assert.equal(covers(t, 'com.app.b', 'prefix'), false, 'com.app.b.secret');
    assert.equal(covers(t, 'com.app.b..', 'wildcard'), true);
  });

  it('a wildcard grant covers only its own length', () => {
    const t = table({ uri: 'com.x.', match: 'wildcard', allow: { subscribe: true } });
    assert.equal(covers(t, 'com.x.', 'wildcard'), true);
    assert.equal(covers(t, 'com.x.', 'prefix'), false, 'com.x.a.b is reachable');
    assert.equal(covers(t, 'com..', 'wildcard'), false);
  });
});

describe('witnesses', () => {
  const p = (uri: string, match: MatchPolicy): Pattern => ({ uri, match });

  it('are URIs both patterns match, or none', () => {
    assert.equal(witness(p('com.app.', 'prefix'), p('com.app..secret', 'wildcard'), 'z', 0), 'com.app.z.secret');
    assert.equal(witness(p('com.ap', 'prefix'), p('com..', 'wildcard'), 'z', 0), 'com.apz.z');
    assert.equal(witness(p('com.a.', 'prefix'), p('com.b', 'prefix'), 'z', 2), undefined);
    assert.equal(witness(p('com.', 'prefix'), p('com.b', 'prefix'), 'z', 2), 'com.bz.z.z');
    assert.equal(witness(p('a..c', 'wildcard'), p('.b.', 'wildcard'), 'z', 0), 'a.b.c');
    assert.equal(witness(p('a..c', 'wildcard'), p('.b.d', 'wildcard'), 'z', 0), undefined);
    assert.equal(witness(p('a.b', 'prefix'), p('a.bc', 'exact'), 'z', 0), 'a.bc');
    assert.equal(witness(p('a.b', 'prefix'), p('a..x', 'exact'), 'z', 0), undefined, 'not a URI');
  });

  it('tell overlapping patterns, with a readable example', () => {
    assert.equal(intersects(p('com.app.', 'prefix'), p('com..secret', 'wildcard')), true);
    assert.equal(example(p('com.app.', 'prefix'), p('com..secret', 'wildcard')), 'com.app.secret');
    assert.equal(intersects(p('com.app.', 'prefix'), p('org..secret', 'wildcard')), false);
    assert.equal(intersects(p('com.app.', 'prefix'), p('com', 'wildcard')), false, 'one component is too short');
  });

  it('get a fresh character that no permission uses', () => {
    const ch = freshCharacter(['a.\u4e00', '\u4e01']);
    assert.equal(ch, '\u4e02');
  });
});

describe('pattern coverage with unusual characters', () => {
  it('stays exact when the request uses the character a witness would have used', () => {
    const t = new PermissionTable([
      { uri: 'com.', match: 'prefix', allow: { subscribe: true } },
      { uri: 'com..x', match: 'wildcard', allow: {} },
    ]);
    const fresh = freshCharacter(['com.', 'com..x']);
    assert.equal(t.coversPattern({ uri: `com.${fresh}`, match: 'prefix' }, 'subscribe'), false, `com.${fresh}.x`);
    assert.equal(t.coversPattern({ uri: `com.${fresh}.y`, match: 'prefix' }, 'subscribe'), true);
  });
});
