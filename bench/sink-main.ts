import { createInterface } from 'node:readline';
import { countingSink } from './sink.js';

// Child-process entry: prints the port, then answers "count" lines with the number received.
const sink = await countingSink();
process.stdout.write(`${sink.port}\n`);
createInterface({ input: process.stdin }).on('line', () => process.stdout.write(`${sink.count()}\n`)).on('close', () => process.exit(0));
