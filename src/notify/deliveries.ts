import type pg from 'pg';
import type { ChannelName, NotificationKind, ThreadRef } from './channel.js';

/** What has been delivered, per incident, channel and transition: the last line against duplicates. */
export class DeliveryStore {
  constructor(private readonly pool: pg.Pool) {}

  async delivered(incidentId: string, channel: ChannelName, seq: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'SELECT 1 FROM vigil_deliveries WHERE incident_id = $1 AND channel = $2 AND seq = $3',
      [incidentId, channel, seq],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The first message of the incident on this channel, which later ones update or reply to. */
  async thread(incidentId: string, channel: ChannelName): Promise<ThreadRef | undefined> {
    const { rows } = await this.pool.query<{ external_id: string; channel_id: string | null }>(
      `SELECT external_id, channel_id FROM vigil_deliveries WHERE incident_id = $1 AND channel = $2
       ORDER BY seq LIMIT 1`,
      [incidentId, channel],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.channel_id
      ? { externalId: row.external_id, channelId: row.channel_id }
      : { externalId: row.external_id };
  }

  async record(
    incidentId: string,
    channel: ChannelName,
    seq: number,
    kind: NotificationKind,
    ref: ThreadRef,
  ) {
    await this.pool.query(
      `INSERT INTO vigil_deliveries (incident_id, channel, seq, kind, external_id, channel_id)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [incidentId, channel, seq, kind, ref.externalId, ref.channelId ?? null],
    );
  }
}
