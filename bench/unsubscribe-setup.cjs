// autocannon worker-thread request setup: cycles through the token paths written by bench/unsubscribe.ts.
const paths = require('fs').readFileSync(process.env.TEGAMI_BENCH_PATHS, 'utf8').split('\n');
let i = Math.floor(Math.random() * paths.length);
module.exports = (req) => ({ ...req, path: paths[i++ % paths.length] });
