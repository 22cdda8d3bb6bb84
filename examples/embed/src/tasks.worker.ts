// The script of the app's Web Workers: they serve the task functions, off the page's thread.
import { serveFunctions } from 'handout/worker';
import { functions } from './functions.js';

serveFunctions(functions);
