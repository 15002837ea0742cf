/**
 * The emulator's workspace directory: which channels exist and whether the bot is in them, and the
 * user groups. Every channel exists with the bot in it unless a test says otherwise, so a test that
 * does not care about reachability need not declare anything.
 */
export interface ChannelDeclaration {
  exists?: boolean;
  member?: boolean;
  name?: string;
}

export interface Usergroup {
  id: string;
  handle: string;
  name?: string;
}

export class SlackDirectory {
  private readonly channels = new Map<string, ChannelDeclaration>();
  private readonly groups: Usergroup[] = [];

  constructor(private readonly channelId: (channel: string) => string) {}

  declareChannel(channel: string, declaration: ChannelDeclaration): void {
    this.channels.set(this.channelId(channel), declaration);
  }

  declareUsergroup(group: Usergroup): void {
    this.groups.push(group);
  }

  reset(): void {
    this.channels.clear();
    this.groups.length = 0;
  }

  readonly handlers: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'conversations.info': (args) => {
      if (typeof args.channel !== 'string' || !args.channel) return { ok: false, error: 'channel_not_found' };
      const id = this.channelId(args.channel);
      const declared = this.channels.get(id) ?? {};
      if (declared.exists === false) return { ok: false, error: 'channel_not_found' };
      const name = declared.name ?? (args.channel.startsWith('#') ? args.channel.slice(1) : id.toLowerCase());
      return {
        ok: true,
        channel: { id, name, is_channel: true, is_archived: false, is_member: declared.member ?? true },
      };
    },
    'usergroups.list': () => ({
      ok: true,
      usergroups: this.groups.map((g) => ({
        id: g.id,
        handle: g.handle,
        name: g.name ?? g.handle,
        team_id: 'T000',
      })),
    }),
  };
}
