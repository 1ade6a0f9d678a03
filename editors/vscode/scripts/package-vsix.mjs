#!/usr/bin/env node
// Packages the extension as a .vsix without vsce (no network here): a .vsix is a zip holding
// extension.vsixmanifest, [Content_Types].xml and the extension's files under extension/.
// `node editors/vscode/scripts/package-vsix.mjs [--out FILE.vsix]`; the runtime dependency (vscode-jsonrpc)
// is copied from the repository's node_modules.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(here, '../..');
const EXTENSION_FILES = ['package.json', 'extension.js', 'language-configuration.json', 'syntaxes/cnn.tmLanguage.json', 'README.md'];
const BUNDLED_MODULES = ['vscode-jsonrpc'];

// ---- a minimal zip writer (deflate, CRC-32, no zip64: an extension is small) -----------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data) {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of `entries` ([{ name, data: Buffer }]) as one Buffer. */
export function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  // 1980-01-01 00:00: fixed so the same input gives the same archive.
  const time = 0;
  const date = (0 << 9) | (1 << 5) | 1;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, compressed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

// ---- the .vsix ---------------------------------------------------------------------------------

const xml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function vsixManifest(pkg) {
  return `<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
  <Metadata>
    <Identity Language="en-US" Id="${xml(pkg.name)}" Version="${xml(pkg.version)}" Publisher="${xml(pkg.publisher)}" />
    <DisplayName>${xml(pkg.displayName)}</DisplayName>
    <Description xml:space="preserve">${xml(pkg.description)}</Description>
    <Tags>cnn,__ext_cnn</Tags>
    <Categories>${xml(pkg.categories.join(','))}</Categories>
    <GalleryFlags>Public</GalleryFlags>
    <Properties>
      <Property Id="Microsoft.VisualStudio.Code.Engine" Value="${xml(pkg.engines.vscode)}" />
      <Property Id="Microsoft.VisualStudio.Code.ExtensionDependencies" Value="" />
      <Property Id="Microsoft.VisualStudio.Code.ExtensionPack" Value="" />
      <Property Id="Microsoft.VisualStudio.Code.ExtensionKind" Value="workspace" />
      <Property Id="Microsoft.VisualStudio.Code.LocalizedLanguages" Value="" />
      <Property Id="Microsoft.VisualStudio.Services.GitHubFlavoredMarkdown" Value="true" />
    </Properties>
  </Metadata>
  <Installation>
    <InstallationTarget Id="Microsoft.VisualStudio.Code" />
  </Installation>
  <Dependencies />
  <Assets>
    <Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true" />
    <Asset Type="Microsoft.VisualStudio.Services.Content.Details" Path="extension/README.md" Addressable="true" />
  </Assets>
</PackageManifest>
`;
}

const CONTENT_TYPES = { '.json': 'application/json', '.js': 'application/javascript', '.md': 'text/markdown', '.txt': 'text/plain', '.vsixmanifest': 'text/xml' };

export function contentTypes(names) {
  const extensions = [...new Set(['.vsixmanifest', ...names.map((n) => extname(n).toLowerCase())])].filter((e) => e && e !== '.xml').sort();
  const defaults = extensions.map((e) => `<Default Extension="${xml(e)}" ContentType="${CONTENT_TYPES[e] ?? 'application/octet-stream'}"/>`);
  return `<?xml version="1.0" encoding="utf-8"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">${defaults.join('')}</Types>\n`;
}

function filesUnder(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === 'typings' ? [] : filesUnder(path);
      return path.endsWith('.d.ts') || path.endsWith('.map') ? [] : [path];
    });
}

/** The archive's entries: manifest, content types, the extension and its bundled modules. */
export function vsixEntries() {
  const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
  const files = EXTENSION_FILES.map((f) => ({ name: `extension/${f}`, data: readFileSync(join(here, f)) }));
  for (const module of BUNDLED_MODULES) {
    const dir = join(repo, 'node_modules', module);
    if (!existsSync(dir)) throw new Error(`${module} is not installed in ${join(repo, 'node_modules')}; run npm install first`);
    for (const path of filesUnder(dir)) files.push({ name: `extension/node_modules/${module}/${relative(dir, path).split('\\').join('/')}`, data: readFileSync(path) });
  }
  return [
    { name: 'extension.vsixmanifest', data: Buffer.from(vsixManifest(pkg)) },
    { name: '[Content_Types].xml', data: Buffer.from(contentTypes(files.map((f) => f.name))) },
    ...files,
  ];
}

function main(argv) {
  const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
  const i = argv.indexOf('--out');
  const out = resolve(i >= 0 && argv[i + 1] ? argv[i + 1] : join(here, `${pkg.name}-${pkg.version}.vsix`));
  const archive = zip(vsixEntries());
  mkdirSync(dirname(out), { recursive: true });
  const temp = `${out}.${process.pid}.tmp`;
  writeFileSync(temp, archive);
  renameSync(temp, out);
  process.stdout.write(`wrote ${out} (${archive.length} bytes)\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`package-vsix: ${e.message}\n`);
    process.exitCode = 1;
  }
}
