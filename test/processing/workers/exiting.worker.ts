/** Stand-in batch worker that dies on its first job, as a thread that ran out of memory would. */
import { parentPort } from 'node:worker_threads';

parentPort?.once('message', () => process.exit(3));
