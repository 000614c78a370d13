/** `kreuz init`: a commented starting config in a node directory. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE_NAMES } from '../config/load.ts';

export const INIT_CONFIG = `# Kreuz node configuration: the shape of Crossbar.io's config (version 2).
#
#   kreuz check     validates this file and names every problem (path: why)
#   kreuz start     runs it; kreuz status / kreuz stop find it by the pid file here
#
# A value written as \${VAR} (or $VAR) is read from the environment, e.g.
#   ticket: \${BACKEND_TICKET}
# so secrets need not be in this file. Relative file names (TLS keys,
# Unix sockets) are relative to this file's directory.
# JSON Schema for editors: schema/kreuz-config.schema.json in the kreuz package.

version: 2
workers:
  - type: router
    realms:
      - name: realm1
        roles:
          # DEVELOPMENT ONLY: anonymous clients may do everything.
          # For production, give this role only what it needs and add
          # authentication (ticket, wampcra, cryptosign, scram) to the transports.
          - name: anonymous
            permissions:
              - uri: ""
                match: prefix
                allow: { call: true, register: true, publish: true, subscribe: true }
                disclose: { caller: false, publisher: false }
                cache: true
        # Keep the last events of some topics for wamp.subscription.get_events:
        # store:
        #   type: memory
        #   event-history:
        #     - { uri: com.example.oncounter, match: exact, limit: 100 }

    transports:
      # WebSocket at ws://127.0.0.1:8080/ws, node info (JSON) at http://127.0.0.1:8080/info
      - type: web
        endpoint:
          type: tcp
          port: 8080
          interface: 127.0.0.1     # 0.0.0.0 to accept clients from other hosts
          # tls: { key: server.key, certificate: server.crt }   # wss://
        paths:
          ws:
            type: websocket
            serializers: [json, msgpack, cbor]
            options:
              max_message_size: 1048576     # bytes
              auto_ping_interval: 30000     # ms; finds dead connections
              auto_ping_timeout: 10000
            auth:
              anonymous: { type: static, role: anonymous }
          info:
            type: nodeinfo

      # RawSocket at rs://127.0.0.1:8081
      - type: rawsocket
        endpoint:
          type: tcp
          port: 8081
          interface: 127.0.0.1
        serializers: [json, msgpack, cbor]
        options:
          max_message_size: 1048576
        auth:
          anonymous: { type: static, role: anonymous }

# Kreuz-only settings.
kreuz:
  metrics:
    enabled: false      # Prometheus text at /metrics on the web transport
  shutdown:
    timeout: 10000      # ms calls in flight may take to finish on SIGTERM
  log:
    level: info         # none, critical, error, warn, info, debug, trace (every WAMP message)
`;

/** Writes DIR/config.yaml; refuses when the directory already has a config. Returns the file written. */
export function initNodeDirectory(cbdir: string): string {
  for (const name of CONFIG_FILE_NAMES) {
    const existing = join(cbdir, name);
    if (existsSync(existing)) throw new Error(`${existing} already exists: not overwritten`);
  }
  mkdirSync(cbdir, { recursive: true });
  const file = join(cbdir, 'config.yaml');
  writeFileSync(file, INIT_CONFIG, { flag: 'wx' });
  return file;
}
