// `npm run bench [-- SECTION...] [--steps N] [--warmup N] [--backend vulkan|opengles] [--list]`
// Prints one JSON object per line on stdout; progress goes to stderr. Sections: bench/sections.ts.

import { runSections } from './driver.ts';
import { sections } from './sections.ts';

// Dawn's GPU object keeps Node's event loop alive, so leave explicitly once every line is out.
process.exit(await runSections(process.argv.slice(2), sections));
