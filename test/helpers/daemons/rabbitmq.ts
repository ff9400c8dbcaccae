// RabbitMQ, the message bus, for a harness that runs it in a network namespace of its own: Debian's
// rabbitmq-server started by hand (no init system here), its state, logs and Erlang cookie in a
// scratch directory, guests let in from other hosts (the bus is reached over the namespace's bridge).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The package's own start script. /usr/sbin/rabbitmq-server is a wrapper that changes to the
 * rabbitmq user with su and sends the output to /var/log/rabbitmq; this one runs the broker here.
 */
export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
/** Erlang's port mapper, started first in the foreground so that it is a child of the harness, not a daemon it leaves behind. */
export const EPMD = '/usr/bin/epmd';

export interface RabbitmqLaunch {
  readonly file: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
}

/**
 * What starts a RabbitMQ broker listening on `address`:`port` (AMQP, user guest/guest) with its
 * state in `dir` (made if missing); started again with the same `dir`, it keeps its users and
 * queues. Its distribution port is Erlang's default (port + 20000); the node is rabbit@localhost.
 */
export function rabbitmqLaunch(dir: string, address: string, port: number): RabbitmqLaunch {
  for (const sub of ['mnesia', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  const config = join(dir, 'rabbitmq.conf');
  // guest is refused from anywhere but loopback unless loopback_users is emptied.
  writeFileSync(config, `loopback_users = none\nlisteners.tcp.default = ${address}:${port}\n`);
  return {
    file: RABBITMQ_SERVER,
    args: [],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      RABBITMQ_NODENAME: 'rabbit@localhost',
      RABBITMQ_CONFIG_FILE: config,
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      // No busy-waiting schedulers: on a 2-core machine they take CPU from the cluster being timed.
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none',
    },
  };
}
