/** The cluster suite (cluster-suite.ts) on the in-process backplane: a fresh MemoryNetwork per cluster. */
import { MemoryNetwork } from '../../src/cluster/memory.ts';
import { clusterSuite } from './cluster-suite.ts';

clusterSuite(
  'the memory backplane',
  async () => {
    const network = new MemoryNetwork();
    return {
      connect: (node: string) => network.connect(node),
      close: async () => undefined,
      // A node cut off the network: frames lost both ways, KV refused, no BYE.
      cut: (node: string) => network.disconnect(node),
    };
  },
  { cut: true },
);
