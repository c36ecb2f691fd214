// Renders the SVG icons in public/icons to the PNG sizes the web app manifest needs, in Debian's
// Chromium. Run after editing an SVG: `npx tsx scripts/render-icons.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import { launchChromium } from '../tests/e2e/chromium.ts';

const renders = [
  { svg: 'public/icons/icon.svg', png: 'public/icons/icon-192.png', size: 192 },
  { svg: 'public/icons/icon.svg', png: 'public/icons/icon-512.png', size: 512 },
  { svg: 'public/icons/maskable.svg', png: 'public/icons/maskable-512.png', size: 512 },
];

const chromium = await launchChromium();
try {
  const page = await chromium.context.newPage();
  for (const { svg, png, size } of renders) {
    await page.setViewportSize({ width: size, height: size });
    const markup = readFileSync(svg, 'utf8').replace('<svg ', `<svg width="${size}" height="${size}" `);
    await page.setContent(`<html><body style="margin:0;background:transparent">${markup}</body></html>`);
    writeFileSync(png, await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
    console.log(`${png} (${size}×${size})`);
  }
} finally {
  await chromium.close();
}
