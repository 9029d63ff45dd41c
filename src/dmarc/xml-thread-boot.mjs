// Boots an XML parse thread (see src/app/thread-boot.mjs).
import { bootThread } from '../app/thread-boot.mjs';

await bootThread(import.meta.url, 'xml-thread');
