// Each pool worker's script: the bundler builds it together with the functions it serves.
import { serveFunctions } from '../../../src/worker.ts';
import * as tasks from '../pages/tasks.ts';

serveFunctions(tasks);
