import type { Command } from 'commander';
import type { CliRuntime } from '../runtime.js';
import { register as parse } from './parse.js';
import { register as generate } from './generate.js';
import { register as train } from './train.js';
import { register as evaluate } from './eval.js';
import { register as models } from './models.js';
import { register as indexBuild } from './index-build.js';
import { register as run } from './run.js';
import { register as calibrate } from './calibrate.js';
import { register as setup } from './setup.js';
import { register as exportModel } from './export.js';
import { register as push } from './push.js';
import { register as demo } from './demo.js';
import { register as datasets } from './datasets.js';
import { register as serve } from './serve.js';

/** A CLI verb: one file in this folder, listed once below. */
export type RegisterCommand = (program: Command, runtime: CliRuntime) => void;

/** Every verb of the CLI, in help order. Adding a verb is one file in this folder and one entry here. */
export const commands: RegisterCommand[] = [parse, generate, models, indexBuild, train, evaluate, run, calibrate, datasets, setup, exportModel, push, demo, serve];
