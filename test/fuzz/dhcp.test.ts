// CI-sized fuzzing of the DHCP decoders (properties in dhcp.props.ts). FUZZ_RUNS=n sets inputs per decoder.
import { describe } from 'node:test';
import { dhcpDecoder } from './dhcp.props.ts';
import { registerDecoderTests } from './register.ts';

describe('fuzz: dhcp', () => { registerDecoderTests(dhcpDecoder, 30000); });
