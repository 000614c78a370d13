import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UriMap } from '../../src/core/uri-map.ts';
import type { MatchPolicy } from '../../src/wamp/uri-syntax.ts';

/** The matching rules written as plainly as possible: a list scanned in full. */
class ReferenceMatcher {
  private entries: Array<{ uri: string; match: MatchPolicy; value: number }> = [];

  set(uri: string, match: MatchPolicy, value: number): void {
    this.delete(uri, match);
    this.entries.push({ uri, match, value });
  }

  delete(uri: string, match: MatchPolicy): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => !(e.uri === uri && e.match === match));
    return this.entries.length !== before;
  }

  get(uri: string, match: MatchPolicy): number | undefined {
    return this.entries.find((e) => e.uri === uri && e.match === match)?.value;
  }

  matches(e: { uri: string; match: MatchPolicy }, uri: string): boolean {
    if (e.match === 'exact') return e.uri === uri;
    if (e.match === 'prefix') return uri.startsWith(e.uri);
    const pattern = e.uri.split('.');
    const parts = uri.split('.');
    return pattern.length === parts.length && pattern.every((p, i) => p === '' || p === parts[i]);
  }

  all(uri: string): number[] {
    return this.entries.filter((e) => this.matches(e, uri)).map((e) => e.value);
  }

  best(uri: string): number | undefined {
    const found = this.entries.filter((e) => this.matches(e, uri));
    const exact = found.find((e) => e.match === 'exact');
    if (exact) return exact.value;
    const prefixes = found.filter((e) => e.match === 'prefix').sort((a, b) => b.uri.length - a.uri.length);
    if (prefixes.length > 0) return prefixes[0].value;
    // Among wildcards, a literal component beats an empty one, first difference from the left.
    const wildcards = found.filter((e) => e.match === 'wildcard');
    wildcards.sort((a, b) => {
      const pa = a.uri.split('.');
      const pb = b.uri.split('.');
      for (let i = 0; i < pa.length; i++) {
        if (pa[i] !== '' && pb[i] === '') return -1;
        if (pa[i] === '' && pb[i] !== '') return 1;
      }
      return 0;
    });
    return wildcards[0]?.value;
  }
}

describe('UriMap', () => {
  it('follows the precedence table: exact, then longest prefix, then most specific wildcard', () => {
    const map = new UriMap<string>();
    map.set('a1.b2', 'prefix', 'prefix a1.b2');
    map.set('a1.b2.c3', 'prefix', 'prefix a1.b2.c3');
    map.set('a1.b2.c33..e5', 'wildcard', 'wild c33..e5');
    map.set('a1.b2..d4.e5', 'wildcard', 'wild ..d4.e5');
    map.set('a1.b2.c33.d4.e5', 'exact', 'exact');
    assert.equal(map.best('a1.b2.c33.d4.e5'), 'exact');
    map.delete('a1.b2.c33.d4.e5', 'exact');
    assert.equal(map.best('a1.b2.c33.d4.e5'), 'prefix a1.b2.c3', 'character prefix: "a1.b2.c3" prefixes "a1.b2.c33"');
    map.delete('a1.b2.c3', 'prefix');
    assert.equal(map.best('a1.b2.c33.d4.e5'), 'prefix a1.b2');
    map.delete('a1.b2', 'prefix');
    // WAMP spec examples for wildcard ties.
    assert.equal(map.best('a1.b2.c33.d4.e5'), 'wild c33..e5');
    map.set('a1.b2..d4.e5..g7', 'wildcard', 'wild ..d4.e5..g7');
    map.set('a1.b2..d4..f6.g7', 'wildcard', 'wild ..d4..f6.g7');
    assert.equal(map.best('a1.b2.c88.d4.e5.f6.g7'), 'wild ..d4.e5..g7');
    assert.equal(map.best('a1.b2.c33.d4'), undefined, 'wildcards need equal component counts');
  });

  it('keeps the same URI under different match policies apart', () => {
    const map = new UriMap<number>();
    map.set('com.app', 'exact', 1);
    map.set('com.app', 'prefix', 2);
    map.set('com.app', 'wildcard', 3);
    assert.deepEqual([map.get('com.app', 'exact'), map.get('com.app', 'prefix'), map.get('com.app', 'wildcard')], [1, 2, 3]);
    assert.equal(map.best('com.app'), 1);
    assert.equal(map.best('com.apple'), 2);
    assert.deepEqual(map.all('com.app').sort(), [1, 2, 3]);
    assert.equal(map.size, 3);
  });

  it('lets the empty prefix match everything and a single empty wildcard match one component', () => {
    const map = new UriMap<string>();
    map.set('', 'prefix', 'all');
    map.set('', 'wildcard', 'one');
    assert.equal(map.best('x.y'), 'all');
    map.delete('', 'prefix');
    assert.equal(map.best('x'), 'one');
    assert.equal(map.best('x.y'), undefined);
  });

  it('agrees with the reference matcher over random register/unregister/call sequences', () => {
    const component = fc.constantFrom('a', 'b', 'ab', 'c');
    const concrete = fc.array(component, { minLength: 1, maxLength: 4 }).map((p) => p.join('.'));
    const wildcard = fc.array(fc.constantFrom('a', 'b', 'ab', ''), { minLength: 1, maxLength: 4 }).map((p) => p.join('.'));
    const prefix = fc.oneof(
      concrete,
      concrete.map((u) => u + '.'),
      concrete.map((u) => u.slice(0, -1)),
      fc.constant(''),
    );
    const entry = fc.oneof(
      concrete.map((uri) => ({ uri, match: 'exact' as const })),
      prefix.map((uri) => ({ uri, match: 'prefix' as const })),
      wildcard.map((uri) => ({ uri, match: 'wildcard' as const })),
    );
    const op = fc.oneof(
      entry.map((e) => ({ kind: 'set' as const, ...e })),
      entry.map((e) => ({ kind: 'delete' as const, ...e })),
      concrete.map((uri) => ({ kind: 'call' as const, uri })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const map = new UriMap<number>();
        const ref = new ReferenceMatcher();
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'set') {
            const v = ++next;
            map.set(o.uri, o.match, v);
            ref.set(o.uri, o.match, v);
          } else if (o.kind === 'delete') {
            assert.equal(map.delete(o.uri, o.match), ref.delete(o.uri, o.match));
          } else {
            assert.equal(map.best(o.uri), ref.best(o.uri), `best(${o.uri})`);
            assert.deepEqual(map.all(o.uri).sort(), ref.all(o.uri).sort(), `all(${o.uri})`);
          }
          if (o.kind !== 'call') assert.equal(map.get(o.uri, o.match), ref.get(o.uri, o.match));
        }
      }),
      { numRuns: 500 },
    );
  });
});
