// CI-sized fuzzing of the operator's CR validation (properties in crd.props.ts). FUZZ_RUNS=n sets inputs per decoder.
import { describe } from 'node:test';
import { crdDecoder } from './crd.props.ts';
import { registerDecoderTests } from './register.ts';

describe('fuzz: crd', () => { registerDecoderTests(crdDecoder, 2000); });
