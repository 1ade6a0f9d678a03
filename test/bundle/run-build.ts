// `node bin/run-ts.js test/bundle/run-build.ts ARGS...` runs `cnnc build ARGS...` in a process of
// its own (exit code, stdout, stderr) until cli/main.ts routes `build` to cli/build.ts.

import { runBuild } from '../../cli/build.ts';

process.exitCode = await runBuild(process.argv.slice(2));
