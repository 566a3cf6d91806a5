/** torch storage classes (as named in a checkpoint's persistent ids) -> [safetensors dtype, bytes per element]. */
export const STORAGE_DTYPES: Readonly<Record<string, readonly [string, number]>> = {
  FloatStorage: ['F32', 4],
  DoubleStorage: ['F64', 8],
  HalfStorage: ['F16', 2],
  BFloat16Storage: ['BF16', 2],
  LongStorage: ['I64', 8],
  IntStorage: ['I32', 4],
  ShortStorage: ['I16', 2],
  CharStorage: ['I8', 1],
  ByteStorage: ['U8', 1],
  BoolStorage: ['BOOL', 1],
  ComplexFloatStorage: ['C64', 8],
  Float8_e4m3fnStorage: ['F8_E4M3', 1],
  Float8_e5m2Storage: ['F8_E5M2', 1],
  UInt16Storage: ['U16', 2],
  UInt32Storage: ['U32', 4],
  UInt64Storage: ['U64', 8],
};
