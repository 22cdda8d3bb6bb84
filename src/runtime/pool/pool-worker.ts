// The script of each Web Worker in a browser node's function pool given a module's URL.
import { serveInWorker } from './pool-serve.ts';

serveInWorker();
