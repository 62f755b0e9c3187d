import { SparseLearningError } from '@sparse-learning/core';
import { Redis, type RedisOptions } from 'ioredis';

/** A parsed `--queue` URL: where Redis is and how to log in. `display` is safe to print (no credentials). */
export interface QueueConnection {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  /** `rediss://`: TLS (system CAs, plus `NODE_EXTRA_CA_CERTS` for a private CA). */
  readonly tls: boolean;
  /** The URL with any user name and password replaced by `***`. */
  readonly display: string;
}

const URL_HINT = 'expected redis://[[user]:password@]host[:port][/db] or rediss://… for TLS';

/**
 * Replaces the credentials of every URL in `text` (`redis://`, `rediss://`, any scheme) by `***` (user name and password
 * alike: either may be a secret). Used for everything printed or written: command lines recorded in
 * `compare.json`/`compare.md`, error messages, worker output.
 */
export function redactSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^@\s/]*@/gi, '$1***@');
}

/** Environment variable with the Redis password, used when the URL has none (keeps it out of `ps` output). */
export const QUEUE_PASSWORD_ENV = 'SPARSE_LEARNING_QUEUE_PASSWORD';

/**
 * Parses a queue URL: `redis://` or `rediss://` (TLS), optional `user:password@` (URL-encoded), host, port
 * (default 6379), database number as the path (default 0). Without a password in the URL, the password is
 * read from `SPARSE_LEARNING_QUEUE_PASSWORD` when set, so it need not appear on any command line.
 *
 * @throws `E_CONFIG_INVALID` naming the (redacted) URL and the expected form.
 */
export function parseQueueUrl(text: string, env: Readonly<Record<string, string | undefined>> = process.env): QueueConnection {
  const display = redactSecrets(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SparseLearningError('E_CONFIG_INVALID', `--queue '${display}' is not a URL; ${URL_HINT}`, { queue: display });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new SparseLearningError('E_CONFIG_INVALID', `--queue '${display}' has scheme '${url.protocol.replace(/:$/, '')}'; ${URL_HINT}`, { queue: display });
  }
  if (url.hostname === '') throw new SparseLearningError('E_CONFIG_INVALID', `--queue '${display}' names no host; ${URL_HINT}`, { queue: display });
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) {
    throw new SparseLearningError('E_CONFIG_INVALID', `--queue '${display}': database '${path}' is not a number; ${URL_HINT}`, { queue: display });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const password = url.password ? decodeURIComponent(url.password) : env[QUEUE_PASSWORD_ENV] || undefined;
  return {
    host,
    port,
    db: path === '' ? 0 : Number(path),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(password !== undefined ? { password } : {}),
    tls: url.protocol === 'rediss:',
    display: `${url.protocol}//${url.username || url.password ? '***@' : ''}${url.host}${path === '' ? '' : `/${path}`}`,
  };
}

/**
 * ioredis options for BullMQ: `maxRetriesPerRequest: null` (BullMQ workers block on Redis and must not give
 * up on a command while reconnecting).
 */
export function redisOptions(connection: QueueConnection): RedisOptions {
  return {
    host: connection.host,
    port: connection.port,
    db: connection.db,
    ...(connection.username !== undefined ? { username: connection.username } : {}),
    ...(connection.password !== undefined ? { password: connection.password } : {}),
    ...(connection.tls ? { tls: { servername: connection.host } } : {}),
    maxRetriesPerRequest: null,
  };
}

/** A plain Redis client (submitter bookkeeping, the worker's grid registry). */
export function redisClient(connection: QueueConnection): Redis {
  const client = new Redis(redisOptions(connection));
  // Reconnection errors are retried by ioredis; without a listener they would print stack traces.
  client.on('error', () => {});
  return client;
}

/**
 * Connects once, without retries, and checks that Redis answers (`PING`, authenticated) and is recent enough
 * for BullMQ (5.0+), so a wrong host, port, password or TLS setting fails in seconds instead of retrying
 * forever.
 *
 * @returns the Redis server version.
 * @throws `E_QUEUE_UNREACHABLE` with the redacted URL and the reason (refused, timed out, authentication).
 */
export async function probeRedis(connection: QueueConnection, timeoutMs = 5000): Promise<string> {
  const client = new Redis({
    ...redisOptions(connection),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // ioredis rejects `connect()` with "Connection is closed."; the socket error says why (refused, timeout, TLS).
  let socketError: Error | undefined;
  client.on('error', (error: Error) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    await client.ping();
    const info = await client.info('server');
    const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? 'unknown';
    if (Number(version.split('.')[0]) < 5) {
      throw new Error(`Redis ${version} is too old; BullMQ needs Redis 5 or newer`);
    }
    return version;
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const reason = redactSecrets(socketError && /connection is closed/i.test(raw) ? socketError.message : raw);
    throw new SparseLearningError(
      'E_QUEUE_UNREACHABLE',
      `cannot use the queue at ${connection.display}: ${reason}; check that Redis runs there and the host, port, password and TLS (rediss://) of --queue`,
      { queue: connection.display, reason },
      { cause: error },
    );
  } finally {
    client.disconnect();
  }
}
