// Finding an entry's line again in JSON text, and where invalid JSON breaks.

import { describe, expect, it } from 'vitest';
import { jsonOffset, jsonWhere, lineAt, syntaxErrorOffset } from '../../runtime/detect/json-lines.ts';

// Strings with brackets, braces, commas and escaped quotes must not confuse the walk.
const TEXT = '{\n  "info": {"note": "a ] } , \\" [ {"},\n  "images": [\n    {"id": 1, "file_name": "x,].png"},\n    {"id": 2,\n     "file_name": "y.png"}\n  ]\n}\n';

describe('JSON lines', () => {
  it('finds array entries and their fields past tricky strings', () => {
    expect(JSON.parse(TEXT)).toBeTruthy();
    expect(lineAt(TEXT, jsonOffset(TEXT, ['images', 0])!)).toBe(4);
    expect(lineAt(TEXT, jsonOffset(TEXT, ['images', 1])!)).toBe(5);
    expect(lineAt(TEXT, jsonOffset(TEXT, ['images', 1, 'file_name'])!)).toBe(6);
    expect(TEXT.slice(jsonOffset(TEXT, ['images', 0, 'file_name'])!)).toMatch(/^"x,\]\.png"/);
    expect(jsonOffset(TEXT, ['images', 2])).toBeUndefined();
    expect(jsonOffset(TEXT, ['annotations'])).toBeUndefined();
    // A field that is not there: the entry's line.
    expect(jsonWhere('a.json', TEXT, ['images', 1, 'bbox'])).toBe('a.json:5');
  });

  it('finds where invalid JSON breaks', () => {
    expect(syntaxErrorOffset(TEXT)).toBeUndefined();
    expect(syntaxErrorOffset('[1, 2, ]')).toBe(7);
    expect(syntaxErrorOffset('{"a": "b\nc"}')).toBe(8);
    expect(syntaxErrorOffset('{"a": 1} x')).toBe(9);
    expect(syntaxErrorOffset('{"a": [1, 2')).toBe(11);
  });
});
