// seek-bzip ships no type declarations; only the decode entry point used by formats/joblib.ts is declared.
declare module 'seek-bzip' {
  const Bunzip: {
    decode(
      input: Buffer,
      output?: number | Buffer | { writeByte(b: number): void },
      multistream?: boolean,
    ): Buffer;
  };
  export default Bunzip;
}
