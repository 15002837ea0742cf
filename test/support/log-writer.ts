import { open, type FileHandle } from 'node:fs/promises';

/**
 * Writes HELIX-style records to a log file the way a program does: through a handle opened for
 * appending (so after a copytruncate it writes at the new end), kept open across a rename until
 * `reopen()`. Remembers which records it wrote, by kind, to check what the tail made of them.
 */
export class LogWriter {
  private handle: FileHandle | undefined;
  private seq = 0;
  readonly written = { schema: [] as number[], traceback: [] as number[], info: 0 };

  constructor(private readonly path: string) {}

  async reopen(): Promise<void> {
    await this.handle?.close();
    this.handle = await open(this.path, 'a');
  }

  /** `n` records: mostly INFO lines, every 3rd a schema failure, every 7th a traceback; some lines arrive in two writes. */
  async burst(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const seq = ++this.seq;
      const t = `2025-07-08 11:${String(Math.floor(seq / 60) % 60).padStart(2, '0')}:${String(seq % 60).padStart(2, '0')},${String(seq % 1000).padStart(3, '0')}`;
      let text: string;
      if (seq % 7 === 0) {
        this.written.traceback.push(seq);
        text = [
          `${t} ERROR helix.orchestrator: task ${seq} crashed`,
          'Traceback (most recent call last):',
          '  File "/app/orchestrator.py", line 88, in poll',
          '    self.process(task)',
          `ValueError: task ${seq}`,
          '',
        ].join('\n');
      } else if (seq % 3 === 0) {
        this.written.schema.push(seq);
        text = `${t} ERROR helix.agent.worker-2: Schema validation failed for task ${seq}\n`;
      } else {
        this.written.info++;
        text = `${t} INFO helix.orchestrator: 轮询任务表 polled tasks (seq ${seq})\n`;
      }
      if (seq % 5 === 0) {
        // Half a line first: the tail must wait for the rest, not read it as a line.
        const cut = Math.floor(text.length / 2);
        await this.write(text.slice(0, cut));
        await this.write(text.slice(cut));
      } else await this.write(text);
    }
  }

  async write(text: string | Buffer): Promise<void> {
    if (!this.handle) await this.reopen();
    await (this.handle as FileHandle).write(typeof text === 'string' ? Buffer.from(text) : text);
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
