// Generates src/data/eeg-letters.csv: a small synthetic stand-in for the classic's EEG recordings
// (8 channels, letters A..E), so the app ships its training data and downloads nothing at run time.
// Deterministic: a seeded PRNG and only + - * / (normal noise as a sum of 12 uniforms), so every
// machine writes the same bytes; a test compares the committed file with this output.
//   npx ts-node --swc apps/eeg-letters/generate-data.ts
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CHANNELS = ['fp1', 'fp2', 'c3', 'c4', 'p3', 'p4', 'o1', 'o2'];
export const LETTERS = ['A', 'B', 'C', 'D', 'E'];
export const ROWS_PER_LETTER = 60;
export const DATA_FILE = path.join(__dirname, 'src', 'data', 'eeg-letters.csv');

/** mulberry32: a tiny seeded PRNG with integer arithmetic only. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateEegLetters(seed = 20240501): string {
  const rand = prng(seed);
  const normal = () => {
    let s = 0;
    for (let i = 0; i < 12; i++) s += rand();
    return s - 6;
  };
  // Each letter has its own mean amplitude per channel; samples are that plus unit noise.
  const means = LETTERS.map(() => CHANNELS.map(() => rand() * 4 - 2));
  const lines = [[...CHANNELS, 'letter'].join(',')];
  for (let r = 0; r < ROWS_PER_LETTER; r++) {
    for (const [l, letter] of LETTERS.entries()) {
      lines.push([...means[l].map((m) => (m + normal()).toFixed(4)), letter].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  fs.writeFileSync(DATA_FILE, generateEegLetters());
  // eslint-disable-next-line no-console
  console.log(`wrote ${DATA_FILE}`);
}
