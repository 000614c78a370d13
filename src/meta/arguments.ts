/** Argument checks for meta procedures: a wrong argument is wamp.error.invalid_argument. */
import { isId } from '../wamp/ids.ts';
import { isDict } from '../wamp/inbound.ts';
import { MATCH_POLICIES, type MatchPolicy } from '../wamp/uri-syntax.ts';
import { ErrorUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';

function invalid(what: string): never {
  throw new WampError(ErrorUri.INVALID_ARGUMENT, [what]);
}

export function idArg(args: unknown[], index: number, name: string): number {
  const value = args[index];
  return isId(value) ? value : invalid(`${name} must be an ID`);
}

export function stringArg(args: unknown[], index: number, name: string): string {
  const value = args[index];
  return typeof value === 'string' ? value : invalid(`${name} must be a string`);
}

export function optionalStringList(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : invalid(`${name} must be a list of strings`);
}

export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : invalid(`${name} must be a string`);
}

const MATCHES: readonly unknown[] = MATCH_POLICIES;

/** The `match` of an options dict argument (default exact); read as an own key, so `"abc".match` or a prototype member never counts. */
export function matchArg(options: unknown): MatchPolicy {
  if (options === undefined || options === null) return 'exact';
  if (!isDict(options)) invalid('options must be a dict');
  const match = Object.hasOwn(options, 'match') ? options.match : 'exact';
  return MATCHES.includes(match) ? (match as MatchPolicy) : invalid('match must be "exact", "prefix" or "wildcard"');
}
