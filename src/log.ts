// JSON lines on stderr keyed by a stable event name; level set at run time (LOG_LEVEL or config).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = ORDER[(process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? ORDER.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void { threshold = ORDER[level]; }
export function setLogSink(fn: (line: string) => void): void { sink = fn; }
export function isLogEnabled(level: LogLevel): boolean { return ORDER[level] >= threshold; }

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) {
    const hex = Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, 64)).toString('hex');
    return value.byteLength > 64 ? `${hex}…(${value.byteLength} bytes)` : hex;
  }
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  if (value instanceof Error) return { message: value.message, code: (value as { code?: unknown }).code, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function write(level: LogLevel, event: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  sink(JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }, replacer));
}

export const log = {
  debug: (event: string, fields?: Record<string, unknown>) => write('debug', event, fields),
  info: (event: string, fields?: Record<string, unknown>) => write('info', event, fields),
  warn: (event: string, fields?: Record<string, unknown>) => write('warn', event, fields),
  error: (event: string, fields?: Record<string, unknown>) => write('error', event, fields),
};
