/**
 * `kreuz check` notes where a role's prefix and wildcard permissions overlap:
 * there the wildcard decides, as in Crossbar (routing would prefer the prefix).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check } from '../../src/cli/start.ts';
import { formatProblem } from '../../src/config/errors.ts';
import { validateConfig } from '../../src/config/load.ts';

const ws = {
  type: 'websocket',
  endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' },
  auth: { anonymous: { type: 'static', role: 'app' } },
};
const withRoles = (roles: unknown[]) => ({
  version: 2,
  workers: [{ type: 'router', realms: [{ name: 'realm1', roles }], transports: [ws] }],
});
const notesOf = (roles: unknown[]) => validateConfig(withRoles(roles)).notes.map(formatProblem);

describe('prefix and wildcard permissions that overlap', () => {
  it('are noted with the role, both URIs and a URI they share', () => {
    assert.deepEqual(
      notesOf([
        {
          name: 'app',
          permissions: [
            { uri: 'com.app.', match: 'prefix', allow: { call: true } },
            { uri: 'com.app..secret', match: 'wildcard', allow: {} },
            { uri: 'org.*.public', allow: { call: true } },
          ],
        },
      ]),
      [
        'workers[0].realms[0].roles[0].permissions[1]: role "app": the wildcard permission "com.app..secret" and the prefix permission "com.app." both match some URIs (e.g. "com.app.x.secret"); there the wildcard wins, as in Crossbar',
      ],
    );
  });

  it('are found with starred URIs and prefixes that end inside a component', () => {
    assert.deepEqual(
      notesOf([
        {
          name: 'app',
          permissions: [
            { uri: 'com.ap*', allow: { subscribe: true } },
            { uri: 'com.*.x', allow: {} },
          ],
        },
        {
          name: 'other',
          permissions: [
            { uri: '*', allow: { subscribe: true } },
            { uri: '*.*', allow: {} },
          ],
        },
      ]),
      [
        'workers[0].realms[0].roles[0].permissions[1]: role "app": the wildcard permission "com.*.x" and the prefix permission "com.ap*" both match some URIs (e.g. "com.apx.x"); there the wildcard wins, as in Crossbar',
        'workers[0].realms[0].roles[1].permissions[1]: role "other": the wildcard permission "*.*" and the prefix permission "*" both match some URIs (e.g. "x.x"); there the wildcard wins, as in Crossbar',
      ],
    );
  });

  it('are not noted when no URI matches both, nor across roles', () => {
    assert.deepEqual(
      notesOf([
        {
          name: 'app',
          permissions: [
            { uri: 'com.app.', match: 'prefix', allow: { call: true } },
            { uri: 'org..secret', match: 'wildcard', allow: {} },
            { uri: 'com.app', match: 'wildcard', allow: {} },
            { uri: 'com.app.x', match: 'exact', allow: {} },
          ],
        },
        { name: 'other', permissions: [{ uri: 'org..x', match: 'wildcard', allow: {} }] },
        { name: 'constructor', permissions: [{ uri: '__proto__.', match: 'prefix', allow: {} }] },
      ]),
      [],
    );
  });

  it('kreuz check prints the note', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-overlap-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify(
          withRoles([
            {
              name: 'app',
              permissions: [
                { uri: 'com.*', allow: { call: true } },
                { uri: 'com.*.admin', allow: {} },
              ],
            },
          ]),
        ),
      );
      const lines: string[] = [];
      assert.equal(
        check({ config: file }, (line) => lines.push(line)),
        0,
      );
      assert.deepEqual(lines, [
        'note: workers[0].realms[0].roles[0].permissions[1]: role "app": the wildcard permission "com.*.admin" and the prefix permission "com.*" both match some URIs (e.g. "com.x.admin"); there the wildcard wins, as in Crossbar',
        `${file}: ok (1 realm, 1 transport)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
