/** Starts a real router on 127.0.0.1 with a free port, for integration tests. */
import { after, before } from 'node:test';
import { startNode, type NodeOptions, type RunningNode } from '../../src/node/server.ts';

/** Starts a router before the tests of the current file (or suite) and stops it after them. */
export function useRouter(options: NodeOptions = {}): { readonly node: RunningNode; readonly url: string } {
  let node: RunningNode | undefined;
  before(async () => {
    node = await startNode({ host: '127.0.0.1', port: 0, ...options });
  });
  after(async () => {
    await node?.close();
  });
  return {
    get node() {
      if (!node) throw new Error('router not started yet');
      return node;
    },
    get url() {
      if (!node) throw new Error('router not started yet');
      return node.url;
    },
  };
}
