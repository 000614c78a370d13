/**
 * The layer table of docs/architecture.md as import rules: a layer imports
 * only from the layers listed for it. `npm run lint` runs it on src/.
 */
const layer = (name) => `^src/${name}/`;
const only = (from, allowed, comment) => ({
  name: `${from}-imports-only-${allowed.join('-') || 'itself'}`,
  comment,
  severity: 'error',
  from: { path: layer(from) },
  to: { path: '^src/', pathNot: [layer(from), ...allowed.map(layer)] },
});

module.exports = {
  forbidden: [
    only('wamp', [], 'the protocol vocabulary depends on nothing of ours'),
    only('serializers', ['wamp'], 'serializers are pure bytes <-> tuples'),
    only('core', ['wamp'], 'the core is routing state and rules: no transports, no node, no config'),
    only('auth', ['wamp', 'core'], 'authenticators see only the core types'),
    only('authz', ['wamp', 'core'], 'authorizers see only the core types'),
    only('meta', ['wamp', 'core'], 'the meta API is built on core hooks'),
    only('transports', ['wamp', 'serializers', 'core'], 'transports are I/O only: they never import the node layer'),
    only('cluster', ['wamp', 'serializers', 'core'], 'the cluster plugs into the core surface, and carries payloads in their formats'),
    {
      name: 'core-has-no-io',
      comment: 'the core is testable without a socket: no network, file or process modules',
      severity: 'error',
      from: { path: '^src/(core|wamp|serializers)/' },
      to: { path: '^(node:)?(net|tls|http|https|fs|child_process|dgram|cluster|worker_threads)$' },
    },
    // Type-only cycles (a session knows its realm's type and the realm its sessions') cost nothing at run time.
    { name: 'no-circular', severity: 'error', from: { path: '^src/' }, to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } } },
    { name: 'not-to-tests', severity: 'error', from: { path: '^src/' }, to: { path: '^(test|bench|scripts)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
