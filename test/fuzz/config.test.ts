// CI-sized fuzzing of the config loader and validator (properties in config.props.ts). FUZZ_RUNS=n sets inputs per decoder.
import { describe } from 'node:test';
import { configDecoder } from './config.props.ts';
import { registerDecoderTests } from './register.ts';

describe('fuzz: config', () => { registerDecoderTests(configDecoder, 6000); });
