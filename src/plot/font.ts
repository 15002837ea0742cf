import type { Canvas } from './png.js';

/** A 3×5 pixel font for axis labels: digits and the few signs times and values need. */
const GLYPHS: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  ':': '000010000010000',
  '-': '000000111000000',
  ' ': '000000000000000',
};

/** Writes `text` with its top-left corner at (x, y), each font pixel `scale` pixels wide. */
export function drawText(
  canvas: Canvas,
  text: string,
  x: number,
  y: number,
  rgb: readonly [number, number, number],
  scale = 2,
): void {
  let cx = x;
  for (const ch of text) {
    const glyph = GLYPHS[ch] ?? GLYPHS[' '];
    for (let i = 0; i < 15; i++)
      if (glyph?.[i] === '1')
        canvas.rect(cx + (i % 3) * scale, y + Math.floor(i / 3) * scale, scale, scale, rgb);
    cx += 4 * scale;
  }
}

export const textWidth = (text: string, scale = 2) => text.length * 4 * scale;
