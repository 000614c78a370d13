/**
 * The workers of a node besides its router, in their Crossbar shape: `guest`
 * (any executable) and `container` (Python components under Autobahn|Python),
 * and the router's own `components`. The schema checks their shape;
 * worker-checks.ts what they need to start, with a note of how Kreuz runs
 * each (src/node/workers/ does). Crossbar worker types Kreuz has no
 * counterpart for are named with what to do instead.
 */
import { z } from 'zod';
import { NATIVE_EXTRA } from '../node/native-components/extra-schemas.ts';
import { accepted, byType, choice, crossbarOnly, nonEmpty, notSupported, positiveInt } from './schema-helpers.ts';

/** Crossbar worker types Kreuz lacks, with what to do instead. */
export const CROSSBAR_WORKER_TYPES = {
  proxy:
    'Kreuz has no proxy workers: clients connect to the router worker\'s transports directly; to spread load, run several Kreuz nodes joined with "kreuz.cluster" behind a load balancer',
  'websocket-testee': "Kreuz has no WebSocket testee: run the Autobahn testsuite against a testee of its own (e.g. autobahn's or ws's)",
  hostmonitor: 'Kreuz has no host monitor worker: enable "kreuz.metrics" and scrape the host with a Prometheus node exporter',
  xbrmm: 'Kreuz has no XBR market maker: keep this node on Crossbar.io',
  xbrmarket: 'Kreuz has no XBR market: keep this node on Crossbar.io',
  marketmaker: 'Kreuz has no XBR market maker: keep this node on Crossbar.io',
  hub: 'Kreuz has no hub worker: keep this node on Crossbar.io',
};

const FUNCTION_COMPONENT =
  'function components are Python callables inside Crossbar\'s own process: write it as a "class" component (an ApplicationSession subclass named by "classname"), or run it as a guest worker';

// ---- the options native workers share (Crossbar's "Native Worker Options") ----

/** Crossbar's `options.env` of a worker or guest: which variables it inherits, and which it gets set. */
export const processEnv = z
  .strictObject({
    inherit: z
      .union([z.boolean(), z.array(nonEmpty)])
      .optional()
      .describe("true: all of Kreuz's environment (default); a list: those variables only; false: none."),
    vars: z.record(z.string(), z.string()).optional().describe('Variables set for the process.'),
  })
  .meta({ id: 'ProcessEnv' });

const cpuAffinity = accepted(
  z.array(z.number().int().min(0)),
  'Node has no CPU affinity setting: pin the process from outside (taskset -c, or CPUAffinity= in a systemd unit)',
);

/** Options every native worker (router, container) may carry in Crossbar. */
const nativeWorkerOptions = {
  title: z.string().optional().describe('Process title in Crossbar; informational in Kreuz.'),
  cpu_affinity: cpuAffinity.optional(),
  expose_controller: accepted(z.boolean(), (on: boolean) =>
    on ? 'Kreuz has no node controller to expose: components cannot reach controller procedures' : undefined,
  ).optional(),
  expose_shared: accepted(z.boolean(), (on: boolean) =>
    on ? 'Kreuz has no shared worker state: each component keeps its own' : undefined,
  ).optional(),
  reactor: accepted(
    z.record(z.string(), z.string()),
    "the Twisted reactor of a Crossbar worker: Kreuz runs on Node's event loop",
  ).optional(),
  extra: z.unknown().optional(),
};

// ---- guest workers ----

const guestStdio = choice(['close', 'log', 'drop']);

export const guestWorker = z
  .strictObject({
    type: z.literal('guest'),
    id: z.string().optional(),
    executable: nonEmpty.describe('The program to run: a path (absolute, or relative to options.workdir) or a command on the PATH.'),
    arguments: z.array(z.string()).optional().describe('Its arguments.'),
    options: z
      .strictObject({
        env: processEnv.optional(),
        workdir: nonEmpty.optional().describe('Working directory, relative to the node directory.'),
        stdin: z
          .union([z.literal('close'), z.strictObject({ type: z.literal('json'), value: z.unknown(), close: z.boolean().optional() })])
          .optional()
          .describe('"close", or a value written to the process\'s stdin as JSON (then closed if "close" is true).'),
        stdout: guestStdio.optional().describe('"log" (default), "drop" or "close".'),
        stderr: guestStdio.optional().describe('"log" (default), "drop" or "close".'),
        watch: z
          .strictObject({
            directories: z.array(nonEmpty).min(1).describe('Relative to the node directory; watched with their subdirectories.'),
            action: z.literal('restart'),
            timeout: z.number().min(0).optional().describe('Seconds from a change to the new start; default 1.'),
          })
          .optional()
          .describe('Restart the process when a file in these directories changes.'),
      })
      .optional(),
  })
  .meta({ id: 'GuestWorker', description: 'A program Kreuz runs beside the router (Crossbar shape).' });

// ---- components (Python, under Autobahn|Python) ----

const connectingTls = z.strictObject({
  hostname: nonEmpty,
  ca_certificates: z.array(nonEmpty).optional(),
  certificate: nonEmpty.optional(),
  key: nonEmpty.optional(),
});

const connectingEndpoint = byType(
  [
    z.strictObject({
      type: z.literal('tcp'),
      host: nonEmpty,
      port: z.number().int().min(1).max(65535),
      version: z.union([z.literal(4), z.literal(6)]).optional(),
      timeout: z.number().int().min(0).max(600).optional().describe('Seconds.'),
      tls: connectingTls.optional(),
    }),
    z.strictObject({ type: z.literal('unix'), path: nonEmpty, timeout: z.number().int().min(0).max(600).optional() }),
  ],
  {
    twisted: 'a component connects to the router over "tcp" or "unix"',
    tor: 'a component connects to the router over "tcp" or "unix"',
  },
);

const connectingTransport = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('websocket'),
    id: z.string().optional(),
    endpoint: connectingEndpoint,
    url: nonEmpty,
    serializers: z.array(nonEmpty).optional(),
    options: z.record(z.string(), z.unknown()).optional().describe("Autobahn|Python's WebSocket client options."),
  }),
  z.strictObject({
    type: z.literal('rawsocket'),
    id: z.string().optional(),
    endpoint: connectingEndpoint,
    serializer: choice(['json', 'msgpack', 'cbor', 'ubjson']),
    url: z.string().optional(),
    options: z.strictObject({ max_message_size: positiveInt.optional() }).optional(),
    debug: z.boolean().optional(),
  }),
]);

const classComponent = {
  id: z.string().optional(),
  type: z.literal('class'),
  classname: nonEmpty.describe('The Python class (module.Class), an ApplicationSession subclass.'),
  realm: nonEmpty,
  extra: z.unknown().optional().describe('Handed to the component as config.extra.'),
};

/** A class Kreuz runs natively (src/node/native-components/) has a strict `extra`: each problem at its path. */
function checkNativeExtra(c: { classname: string; extra?: unknown }, ctx: z.RefinementCtx): void {
  const schema = NATIVE_EXTRA.get(c.classname);
  if (!schema) return;
  const parsed = schema.safeParse(c.extra);
  if (parsed.success) return;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ code: 'custom', path: ['extra', ...issue.path] as PropertyKey[], message: `${issue.message} (${c.classname})` });
}

const functionComponent = z.looseObject({ type: z.literal('function') }).superRefine((_, ctx) => {
  ctx.addIssue({ code: 'custom', path: ['type'], message: `"function" is not supported by Kreuz (${FUNCTION_COMPONENT})` });
});

/** A component of a container: it connects to a router over `transport`, as a client does. */
export const containerComponent = z.discriminatedUnion('type', [
  z
    .strictObject({ ...classComponent, transport: connectingTransport })
    .superRefine(checkNativeExtra)
    .meta({ id: 'ContainerComponent' }),
  functionComponent,
]);

/** A component run beside the router worker, joined to one of its realms (with `role`, trusted). */
export const routerComponent = z.discriminatedUnion('type', [
  z
    .strictObject({
      ...classComponent,
      role: nonEmpty.optional().describe('The role it joins with.'),
      references: z.array(z.string()).optional(),
    })
    .superRefine(checkNativeExtra)
    .meta({ id: 'RouterComponent' }),
  functionComponent,
]);

/** A container's `restart` with the `shutdown` modes that end the container before it could restart. */
const IMPOSSIBLE: Readonly<Record<string, readonly string[]>> = {
  'restart-always': ['shutdown-on-any-component-stopped', 'shutdown-on-any-component-failed', 'shutdown-on-last-component-stopped'],
  'restart-on-failed': ['shutdown-on-any-component-failed'],
};

export const containerWorker = z
  .strictObject({
    type: z.literal('container'),
    id: z.string().optional(),
    options: z
      .strictObject({
        ...nativeWorkerOptions,
        pythonpath: z.array(z.string()).optional().describe('Added to the Python path of its components, relative to the node directory.'),
        python: nonEmpty.optional().describe('The Python interpreter.'),
        env: processEnv.optional(),
        shutdown: choice([
          'shutdown-manual',
          'shutdown-on-last-component-stopped',
          'shutdown-on-any-component-failed',
          'shutdown-on-any-component-stopped',
        ]).optional(),
        restart: choice(['restart-always', 'restart-on-failed', 'restart-never']).optional(),
        disabled: z.boolean().optional().describe('true: not started.'),
      })
      .superRefine((o, ctx) => {
        // Crossbar's check refuses these: the container ends before the restart could happen.
        const ends = IMPOSSIBLE[o.restart ?? ''] ?? [];
        if (o.shutdown && ends.includes(o.shutdown)) {
          ctx.addIssue({
            code: 'custom',
            path: ['restart'],
            message: `"${o.restart}" cannot work with "shutdown": "${o.shutdown}" (the container ends first; Crossbar refuses it too): drop one of them`,
          });
        }
      })
      .optional(),
    components: z.array(containerComponent).optional(),
    manhole: accepted(z.unknown(), 'Kreuz has no manhole (a Python shell into the worker)').optional(),
    connections: notSupported('connections', 'a container\'s components each name their own "transport"'),
  })
  .meta({ id: 'ContainerWorker', description: 'Python components Kreuz runs beside the router under Autobahn|Python (Crossbar shape).' });

/** The router worker's `options`: what Crossbar's native workers have. */
export const routerWorkerOptions = z
  .strictObject({
    ...nativeWorkerOptions,
    pythonpath: z
      .array(z.string())
      .optional()
      .describe("Added to the Python path of the router's components, relative to the node directory."),
    python: nonEmpty.optional().describe("The Python interpreter of the router's components."),
    env: accepted(
      processEnv,
      "the router runs in Kreuz's own process, with the environment Kreuz was started with; this environment is its components' (each runs in a Python process of its own)",
    ).optional(),
    disabled: z
      .literal(false, { error: 'true is not supported by Kreuz: the router worker always runs (remove the worker to run none)' })
      .optional(),
    ...crossbarOnly(['shutdown'], { shutdown: 'use kreuz.shutdown' }),
  })
  .meta({ id: 'RouterWorkerOptions' });

export type GuestWorkerConfig = z.infer<typeof guestWorker>;
export type ContainerWorkerConfig = z.infer<typeof containerWorker>;
export type ContainerComponentConfig = Extract<z.infer<typeof containerComponent>, { type: 'class' }>;
export type RouterComponentConfig = Extract<z.infer<typeof routerComponent>, { type: 'class' }>;
