/**
 * The component classes Kreuz runs in its own process instead of under
 * Python: the extension point. A class here is chosen by its Crossbar
 * classname; its `extra` schema is in extra-schemas.ts (the config checks it).
 */
import { MESSAGE_FORWARDER, REST_CALLEE } from './extra-schemas.ts';
import { messageForwarder } from './message-forwarder.ts';
import type { NativeComponentClass } from './native-component.ts';
import { restCallee } from './rest-callee.ts';

export const NATIVE_COMPONENTS: ReadonlyMap<string, NativeComponentClass> = new Map([
  [MESSAGE_FORWARDER, messageForwarder],
  [REST_CALLEE, restCallee],
]);

export { isNativeClass, NATIVE_EXTRA } from './extra-schemas.ts';
export type { NativeComponent, NativeComponentClass, NativeContext } from './native-component.ts';
