import { writeFileAtomic } from '../core/atomic-write.js';

/** Write a rendered report to `--output FILE` (atomically) or to stdout. */
export async function emit(text: string, outputPath?: string): Promise<void> {
  if (outputPath) {
    await writeFileAtomic(outputPath, text);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
