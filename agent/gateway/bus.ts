/**
 * Notifications between hub replicas over Redis pub/sub. They only wake replicas up: the
 * command store in PostgreSQL is the truth, and every replica also polls it, so a message lost
 * while Redis reconnects delays work by one sweep, never loses it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type BusMessage =
  /** New pending commands for agents of a group. */
  | { type: 'dispatch'; tenantId: string; group: string }
  /** A command ended (result stored, failed, expired): wake its caller, free agent capacity. */
  | { type: 'done'; id: string; agentId: string | null; tenantId: string; group: string }
  /** The hub gave up on a command: tell the agent running it to stop. */
  | { type: 'cancel'; id: string; agentId: string; reason: string }
  /** A registration was revoked: drop its streams, forget its cached credentials. */
  | { type: 'revoke'; agentId: string };

const CHANNEL = 'idhub:agents';

export interface Bus {
  publish(message: BusMessage): Promise<void>;
  close(): Promise<void>;
}

/**
 * Subscribes on a dedicated connection (a subscribed Redis connection can do nothing else).
 * Returns at once; the subscription completes in the background.
 */
export function createBus(
  redis: Redis,
  logger: Logger,
  replica: string,
  onMessage: (m: BusMessage) => void,
): Bus {
  const sub = redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null });
  sub.on('error', (err) => logger.warn({ err }, 'agent gateway: pub/sub connection'));
  sub.on('message', (_channel: string, text: string) => {
    try {
      const { from, ...message } = JSON.parse(text) as BusMessage & { from?: string };
      // A replica acts on its own messages when it sends them, not again on their echo.
      if (from !== replica) onMessage(message as BusMessage);
    } catch (err) {
      logger.warn({ err }, 'agent gateway: bad bus message');
    }
  });
  sub.subscribe(CHANNEL).catch((err: unknown) => {
    logger.warn({ err }, 'agent gateway: subscribe failed');
  });
  return {
    async publish(message) {
      try {
        await redis.publish(CHANNEL, JSON.stringify({ ...message, from: replica }));
      } catch (err) {
        // The store is the truth; other replicas pick the change up at their next sweep.
        logger.warn({ err, type: message.type }, 'agent gateway: publish failed');
      }
    },
    async close() {
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
