// autocannon worker-thread request setup: walks through the token paths written by bench/unsubscribe.ts
// from the first, so every request of a run is a new recipient until the list wraps.
const paths = require('fs').readFileSync(process.env.TEGAMI_BENCH_PATHS, 'utf8').split('\n');
let i = 0;
module.exports = (req) => ({ ...req, path: paths[i++ % paths.length] });
