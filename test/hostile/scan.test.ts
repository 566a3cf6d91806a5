/**
 * Hostile inputs for `antidote scan`: chat-template injection in every place a loader renders a template,
 * tar and zip tricks, decompression bombs, truncated and oversized headers in every format, pickle tricks,
 * and seeded fuzzing of valid files. Each case is one bounded CLI process (see harness.ts).
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { generatePayloads } from '../artifacts/formats/jinja-payloads.js';
import { FIXTURES } from '../helpers/cli.js';
import { gguf, mutate, npy, pickleCall, pickleDict, randomBytes, safetensors, tar, zip } from './build.js';
import { type Case, hostileSuite } from './harness.js';

const TEMPLATES = join(FIXTURES, 'chat-templates');
const real = (f: string) => readFileSync(join(TEMPLATES, f), 'utf8');
const ISSUE_PAYLOAD = `{% set u="_" %}{% set o="o" %}{% set p="p" %}{{ lipsum[u~u~"globals"~u~u][o~"s"][p~"open"]("id").read() }}`;
const payloads = generatePayloads(2026, 40);

/** A file in the case folder, scanned. */
const scanFile =
  (name: string, bytes: Buffer | string, extra: string[] = []) =>
  (dir: string) => {
    writeFileSync(join(dir, name), bytes);
    return { args: ['scan', name, ...extra] };
  };
/** A folder `m` with the given files, scanned. */
const scanFolder =
  (files: Record<string, Buffer | string>, extra: string[] = []) =>
  (dir: string) => {
    for (const [n, b] of Object.entries(files)) {
      mkdirSync(join(dir, 'm', n, '..'), { recursive: true });
      writeFileSync(join(dir, 'm', n), b);
    }
    return { args: ['scan', 'm', ...extra] };
  };

const BLOCK = 1;
const PASS = 0;
const cases: Case[] = [];
const add = (
  name: string,
  prepare: Case['prepare'],
  code: number | number[],
  stdout?: RegExp,
  extra: Partial<Case> = {},
): void => {
  cases.push({ name, prepare, code, stdout, ...extra });
};

// ---- chat templates: the issue's payload and generated payloads, in every place a loader renders one -----------
add(
  'gguf: issue payload',
  scanFile('m.gguf', gguf([['tokenizer.chat_template', ISSUE_PAYLOAD]])),
  BLOCK,
  /template\/computed-name/,
);
add(
  'tokenizer_config.json: issue payload',
  scanFolder({ 'tokenizer_config.json': JSON.stringify({ chat_template: ISSUE_PAYLOAD }) }),
  BLOCK,
  /template\/computed-name/,
);
// A config a loader reads by name, given to scan on its own, is judged as the folder scan would judge it.
add(
  'tokenizer_config.json scanned alone: issue payload',
  scanFile('tokenizer_config.json', JSON.stringify({ chat_template: ISSUE_PAYLOAD })),
  BLOCK,
  /template\/computed-name/,
);
add(
  'chat_template.jinja scanned alone: issue payload',
  scanFile('chat_template.jinja', ISSUE_PAYLOAD),
  BLOCK,
  /template\/computed-name/,
);
add(
  'additional_chat_templates/NAME.jinja scanned alone: issue payload',
  (dir) => {
    mkdirSync(join(dir, 'additional_chat_templates'));
    writeFileSync(join(dir, 'additional_chat_templates', 'tool_use.jinja'), ISSUE_PAYLOAD);
    return { args: ['scan', 'additional_chat_templates/tool_use.jinja'] };
  },
  BLOCK,
  /template\/computed-name/,
);
add(
  'config.json scanned alone: auto_map code',
  scanFile('config.json', JSON.stringify({ model_type: 'gpt2', auto_map: { AutoModel: 'modeling_x.M' } })),
  BLOCK,
  /repo\/remote-code/,
);
add(
  'tokenizer_config.json scanned alone: a real template passes',
  scanFile('tokenizer_config.json', JSON.stringify({ chat_template: real('llama3.jinja') })),
  PASS,
);
for (const [i, p] of payloads.slice(0, 16).entries())
  add(
    `gguf: generated payload ${i}`,
    scanFile(
      'm.gguf',
      gguf([
        ['general.name', 'x'],
        ['tokenizer.chat_template', p],
      ]),
    ),
    BLOCK,
    /template\//,
  );
for (const [i, p] of payloads.slice(16, 26).entries()) {
  add(
    `tokenizer_config.json: generated payload ${i}`,
    scanFolder({ 'tokenizer_config.json': JSON.stringify({ chat_template: p }) }),
    BLOCK,
    /template\//,
  );
}
for (const [i, p] of payloads.slice(26, 30).entries()) {
  add(`chat_template.jinja: payload ${i}`, scanFolder({ 'chat_template.jinja': p }), BLOCK, /template\//);
}
for (const [i, p] of payloads.slice(30, 33).entries()) {
  add(
    `chat_template.json: payload ${i}`,
    scanFolder({ 'chat_template.json': JSON.stringify({ chat_template: p }) }),
    BLOCK,
    /template\//,
  );
}
add(
  'tokenizer_config.json: named template list hides the payload in "tool_use"',
  scanFolder({
    'tokenizer_config.json': JSON.stringify({
      chat_template: [
        { name: 'default', template: real('chatml.jinja') },
        { name: 'tool_use', template: payloads[33] },
      ],
    }),
  }),
  BLOCK,
  /tool_use/,
);
add(
  'processor_config.json: payload',
  scanFolder({ 'processor_config.json': JSON.stringify({ chat_template: payloads[34] }) }),
  BLOCK,
  /template\//,
);
add(
  'additional_chat_templates/*.jinja: payload',
  scanFolder({ 'config.json': '{}', 'additional_chat_templates/rag.jinja': payloads[35] }),
  BLOCK,
  /template\//,
);
add(
  'gguf: payload in a named template key',
  scanFile('m.gguf', gguf([['tokenizer.chat_template.tool_use', payloads[36]]])),
  BLOCK,
  /template\//,
);
add(
  'gguf: unparseable template fails closed',
  scanFile('m.gguf', gguf([['tokenizer.chat_template', '{% for m in messages %}{{ m']])),
  BLOCK,
  /template\/unparseable/,
);
add(
  'gguf: template nested 10,000 deep',
  scanFile('m.gguf', gguf([['tokenizer.chat_template', `{{ ${'('.repeat(10000)}1${')'.repeat(10000)} }}`]])),
  BLOCK,
  /template\/unparseable/,
);
for (const f of [
  'llama3.1-tools.jinja',
  'qwen2.5-tools.jinja',
  'hermes-tools.jinja',
  'gemma3.jinja',
  'deepseek-r1.jinja',
  'mistral-v7-tekken.jinja',
]) {
  add(
    `gguf: real template ${f} passes`,
    scanFile(
      'm.gguf',
      gguf([
        ['general.name', 'x'],
        ['tokenizer.chat_template', real(f)],
      ]),
    ),
    PASS,
  );
}
for (const f of ['llama2.jinja', 'command-r-tools.jinja', 'granite.jinja', 'qwen3.jinja']) {
  add(
    `tokenizer_config.json: real template ${f} passes`,
    scanFolder({ 'tokenizer_config.json': JSON.stringify({ chat_template: real(f) }) }),
    PASS,
  );
}

// ---- tar and zip tricks ---------------------------------------------------------------------------------------
const tarCases: Array<[string, Parameters<typeof tar>[0], RegExp]> = [
  ['absolute member name', [{ name: '/etc/cron.d/x', data: 'x' }], /tar\/unsafe-path/],
  ['../ member name', [{ name: '../../x.sh', data: 'x' }], /tar\/unsafe-path/],
  ['.. in the middle', [{ name: 'a/../../b', data: 'x' }], /tar\/unsafe-path/],
  ['backslash traversal', [{ name: '..\\..\\x', data: 'x' }], /tar\/unsafe-path/],
  ['drive letter', [{ name: 'C:/Windows/x', data: 'x' }], /tar\/unsafe-path/],
  [
    'absolute symlink',
    [{ name: 'weights', type: '2', linkname: '/etc/passwd' }],
    /symbolic link to "\/etc\/passwd", outside the archive/,
  ],
  ['../ symlink', [{ name: 'a/w', type: '2', linkname: '../../../home' }], /outside the archive.*tar\/link/],
  [
    'symlink inside the archive',
    [
      { name: 'a', data: 'x' },
      { name: 'b', type: '2', linkname: 'a' },
    ],
    /tar\/link/,
  ],
  [
    'hardlink',
    [
      { name: 'a', data: 'x' },
      { name: 'b', type: '1', linkname: 'a' },
    ],
    /hard link to "a".*tar\/link/,
  ],
  [
    'hardlink to an absolute path',
    [{ name: 'b', type: '1', linkname: '/etc/shadow' }],
    /outside the archive.*tar\/link/,
  ],
  [
    'GNU long name with ..',
    [
      {
        name: `${'d/'.repeat(60)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../x`,
        gnuLong: true,
        data: 'x',
      },
    ],
    /tar\/unsafe-path/,
  ],
  ['pax path with ..', [{ name: 'innocent', pax: { path: '../../evil' }, data: 'x' }], /tar\/unsafe-path/],
  [
    'pax linkpath outside',
    [{ name: 'l', type: '2', linkname: 'ok', pax: { linkpath: '/root/.ssh/authorized_keys' } }],
    /\/root\/\.ssh.*tar\/link/,
  ],
  ['GNU long link target', [{ name: 'l', type: '2', linkname: '/etc/x', gnuLongLink: true }], /tar\/link/],
  [
    'link then a file written through it',
    [
      { name: 'd', type: '2', linkname: '/tmp' },
      { name: 'd/x', data: 'x' },
    ],
    /tar\/link/,
  ],
];
for (const [n, members, re] of tarCases) add(`tar: ${n}`, scanFile('m.tar', tar(members)), BLOCK, re);
add(
  'tar: bad checksum',
  (dir) => {
    const t = tar([{ name: 'a', data: 'x' }]);
    t[148] = 0x37;
    writeFileSync(join(dir, 'm.tar'), t);
    return { args: ['scan', 'm.tar'] };
  },
  PASS,
  /unknown/,
);
add(
  'tar: member runs past the end',
  scanFile('m.tar', tar([{ name: 'a', data: 'x'.repeat(2000) }], false).subarray(0, 1024)),
  BLOCK,
  /tar\/malformed/,
);
add(
  'tar: garbage after the end blocks',
  scanFile('m.tar', Buffer.concat([tar([{ name: 'a', data: 'x' }]), Buffer.from('trailing junk')])),
  BLOCK,
  /tar\/malformed/,
);
add(
  'tar: oversized pax header',
  scanFile('m.tar', tar([{ name: 'a', data: 'x', pax: { comment: 'x'.repeat(1_100_000) } }])),
  BLOCK,
  /tar\/malformed/,
);
add(
  'tar: pickle member calling os.system',
  scanFile('m.tar', tar([{ name: 'data.pkl', data: pickleCall('os', 'system', 'id') }])),
  BLOCK,
  /os\.system/,
);
add(
  'tar.gz: ../ member inside gzip',
  scanFile('m.tar.gz', gzipSync(tar([{ name: '../x', data: 'x' }]))),
  BLOCK,
  /tar\/unsafe-path/,
);
add(
  'tar: no end-of-archive blocks',
  scanFile('m.tar', tar([{ name: 'a', data: 'x' }], false)),
  BLOCK,
  /tar\/malformed/,
);

const zipCases: Array<[string, Parameters<typeof zip>[0], RegExp]> = [
  ['zip slip', [{ name: '../../x.pkl', data: pickleDict() }], /zip\/unsafe-path/],
  ['absolute entry', [{ name: '/etc/x', data: 'x' }], /zip\/unsafe-path/],
  [
    'duplicate names',
    [
      { name: 'a/data.pkl', data: pickleDict() },
      { name: 'a/data.pkl', data: pickleCall('os', 'system', 'id') },
    ],
    /zip\/duplicate-name/,
  ],
  [
    'CRC mismatch with a malicious pickle',
    [{ name: 'a/data.pkl', data: pickleCall('builtins', 'eval', '1'), crc: 1 }],
    /builtins\.eval/,
  ],
  [
    'stored pickle calling subprocess',
    [{ name: 'archive/data.pkl', data: pickleCall('subprocess', 'Popen', 'id'), method: 0 }],
    /subprocess/,
  ],
];
for (const [n, entries, re] of zipCases) add(`zip: ${n}`, scanFile('m.zip', zip(entries)), BLOCK, re);
add(
  'zip: names differing only in case',
  scanFile(
    'm.zip',
    zip([
      { name: 'a/Data.pkl', data: pickleDict() },
      { name: 'a/data.pkl', data: pickleDict() },
    ]),
  ),
  [PASS, BLOCK],
);
add(
  'zip: truncated central directory',
  (dir) => {
    const z = zip([{ name: 'a/data.pkl', data: pickleDict() }]);
    writeFileSync(join(dir, 'm.zip'), z.subarray(0, z.length - 30));
    return { args: ['scan', 'm.zip'] };
  },
  BLOCK,
);
add(
  'zip: end record points past the end',
  (dir) => {
    const z = zip([{ name: 'a/data.pkl', data: pickleDict() }]);
    z.writeUInt32LE(0x7fffffff, z.length - 6);
    writeFileSync(join(dir, 'm.zip'), z);
    return { args: ['scan', 'm.zip'] };
  },
  BLOCK,
);
add(
  'zip: 60,000 empty entries',
  scanFile(
    'm.zip',
    zip(Array.from({ length: 60_000 }, (_, i) => ({ name: `e/${i}`, data: '', method: 0 as const }))),
  ),
  [PASS, BLOCK],
  undefined,
  { seconds: 60 },
);
add(
  'zip: nested zips 6 deep',
  (dir) => {
    let z = zip([{ name: 'data.pkl', data: pickleDict() }]);
    for (let i = 0; i < 6; i++) z = zip([{ name: `l${i}.zip`, data: z, method: 0 }]);
    writeFileSync(join(dir, 'm.zip'), z);
    return { args: ['scan', 'm.zip'] };
  },
  [PASS, BLOCK],
);

// ---- decompression bombs: blocked or bounded, memory near the output, never twice the cap ---------------------------
const zeros = (mb: number) => Buffer.alloc(mb * 1024 * 1024);
add(
  'gzip bomb (300 MB of zeros) under a 1.2 GB address-space limit',
  scanFile('m.pkl.gz', gzipSync(zeros(300), { level: 1 })),
  [PASS, BLOCK],
  undefined,
  { asMiB: 1200, rssMiB: 1000 },
);
add(
  'gzip bomb (300 MB) without a tight limit stays near the output size',
  scanFile('m.bin.gz', gzipSync(zeros(300), { level: 1 })),
  [PASS, BLOCK],
  undefined,
  { rssMiB: 600 },
);
add(
  'zip bomb entry (200 MB of zeros as a pickle)',
  scanFile('m.zip', zip([{ name: 'archive/data.pkl', data: zeros(200) }])),
  BLOCK,
  undefined,
  { rssMiB: 600 },
);
add(
  'joblib zlib bomb (200 MB)',
  scanFile('m.joblib', deflateSync(zeros(200), { level: 1 })),
  [PASS, BLOCK],
  undefined,
  { rssMiB: 600 },
);
add(
  'gzip inside gzip inside gzip',
  scanFile('m.gz', gzipSync(gzipSync(gzipSync(pickleCall('os', 'system', 'id'))))),
  BLOCK,
  /os\.system/,
);
add(
  'gzip with a corrupt stream',
  scanFile('m.pkl.gz', Buffer.concat([gzipSync(pickleDict()).subarray(0, 15), randomBytes(1, 40)])),
  BLOCK,
);
add(
  'truncated gzip',
  scanFile('m.pkl.gz', gzipSync(pickleCall('os', 'system', 'id')).subarray(0, 20)),
  BLOCK,
);

// ---- truncated and oversized headers in every format ----------------------------------------------------------
const okSt: Buffer = safetensors({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8));
const stCases: Array<[string, Buffer]> = [
  ['header length past the end', safetensors('{}', Buffer.alloc(0), 1 << 30)],
  [
    'header length 2^63',
    Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), Buffer.from('{}')]),
  ],
  ['header not JSON', safetensors('{"w": nope')],
  ['header nested 100,000 deep', safetensors(`{"__metadata__": ${'['.repeat(100000)}${']'.repeat(100000)}}`)],
  [
    'duplicate keys',
    safetensors(
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      Buffer.alloc(4),
    ),
  ],
  [
    'offsets past the data',
    safetensors({ w: { dtype: 'F32', shape: [1000], data_offsets: [0, 4000] } }, Buffer.alloc(8)),
  ],
  [
    'overlapping tensors',
    safetensors(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      Buffer.alloc(12),
    ),
  ],
  [
    'shape overflows',
    safetensors(
      { w: { dtype: 'F32', shape: [4294967296, 4294967296], data_offsets: [0, 8] } },
      Buffer.alloc(8),
    ),
  ],
  [
    'unknown dtype',
    safetensors({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, Buffer.alloc(16)),
  ],
  ['truncated to 5 bytes', okSt.subarray(0, 5)],
  ['truncated in the header', okSt.subarray(0, 20)],
  ['truncated in the data', okSt.subarray(0, okSt.length - 3)],
];
for (const [n, b] of stCases) add(`safetensors: ${n}`, scanFile('m.safetensors', b), BLOCK);

const okGguf: Buffer = gguf([
  ['general.name', 'tiny'],
  ['general.architecture', 'llama'],
]);
for (const cut of [3, 8, 15, 23, 30, 40, okGguf.length - 1])
  add(`gguf: truncated at ${cut}`, scanFile('m.gguf', okGguf.subarray(0, cut)), BLOCK);
const ggufHuge = (patch: (b: Buffer) => unknown, name: string): void =>
  add(
    `gguf: ${name}`,
    (dir: string) => {
      const b = Buffer.from(okGguf);
      patch(b);
      writeFileSync(join(dir, 'm.gguf'), b);
      return { args: ['scan', 'm.gguf'] };
    },
    BLOCK,
  );
ggufHuge((b) => b.writeBigUInt64LE(0xffffffffffffn, 16), 'metadata count 2^48');
ggufHuge((b) => b.writeBigUInt64LE(0xfffffffffffffn, 8), 'tensor count 2^52');
ggufHuge((b) => b.writeBigUInt64LE(1n << 40n, 24), 'key length 2^40');
ggufHuge((b) => b.writeUInt32LE(99, 4), 'version 99');
ggufHuge((b) => b.writeUInt32LE(77, 24 + 8 + 12), 'unknown value type');

const npyCases: Array<[string, Buffer]> = [
  [
    'header length past the end',
    Buffer.concat([
      Buffer.from([0x93]),
      Buffer.from('NUMPY'),
      Buffer.from([1, 0, 0xff, 0xff]),
      Buffer.from("{'descr'"),
    ]),
  ],
  [
    'object dtype with a pickle',
    npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", pickleCall('os', 'system', 'id')),
  ],
  [
    'shape larger than the data',
    npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }", Buffer.alloc(16)),
  ],
  ['header that is code', npy("__import__('os').system('id')", Buffer.alloc(0))],
  ['version 9', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(4), 9)],
  ['negative shape', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", Buffer.alloc(4))],
];
for (const [n, b] of npyCases) add(`npy: ${n}`, scanFile('m.npy', b), BLOCK);

// ---- pickle tricks --------------------------------------------------------------------------------------------
const pk = (bytes: number[] | Buffer) => Buffer.from(bytes as number[]);
const pickleCases: Array<[string, Buffer, RegExp | undefined]> = [
  ['os.system', pickleCall('os', 'system', 'id'), /os\.system/],
  ['posix.system', pickleCall('posix', 'system', 'id'), /posix/],
  ['builtins.exec', pickleCall('builtins', 'exec', 'import os'), /exec/],
  ['__builtin__.eval', pickleCall('__builtin__', 'eval', '1'), /eval/],
  ['runpy._run_code', pickleCall('runpy', '_run_code', 'x'), /runpy/],
  ['importlib.import_module', pickleCall('importlib', 'import_module', 'os'), /importlib/],
  ['unknown module', pickleCall('evil_pkg.payload', 'run', 'x'), /evil_pkg/],
  ['truncated after GLOBAL', pickleCall('os', 'system', 'id').subarray(0, 14), undefined],
  ['unknown opcode', pk([0x80, 0x02, 0xfe, 0x2e]), undefined],
  ['no STOP', pk([0x80, 0x02, 0x7d]), undefined],
  ['BINUNICODE length 4 GiB', pk([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0xff, 0x61]), undefined],
  [
    '100,000 nested MARKs',
    Buffer.concat([pk([0x80, 0x02]), Buffer.alloc(100000, 0x28), pk([0x2e])]),
    undefined,
  ],
  ['memo GET of an unset index', pk([0x80, 0x02, 0x68, 0x05, 0x2e]), undefined],
  [
    'STACK_GLOBAL from built strings',
    Buffer.concat([
      pk([0x80, 0x04, 0x8c, 0x02]),
      Buffer.from('os'),
      pk([0x8c, 0x06]),
      Buffer.from('system'),
      pk([0x93, 0x8c, 0x02]),
      Buffer.from('id'),
      pk([0x85, 0x52, 0x2e]),
    ]),
    /os/,
  ],
  [
    'pickle after a benign pickle',
    Buffer.concat([pickleDict(), pickleCall('os', 'system', 'id')]),
    /os\.system/,
  ],
];
for (const [n, b, re] of pickleCases) add(`pickle: ${n}`, scanFile('m.pkl', b), BLOCK, re);
// 200,000 lists left on the stack is a valid pickle of a list: it must end with a verdict, bounded.
add(
  'pickle: 200,000 EMPTY_LISTs on the stack',
  scanFile('m.pkl', Buffer.concat([pk([0x80, 0x02]), Buffer.alloc(200000, 0x5d), pk([0x2e])])),
  [PASS, BLOCK],
);
add(
  'pickle named .bin (extension not trusted)',
  scanFile('pytorch_model.bin', pickleCall('os', 'system', 'id')),
  BLOCK,
  /os\.system/,
);
add(
  'pickle named .safetensors (extension not trusted)',
  scanFile('model.safetensors', pickleCall('os', 'system', 'id')),
  BLOCK,
);
add(
  'pytorch zip with a malicious data.pkl',
  scanFile(
    'm.pt',
    zip([
      { name: 'archive/data.pkl', data: pickleCall('os', 'system', 'id') },
      { name: 'archive/version', data: '3\n' },
    ]),
  ),
  BLOCK,
  /os\.system/,
);

// ---- malformed ONNX / Keras / HDF5 / unknown --------------------------------------------------------------------
add('onnx: random bytes', scanFile('m.onnx', randomBytes(7, 4096)), BLOCK);
add(
  'onnx: protobuf nested 10,000 deep',
  scanFile(
    'm.onnx',
    Buffer.concat(Array.from({ length: 10000 }, () => Buffer.from([0x3a, 0x80, 0x80, 0x01]))),
  ),
  BLOCK,
);
add(
  'onnx: field length 2^62',
  scanFile('m.onnx', Buffer.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f])),
  BLOCK,
);
add(
  'keras: config nested 100,000 deep',
  scanFile(
    'm.keras',
    zip([
      { name: 'config.json', data: `{"a":${'['.repeat(100000)}${']'.repeat(100000)}}` },
      { name: 'metadata.json', data: '{}' },
    ]),
  ),
  BLOCK,
);
add(
  'keras: config not JSON',
  scanFile(
    'm.keras',
    zip([
      { name: 'config.json', data: '{"class_name": ' },
      { name: 'metadata.json', data: '{}' },
    ]),
  ),
  BLOCK,
);
add(
  'keras: Lambda layer',
  scanFile(
    'm.keras',
    zip([
      {
        name: 'config.json',
        data: JSON.stringify({
          class_name: 'Sequential',
          config: {
            layers: [
              {
                class_name: 'Lambda',
                config: { function: { class_name: '__lambda__', config: { code: 'ZGVm' } } },
              },
            ],
          },
        }),
      },
      { name: 'metadata.json', data: '{}' },
    ]),
  ),
  BLOCK,
  /keras/,
);
add(
  'h5: random bytes with the HDF5 signature',
  scanFile(
    'm.h5',
    Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(3, 2048)]),
  ),
  BLOCK,
);
add(
  '7z archive named .bin',
  scanFile('m.bin', Buffer.concat([Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), randomBytes(4, 100)])),
  BLOCK,
);
add('empty .pt', scanFile('m.pt', Buffer.alloc(0)), [BLOCK, 2]);

// ---- folders ------------------------------------------------------------------------------------------------------
add(
  'folder: symlink pointing out of the tree',
  (dir) => {
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'config.json'), '{}');
    symlinkSync('/etc/passwd', join(dir, 'm', 'weights.bin'));
    return { args: ['scan', 'm'] };
  },
  [PASS, BLOCK],
  /symlink/,
);
add(
  'folder: symlink loop',
  (dir) => {
    mkdirSync(join(dir, 'm'));
    symlinkSync('.', join(dir, 'm', 'loop'));
    writeFileSync(join(dir, 'm', 'a.pkl'), pickleDict());
    return { args: ['scan', 'm'] };
  },
  [PASS, BLOCK],
);
add(
  'folder: 2,000 nested folders',
  (dir) => {
    let p = join(dir, 'm');
    for (let i = 0; i < 100; i++) p = join(p, 'd');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'x.pkl'), pickleCall('os', 'system', 'id'));
    return { args: ['scan', 'm'] };
  },
  BLOCK,
);
add('nonexistent path', () => ({ args: ['scan', 'does-not-exist.pt'] }), 2);

// ---- seeded fuzzing of valid fixtures: never a crash, always a verdict ------------------------------------------
const FUZZ = ['tiny.gguf', 'model.safetensors', 'mlp.onnx', 'dense.keras', 'dense.h5', 'cond.onnx'];
for (const f of FUZZ) {
  const src = readFileSync(join(FIXTURES, 'formats', 'benign', f));
  for (let seed = 1; seed <= 4; seed++) {
    add(`fuzz: ${f} seed ${seed}`, scanFile(f, mutate(src, seed * 7919, 1 + seed * 3)), [PASS, BLOCK]);
  }
}

hostileSuite('hostile scan', cases);
