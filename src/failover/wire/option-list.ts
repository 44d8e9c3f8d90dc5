// Reads the option area of one message into binding groups (digest §1.3, ISC do_a_failover_option):
// - unknown codes and codes not in ALLOWED_OPTIONS for the message type are skipped and reported;
// - a repeated option is `duplicate_option` (in BNDUPD/BNDACK: within one binding transaction; each
//   assigned-IP-address after the first starts the next transaction, options before the first one
//   belong to the first);
// - an option running past the message end is `bad_option_length`;
// - message-digest (17) must be the last option (`misplaced_digest`); its value is left to auth.ts.
import {
  ALLOWED_OPTIONS, ASSIGNED_IP_ADDRESS, MESSAGE_DIGEST, decodeOptionValue, isOptionCode, optionName,
  type MessageTypeName, type OptionCode,
} from './options.ts';
import { decodeFail, type Reader } from './reader.ts';

export interface OptionGroup {
  /** Absolute offset of the group's first option (for error messages). */
  readonly start: number;
  readonly values: Map<OptionCode, unknown>;
}

export interface OptionList {
  readonly groups: readonly OptionGroup[];
  /** Codes skipped as unknown or not allowed here, in wire order. */
  readonly skipped: readonly number[];
  readonly hasDigest: boolean;
}

const BATCHED: ReadonlySet<MessageTypeName> = new Set(['BNDUPD', 'BNDACK']);

export function readOptionList(r: Reader, type: MessageTypeName): OptionList {
  const allowed = ALLOWED_OPTIONS[type];
  const batched = BATCHED.has(type);
  const groups: OptionGroup[] = [{ start: r.offset, values: new Map() }];
  const skipped: number[] = [];
  let hasDigest = false;
  while (!r.atEnd) {
    const at = r.offset;
    const code = r.u16('option code', 'bad_option_length');
    const len = r.u16(`${optionName(code)} length`, 'bad_option_length');
    const data = r.sub(len, `${optionName(code)} value`, 'bad_option_length');
    if (code === MESSAGE_DIGEST) {
      if (!r.atEnd) decodeFail('misplaced_digest', `message-digest at offset ${at} is not the last option`, at);
      decodeOptionValue(MESSAGE_DIGEST, data); // checks the type byte is present
      hasDigest = true;
      continue;
    }
    if (!isOptionCode(code) || !allowed.has(code)) { skipped.push(code); continue; }
    let group = groups[groups.length - 1]!;
    if (batched && code === ASSIGNED_IP_ADDRESS && group.values.has(ASSIGNED_IP_ADDRESS)) {
      group = { start: at, values: new Map() };
      groups.push(group);
    }
    if (group.values.has(code)) decodeFail('duplicate_option', `${optionName(code)} repeated at offset ${at}`, at);
    group.values.set(code, decodeOptionValue(code, data));
  }
  return { groups, skipped, hasDigest };
}
