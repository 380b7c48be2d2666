import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { originConfigSchema } from '@haven/core';
import { originTemplate } from './template.js';

describe('originTemplate', () => {
  it('parses as written, without a relay block (every node pulls from the origin)', () => {
    const cfg = originConfigSchema.parse(parse(originTemplate({ name: 'origin', publicHost: '203.0.113.1' })));
    expect(cfg.relay.maxChildren).toBeUndefined();
  });

  it('its commented relay example, uncommented, is a valid relay block', () => {
    const text = originTemplate({ name: 'origin', publicHost: '203.0.113.1' });
    const lines = text.split('\n');
    const at = lines.indexOf('# relay:');
    expect(at).toBeGreaterThan(0);
    const block: string[] = [];
    for (let i = at; i < lines.length && lines[i]!.startsWith('# '); i++) block.push(lines[i]!.slice(2));
    const cfg = originConfigSchema.parse({ ...parse(text), ...parse(block.join('\n')) });
    expect(cfg.relay).toMatchObject({ maxChildren: 3, uplinkMbps: 30, maxDepth: 3 });
  });
});
