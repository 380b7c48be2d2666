import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PAGE_ASSETS } from './assets.generated.js';

describe('status page assets', () => {
  it('assets.generated.ts matches the page files (run build-assets.mjs after editing them)', () => {
    const script = fileURLToPath(new URL('./build-assets.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('ships the page, its script, style and icon, with the world outline baked in', () => {
    expect(Object.keys(PAGE_ASSETS).sort()).toEqual(['/', '/app.js', '/favicon.svg', '/style.css']);
    const html = PAGE_ASSETS['/']!.body;
    expect(html).not.toContain('{{');
    const land = /<path class="land" d="([^"]+)"/.exec(html)?.[1] ?? '';
    // Natural Earth 110m land: about a hundred rings, a few tens of KB as a relative path.
    expect(land.match(/M/g)?.length).toBeGreaterThan(80);
    expect(land.length).toBeLessThan(60_000);
  });

  it('loads nothing from elsewhere and renders nothing as HTML from data', () => {
    for (const [path, asset] of Object.entries(PAGE_ASSETS)) {
      expect(asset.body, path).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
      expect(asset.body, path).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    }
    expect(PAGE_ASSETS['/']!.body).not.toMatch(/<script>|style="/);
  });
});
