/**
 * `kreuz convert`: a config file from JSON to YAML or back, as `crossbar
 * convert`: config.json -> config.yaml beside it, config.yaml (or .yml) ->
 * config.json. Unlike Crossbar it never overwrites an existing file (unless
 * --force), and it only needs the file to parse, not to pass `kreuz check`:
 * a config for Crossbar may use what Kreuz lacks. `${VAR}` values stay as written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { isNode, parseDocument, stringify, visit } from 'yaml';
import { CONFIG_FILE_NAMES, findConfigFile, parseConfigText } from '../config/load.ts';

export class ConvertError extends Error {}

export interface Converted {
  from: string;
  to: string;
  /** Lines worth telling: lost comments, which of two configs `start` reads. */
  notes: string[];
}

const TARGET_EXT: Readonly<Record<string, string>> = { '.json': '.yaml', '.yaml': '.json', '.yml': '.json' };

export function convertConfigFile(file: string, options: { force?: boolean } = {}): Converted {
  const ext = extname(file).toLowerCase();
  if (!Object.hasOwn(TARGET_EXT, ext)) throw new ConvertError(`${file}: kreuz convert takes a .json, .yaml or .yml file`);
  const to = join(dirname(file), `${basename(file, extname(file))}${TARGET_EXT[ext]}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConvertError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Syntax errors are ConfigErrors with line and column, printed as by check.
  const value = parseConfigText(text, file);
  const notes: string[] = [];
  let output: string;
  if (ext === '.json') {
    // YAML 1.1 quoting ("yes", "on", "0755" stay strings) so that PyYAML, which Crossbar reads with, agrees.
    output = stringify(value, { version: '1.1', lineWidth: 0 });
  } else {
    const odd = nonJson(value, '');
    if (odd) throw new ConvertError(`${file}: ${odd}: JSON cannot hold this value`);
    output = `${JSON.stringify(value, null, 2)}\n`;
    if (hasComments(text)) notes.push(`the comments of ${basename(file)} are not in ${basename(to)}: JSON has none`);
  }
  try {
    writeFileSync(to, output, { flag: options.force ? 'w' : 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ConvertError(`${to} already exists: not overwritten (remove it, or pass --force)`);
    throw new ConvertError(`cannot write ${to}: ${code ?? (err as Error).message}`);
  }
  const names = [basename(file), basename(to)];
  if (names.every((n) => CONFIG_FILE_NAMES.includes(n))) {
    const read = findConfigFile(dirname(to));
    notes.push(
      `kreuz start in ${dirname(to)} reads ${read && basename(read)} (first of ${CONFIG_FILE_NAMES.join(', ')}): remove the one you do not use`,
    );
  }
  return { from: file, to, notes };
}

/** The path of the first value JSON cannot hold as it is (NaN, Infinity, binary, dates, ...), if any. */
function nonJson(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path || '(top)';
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const odd = nonJson(item, `${path}[${i}]`);
      if (odd) return odd;
    }
    return undefined;
  }
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    for (const [key, item] of Object.entries(value)) {
      const odd = nonJson(item, path ? `${path}.${key}` : key);
      if (odd) return odd;
    }
    return undefined;
  }
  return path || '(top)';
}

function hasComments(text: string): boolean {
  const doc = parseDocument(text);
  let found = Boolean(doc.commentBefore || doc.comment);
  if (!found)
    visit(doc, (_key, node) => {
      if (isNode(node) && (node.comment || node.commentBefore)) {
        found = true;
        return visit.BREAK;
      }
      return undefined;
    });
  return found;
}
