// The script of each Web Worker in a demo tab's pool: a bundler builds it with the functions.
import { serveFunctions } from '../src/worker.ts';
import * as tasks from './tasks.ts';

serveFunctions(tasks);
