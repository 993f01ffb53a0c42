#!/usr/bin/env node
/**
 * Builds the agent into one file: `node agent/build.mjs [--outfile path]` (npm run build:agent)
 * writes dist/agent/idhub-agent.mjs, which runs with Node 20 alone:
 *   node dist/agent/idhub-agent.mjs --config application.yaml
 * Every dependency is bundled (nothing external); CommonJS ones (postgres, ldapts, pino's
 * helpers) get a real `require` from the banner. The version is baked in from package.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outfile: { type: 'string' } } });
const outfile = path.resolve(values.outfile ?? path.join(root, 'dist/agent/idhub-agent.mjs'));
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

// Bundled CommonJS code calls require(), __filename and __dirname, which ESM lacks.
const banner = [
  '#!/usr/bin/env node',
  "import { createRequire as __idhubCreateRequire } from 'node:module';",
  "import { fileURLToPath as __idhubFileURLToPath } from 'node:url';",
  "import { dirname as __idhubDirname } from 'node:path';",
  'const require = __idhubCreateRequire(import.meta.url);',
  'const __filename = __idhubFileURLToPath(import.meta.url);',
  'const __dirname = __idhubDirname(__filename);',
].join('\n');

// esbuild prints its own errors (logLevel); the stack of the rejection would add nothing.
await build({
  absWorkingDir: root,
  entryPoints: [path.join(root, 'agent/main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: banner },
  define: { __IDHUB_AGENT_VERSION__: JSON.stringify(version) },
  legalComments: 'eof',
  logLevel: 'warning',
}).catch(() => process.exit(1));
fs.chmodSync(outfile, 0o755);
const kib = Math.round(fs.statSync(outfile).size / 1024);
process.stdout.write(
  `built ${path.relative(process.cwd(), outfile)} (agent ${version}, ${kib} KiB)\n`,
);
