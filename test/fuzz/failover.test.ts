// CI-sized fuzzing of the failover wire decoders (properties in failover.props.ts). FUZZ_RUNS=n sets inputs per decoder.
import { describe } from 'node:test';
import { failoverDecoder } from './failover.props.ts';
import { registerDecoderTests } from './register.ts';

describe('fuzz: failover', () => { registerDecoderTests(failoverDecoder, 20000); });
