// `import './ts-register.js'` (or `node --import ./bin/ts-register.js`) lets Node load .ts files.
import { register } from 'node:module';

register('./ts-hooks.js', import.meta.url);
