/**
 * Every resource bound of every reader, in one place. A reader that exceeds one reports a blocking
 * finding (scanner) or throws E_LIMIT (data layer); it never silently truncates.
 * Layers add their own section here; keep the numbers generous enough for real models and small
 * enough that a hostile file cannot exhaust memory or time.
 */
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const LIMITS = {
  json: {
    /** Nesting of any JSON read (JSON Lines data, configs, locks, bundles, policies, endpoint answers). */
    maxDepth: 512,
  },
  pickle: {
    /** Opcodes executed symbolically in one pickle stream (a 20k-tensor checkpoint has ~600k). */
    maxOpcodes: 50_000_000,
    /** Bytes of pickle stream read for one pickle. */
    maxPickleBytes: 2 * GiB,
    /** Memo entries. */
    maxMemo: 10_000_000,
    /** Stack depth (values) and nesting of MARKs. */
    maxStack: 10_000_000,
    maxMarkDepth: 100_000,
    /** Symbolic value nesting (containers inside containers). */
    maxNesting: 1_000,
    /** Pickles nested inside pickles (bytes handed to a loader) followed recursively. */
    maxNestedPickleDepth: 8,
    /** Number of pickles concatenated in one stream. */
    maxStreamsPerFile: 64,
  },
  archive: {
    /** Entries in one zip/tar. */
    maxEntries: 1_000_000,
    /** Bytes read from one archive entry that must be analysed (pickles, configs); tensors are never read. */
    maxEntryBytes: 2 * GiB,
    /** Total decompressed bytes across one file (zip deflate, joblib zlib/gzip/bz2/xz/lzma). */
    maxDecompressedBytes: 4 * GiB,
    /** Decompressed / compressed ratio that is considered a bomb. */
    maxCompressionRatio: 10_000,
    /** Nesting of archives inside archives. */
    maxArchiveDepth: 4,
  },
  scan: {
    /** Files visited when walking a folder. */
    maxFiles: 1_000_000,
    /** Directory depth when walking a folder. */
    maxDepth: 64,
  },
  headers: {
    /** safetensors JSON header. */
    maxSafetensorsHeader: 100 * MiB,
    /** .npy header. */
    maxNpyHeader: 1 * MiB,
    /** GGUF metadata: strings, array elements, KV pairs, tensors. */
    maxGgufString: 64 * MiB,
    maxGgufArray: 100_000_000,
    maxGgufKv: 1_000_000,
    maxGgufTensors: 1_000_000,
    /** JSON config files (config.json, metadata.json, keras config). */
    maxJsonConfig: 64 * MiB,
    /** Protobuf (ONNX, SavedModel) message bytes parsed in memory. */
    maxProtobuf: 2 * GiB,
    maxProtobufDepth: 100,
  },
  data: {
    /** Rows in one audit batch. */
    maxRows: 100_000_000,
    /**
     * Longest CSV/TSV record. DuckDB's reader sizes its buffers from this per column and thread (64 MiB made a
     * 2,000-column file fail under a 4 GiB address-space cap); a longer record is a reject, not a crash.
     */
    maxLineBytes: 8 * MiB,
    /**
     * Columns in one audited file. DuckDB's readers reserve buffers per column and thread: 4,096 columns of a
     * few hundred rows already fail under a 4 GiB address-space cap. Checked from the header, before loading.
     */
    maxColumns: 2_048,
    /**
     * Label classes. The models' weights grow with the classes (their hashed space shrinks to keep them
     * bounded, see learn/context.ts) and so does their time; above this a class has too few rows for any
     * detector to judge it, so the audit stops with a one-line error instead.
     */
    maxClasses: 256,
    /** Distinct tokens kept per text column in the trigger miner. */
    maxVocabulary: 5_000_000,
  },
  gate: {
    /** ONNX model file read into memory (the session is created from these bytes). */
    maxModelBytes: 2 * GiB,
    /** Rows per onnxruntime run. */
    onnxBatch: 8_192,
    /** Rows per HTTP request, requests in flight, per-request timeout, retries after the first try. */
    httpBatch: 256,
    httpConcurrency: 4,
    httpTimeoutMs: 15_000,
    httpRetries: 2,
    /** Total time one model's scoring may take over HTTP (all requests, retries and backoff). */
    httpDeadlineMs: 600_000,
    /** Bytes of one HTTP response body. */
    maxResponseBytes: 64 * MiB,
    /** A predictions file (hashed whole before it is read as a table). */
    maxPredictionsBytes: 2 * GiB,
    /** Rows of the trusted set, live set or predictions file. */
    maxRows: 10_000_000,
  },
  files: {
    /** Small inputs read whole: policy and config files, keys and certificates, trigger lists. */
    maxPolicyBytes: 16 * MiB,
    maxConfigBytes: 16 * MiB,
    maxKeyBytes: 1 * MiB,
    maxTriggerFileBytes: 64 * MiB,
    /** An audit's report.json read back by the gate (--audit). */
    maxAuditReportBytes: 512 * MiB,
  },
  provenance: {
    /** A signature bundle (JSON) read whole; real ones are kilobytes to a few MB (one line per shard). */
    maxSignatureBytes: 256 * MiB,
    /** A lock file read whole. */
    maxLockBytes: 1 * GiB,
  },
} as const;

export type Limits = typeof LIMITS;
