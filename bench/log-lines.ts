import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** A line of HELIX's production.log as Python logging writes it; one in twenty carries Chinese text. */
export function helixLine(i: number, base: number): string {
  const t = new Date(base + i * 3).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
  switch (i % 20) {
    case 0:
      return `${t} INFO helix.orchestrator: 轮询任务表: ${i % 17} 个待处理, ${i % 5} 个处理中 (耗时 ${(i % 97) / 10} ms)`;
    case 1:
    case 2:
    case 3:
    case 4:
      return `${t} INFO uvicorn.access: 127.0.0.1:${40_000 + (i % 20_000)} - "GET /api/v1/tasks/${100_000 + (i % 9000)} HTTP/1.1" 200`;
    case 5:
      return `${t} INFO helix.orchestrator: heartbeat ok, ${i % 13} tasks in flight`;
    case 6:
    case 7:
      return `${t} DEBUG helix.db: pool checkout ${(i % 50) / 10} ms, ${i % 10} idle connections`;
    default:
      return `${t} INFO helix.agent.worker-${i % 5}: task ${100_000 + (i % 9000)} step ${i % 5}/5 done in ${i % 900} ms`;
  }
}

/** A failure line the `schema-validation` signal matches. */
export function failureLine(i: number, base: number): string {
  const t = new Date(base + i * 3).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
  return `${t} ERROR helix.agent.worker-${i % 5}: Schema validation failed for task ${100_000 + (i % 9000)}: field 'result' is required`;
}

/** Writes `lines` lines made by `make` to `file`, in large writes. */
export async function writeLog(file: string, lines: number, make: (i: number) => string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  let batch: string[] = [];
  for (let i = 0; i < lines; i++) {
    batch.push(make(i));
    if (batch.length === 10_000 || i === lines - 1) {
      const text = `${batch.join('\n')}\n`;
      bytes += Buffer.byteLength(text);
      batch = [];
      if (!out.write(text)) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
