/**
 * Draws Sorta's app icon (512×512 PNG, what electron-builder turns into .ico / .icns / Linux icons):
 * scattered tiles on the left sorted into three coloured columns on the right.
 * Run: node --import tsx resources/make-icon.ts
 */
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';

const SIZE = 512;
const colours = ['#f58231', '#4363d8', '#3cb44b'];

const scattered = [
  [92, 150, 0],
  [150, 228, 1],
  [84, 300, 2],
  [160, 360, 0],
]
  .map(
    ([x, y, c]) =>
      `<rect x="${x}" y="${y}" width="46" height="46" rx="9" fill="${colours[c!]}" opacity="0.55" ` +
      `transform="rotate(${((x! * 7 + y!) % 30) - 15} ${x! + 23} ${y! + 23})"/>`,
  )
  .join('');

const columns = colours
  .map((colour, i) => {
    const x = 262 + i * 60;
    const tiles = [0, 1, 2]
      .slice(0, 3 - (i === 1 ? 1 : 0))
      .map((row) => `<rect x="${x}" y="${352 - row * 58}" width="46" height="46" rx="9" fill="${colour}"/>`)
      .join('');
    return tiles;
  })
  .join('');

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#1f2937"/>
      <stop offset="1" stop-color="#111827"/>
    </linearGradient>
  </defs>
  <rect x="16" y="16" width="480" height="480" rx="104" fill="url(#bg)"/>
  ${scattered}
  <path d="M218 256 h24 m-10 -12 l12 12 l-12 12" stroke="#e5e7eb" stroke-width="8" fill="none"
    stroke-linecap="round" stroke-linejoin="round"/>
  ${columns}
  <rect x="250" y="410" width="190" height="8" rx="4" fill="#e5e7eb" opacity="0.8"/>
</svg>`;

const out = fileURLToPath(new URL('./icon.png', import.meta.url));
await sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toFile(out);
const meta = await sharp(out).metadata();
process.stdout.write(`${out}: ${meta.width}×${meta.height} ${meta.format}\n`);
