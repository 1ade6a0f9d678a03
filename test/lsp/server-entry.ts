// Starts the language server the way `cnnc lsp --stdio` does, for as long as cli/main.ts does not
// dispatch `lsp` yet (the tests prefer the real `node bin/cnnc.js lsp --stdio` once it does).
import { runLsp } from '../../cli/lsp.ts';

process.exitCode = await runLsp(process.argv.slice(2));
