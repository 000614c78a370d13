/**
 * The Python that runs Crossbar's Python components (lookup.ts: which one):
 * whether it has Autobahn|Python (and Twisted, which Crossbar's components
 * are written for), and the runner script shipped beside this module.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { INSTALL_HINT } from './lookup.ts';

/** The runner (copied to dist/ by scripts/build.mjs). */
export const RUNNER = fileURLToPath(new URL('./python-runner.py', import.meta.url));

const probed = new Map<string, string | undefined>();

/**
 * Why `python` cannot run components (with what to install), or undefined
 * when it can. Asked once per interpreter and process: it starts Python.
 */
export function pythonProblem(python: string): string | undefined {
  if (probed.has(python)) return probed.get(python);
  const run = spawnSync(python, ['-c', 'import autobahn, twisted, txaio'], { encoding: 'utf8', timeout: 20_000 });
  let problem: string | undefined;
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    problem =
      code === 'ENOENT'
        ? `${python} not found: install Python 3 with Autobahn|Python (${INSTALL_HINT}), or set "kreuz.python" to an interpreter that has it`
        : `${python} could not be run (${run.error.message}): set "kreuz.python" to a Python 3 with Autobahn|Python (${INSTALL_HINT})`;
  } else if (run.status !== 0) {
    const missing = /No module named '([^']+)'/.exec(run.stderr)?.[1];
    problem =
      `${missing ? `the Python module "${missing}" is missing` : 'Autobahn|Python cannot be imported'} in ${python}: ` +
      `install Autobahn|Python (${INSTALL_HINT}), or set "kreuz.python" to an interpreter that has it`;
  }
  probed.set(python, problem);
  return problem;
}
