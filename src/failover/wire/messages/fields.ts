// Table-driven fields: a message (or binding transaction) is a set of optional typed fields, each
// bound to one option code. FieldsOf<F> derives the TypeScript type from the option table.
import { REQUIRED_OPTIONS, encodeOption, optionName, type MessageTypeName, type OptionCode, type OptionValue } from '../options.ts';
import type { OptionGroup } from '../option-list.ts';
import { decodeFail } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type FieldMap = Readonly<Record<string, OptionCode>>;
export type FieldsOf<F extends FieldMap> = { readonly [K in keyof F]?: OptionValue<F[K]> };

/** Header fields every decoded/encoded message carries. */
export interface MessageBase {
  readonly xid: number;
  /** Sender's clock, seconds since the Unix epoch (the header time). */
  readonly time: number;
  /** Decode only, and only when non-empty: option codes skipped as unknown or not allowed. */
  readonly skipped?: readonly number[];
}

export function readFields<F extends FieldMap>(group: OptionGroup, map: F): FieldsOf<F> {
  const out: Record<string, unknown> = {};
  for (const [field, code] of Object.entries(map)) {
    const v = group.values.get(code);
    if (v !== undefined) out[field] = v;
  }
  return out as FieldsOf<F>;
}

/** Writes the defined fields in table order. */
export function writeFields<F extends FieldMap>(obj: FieldsOf<F>, map: F, w: Writer): void {
  const values = obj as Record<string, unknown>;
  for (const [field, code] of Object.entries(map)) {
    const v = values[field];
    if (v !== undefined) encodeOption(code, v as OptionValue<typeof code>, w);
  }
}

/** `missing_option` when a REQUIRED_OPTIONS code is absent from the group. */
export function checkRequired(type: MessageTypeName, group: OptionGroup): void {
  for (const code of REQUIRED_OPTIONS[type] ?? []) {
    if (!group.values.has(code)) decodeFail('missing_option', `${type}: ${optionName(code)} missing`, group.start);
  }
}

/** Header fields plus `skipped` only when something was skipped (so round trips deep-equal). */
export function base(h: { xid: number; time: number }, skipped: readonly number[]): MessageBase {
  return skipped.length > 0 ? { xid: h.xid, time: h.time, skipped } : { xid: h.xid, time: h.time };
}
