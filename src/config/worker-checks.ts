/**
 * What `kreuz check` (and `kreuz start`, which checks first) says of the
 * workers beside the router (src/node/workers/ runs them): what is missing
 * for them to start (a working directory, a realm's role; a guest's
 * executable, noted), and a note of how Kreuz runs each. Whether their
 * Python has Autobahn|Python takes starting it: `pythonProblems`, which
 * `kreuz check` runs (config/check.ts) and `kreuz start` finds as it
 * starts the workers.
 */
import { statSync } from 'node:fs';
import { isNativeClass } from '../node/native-components/extra-schemas.ts';
import { DEFAULT_GRACE_MS, findExecutable, INSTALL_HINT, pythonFor } from '../node/workers/lookup.ts';
import { formatPath, type ConfigProblem } from './errors.ts';
import { resolveFile } from './paths.ts';
import type { KreuzConfig, RouterWorkerConfig } from './schema.ts';
import type { ContainerWorkerConfig, GuestWorkerConfig, RouterComponentConfig } from './workers.ts';

type Path = PropertyKey[];
type Report = (path: Path, message: string) => void;

export interface WorkerCheck {
  baseDir: string;
  problem: Report;
  note: Report;
  /** `kreuz.python`, when the config's `kreuz` section passed (else the default is named). */
  kreuzPython?: string;
}

/** Why an interpreter cannot run components (with what to install), or undefined (src/node/workers/python.ts). */
export type PythonProbe = (python: string) => string | undefined;

/** Each Python worker whose interpreter `probe` finds lacking, as an error at the worker (or its options.python). */
export function pythonProblems(config: KreuzConfig, probe: PythonProbe): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  config.workers.forEach((worker, i) => {
    if (worker.type === 'guest') return;
    // Classes Kreuz runs natively need no Python.
    const classes = (worker.components ?? []).filter((k) => k.type === 'class' && !isNativeClass(k.classname));
    if (classes.length === 0 || (worker.type === 'container' && worker.options?.disabled === true)) return;
    const own = worker.options?.python;
    const problem = probe(pythonFor(own, config.kreuz?.python));
    if (problem) {
      const at = ['workers', i, ...(own ? ['options', 'python'] : worker.type === 'router' ? ['components'] : [])];
      problems.push({ path: formatPath(at), message: problem.includes(INSTALL_HINT) ? problem : `${problem} (${INSTALL_HINT})` });
    }
  });
  return problems;
}

const STOPPED = `at shutdown: SIGTERM, SIGKILL after ${DEFAULT_GRACE_MS / 1000} s`;

export function checkGuestWorker(worker: GuestWorkerConfig, at: Path, c: WorkerCheck): void {
  const options = worker.options ?? {};
  const workdir = resolveFile(c.baseDir, options.workdir ?? '.');
  if (!isDirectory(workdir)) {
    c.problem([...at, 'options', 'workdir'], `directory not found: ${workdir}`);
    return;
  }
  // A note, not an error: a guest's program is often built or installed after the config is checked.
  if (!findExecutable(worker.executable, workdir)) {
    c.note(
      [...at, 'executable'],
      `no executable "${worker.executable}" in ${workdir} or on the PATH (yet): kreuz start fails until there is; install it, or give its path (relative to options.workdir)`,
    );
  }
  for (const [i, dir] of (options.watch?.directories ?? []).entries()) {
    const directory = resolveFile(c.baseDir, dir);
    if (!isDirectory(directory))
      c.note([...at, 'options', 'watch', 'directories', i], `directory not found: ${directory}, so Kreuz watches nothing there`);
  }
  const args = worker.arguments?.length ?? 0;
  const where = options.workdir === undefined ? '' : `, in ${JSON.stringify(options.workdir)}`;
  const watch = options.watch ? ', a change in options.watch.directories restarts it' : '';
  c.note(
    at,
    `accepted: Kreuz runs ${JSON.stringify(worker.executable)} (${args} argument${args === 1 ? '' : 's'}${where}) beside the router and logs its output; ` +
      `as in Crossbar, an exit is not restarted${watch}; ${STOPPED}`,
  );
}

export function checkContainerWorker(worker: ContainerWorkerConfig, at: Path, c: WorkerCheck): void {
  const options = worker.options ?? {};
  if (options.disabled === true) {
    c.note(at, 'accepted: disabled, so Kreuz does not start it');
    return;
  }
  for (const [i, k] of (worker.components ?? []).entries()) {
    if (k.type === 'class' && isNativeClass(k.classname))
      c.note(
        [...at, 'components', i],
        `accepted: Kreuz runs it natively (${k.classname}), in its own process, joined in-process to realm "${k.realm}" as role "anonymous" (what this unauthenticating class gets over this node's anonymous transport): its "transport" must be this node's`,
      );
  }
  const classes = (worker.components ?? []).flatMap((k) =>
    k.type === 'class' && !isNativeClass(k.classname) ? [JSON.stringify(k.classname)] : [],
  );
  if (classes.length === 0) {
    if ((worker.components ?? []).length > 0) return;
    c.note(at, 'accepted: a container without components, so there is nothing to run');
    return;
  }
  const python = pythonFor(options.python, c.kreuzPython);
  c.note(
    at,
    `accepted: Kreuz runs ${classes.length === 1 ? `its component ${classes[0]}` : `each of its components ${classes.join(', ')}`} ` +
      `in a Python process of its own (${python}, Autobahn|Python), connecting over its "transport"; when one ends, ` +
      `"${options.shutdown ?? 'shutdown-manual'}" and "${options.restart ?? 'restart-never'}" apply, as in Crossbar; ${STOPPED}`,
  );
}

/** After the realm check of each component (semantics.ts): Python, the role it joins as, and how it runs. */
export function checkRouterComponents(worker: RouterWorkerConfig, w: Path, c: WorkerCheck): void {
  // A realm without roles lets every session do everything: any role is fine there.
  const roles = new Map(worker.realms.map((r) => [r.name, r.roles && new Set(r.roles.map((role) => role.name))]));
  const components = (worker.components ?? []).flatMap((k, i) => (k.type === 'class' && roles.has(k.realm) ? [{ k, i }] : []));
  if (components.length === 0) return;
  const python = pythonFor(worker.options?.python, c.kreuzPython);
  for (const { k, i } of components) checkRouterComponent(k, [...w, 'components', i], roles.get(k.realm), python, c);
}

function checkRouterComponent(
  component: RouterComponentConfig,
  at: Path,
  realmRoles: ReadonlySet<string> | undefined,
  python: string,
  c: WorkerCheck,
): void {
  const role = component.role ?? 'anonymous';
  const native = isNativeClass(component.classname);
  if (realmRoles && role !== 'trusted' && !realmRoles.has(role)) {
    c.problem(
      [...at, ...(component.role ? ['role'] : [])],
      `role "${role}" is not defined on realm "${component.realm}": a router component joins as its "role" (default "anonymous", as in Crossbar); define the role or give another`,
    );
    return;
  }
  if (native) {
    c.note(
      at,
      `accepted: Kreuz runs it natively (${component.classname}), in its own process, joined to realm "${component.realm}" as role "${role}"`,
    );
    return;
  }
  c.note(
    at,
    `accepted: Kreuz runs it (${JSON.stringify(component.classname)}) in a Python process of its own (${python}, Autobahn|Python), ` +
      `joined to realm "${component.realm}" as role "${role}" over a connection of its own to the router, without authentication; ` +
      `as in Crossbar, it is not restarted when it ends; ${STOPPED}`,
  );
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
