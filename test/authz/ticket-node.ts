/**
 * A real node (WebSocket on 127.0.0.1) for authorization tests: realm1 with
 * the given roles and the meta API, one ticket principal per role (authid =
 * role name, ticket = "<role>-ticket"), and raw WAMP clients logging in.
 */
import assert from 'node:assert/strict';
import type { RoleConfig } from '../../src/authz/roles.ts';
import type { Limits } from '../../src/core/limits.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';

const CLIENT_ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

export async function startRoleNode(roles: RoleConfig[], limits?: Partial<Limits>): Promise<RunningNode> {
  const principals = Object.fromEntries(roles.map((r) => [r.name, { ticket: `${r.name}-ticket`, role: r.name }]));
  return startNode({
    realms: [{ name: 'realm1', roles }],
    transports: [{ type: 'websocket', endpoint: { host: '127.0.0.1', port: 0 }, auth: { ticket: { type: 'static', principals } } }],
    limits,
  });
}

/** Opens a WebSocket to `node` and joins realm1 as the principal of `role`. */
export async function login(node: RunningNode, role: string): Promise<RawClient> {
  const client = await RawClient.open(node.url);
  client.send([1, 'realm1', { roles: CLIENT_ROLES, authmethods: ['ticket'], authid: role }]);
  const challenge = await client.next();
  assert.deepEqual(challenge.slice(0, 2), [4, 'ticket'], `CHALLENGE: ${JSON.stringify(challenge)}`);
  client.send([5, `${role}-ticket`, {}]);
  const welcome = await client.next();
  assert.equal(welcome[0], 2, `WELCOME: ${JSON.stringify(welcome)}`);
  return client;
}

/** Sends `message` and returns the router's next message to `client`. */
export async function request(client: RawClient, message: unknown[]): Promise<unknown[]> {
  client.send(message);
  return client.next();
}

/** Resolves with the next message, or undefined if none comes within `ms`. */
export async function nextOrNothing(client: RawClient, ms = 150): Promise<unknown[] | undefined> {
  try {
    return await client.next(ms);
  } catch {
    return undefined;
  }
}
