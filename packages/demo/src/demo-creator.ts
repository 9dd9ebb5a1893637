import { Prompt2ModelError, type Demo, type DemoCreator, type PromptSpec, type StageContext, type TrainedModel } from '@prompt2model/core/internal';
import { demoContent, shownModelId } from './demo-info.js';
import { demoExecutorFor, type DemoModelOptions } from './demo-model.js';
import { startDemoServer, type DemoServerOptions } from './server.js';

export interface DemoCreatorOptions extends DemoModelOptions, Omit<DemoServerOptions, 'executor' | 'info' | 'context' | 'unref'> {
  /** Page title (default: the instruction's first line). */
  title?: string;
  /**
   * Keep the process alive while the demo serves (default false: a pipeline run ends when its
   * script does; await `demo.closed` to serve until `close()`).
   */
  keepAlive?: boolean;
}

/** A running demo: where it is, how to stop it, and a promise that settles when it stops. */
export interface WebDemo extends Demo {
  closed: Promise<void>;
}

/** The default DemoCreator: `create` resolves to a WebDemo (with `closed`). */
export interface WebDemoCreator extends DemoCreator {
  create(model: TrainedModel, spec: PromptSpec, context: StageContext): Promise<WebDemo>;
}

/** Gradio's port; when it is taken and no port was asked for, any free one. */
const DEFAULT_PORT = 7860;

/**
 * The default DemoCreator stage: serves the trained model's page and API on 127.0.0.1 (see
 * `startDemoServer`), with the executor the evaluator would use. The model loads on the first
 * request, so creating the demo is instant.
 */
export function createDemoCreator(options: DemoCreatorOptions = {}): WebDemoCreator {
  return {
    specificationVersion: 'v1',
    name: 'web-demo',
    async create(model: TrainedModel, spec: PromptSpec, context: StageContext): Promise<WebDemo> {
      const executor = demoExecutorFor(model, spec, options);
      const { title, keepAlive, executors: _executors, languageModelFor: _languageModelFor, onnx: _onnx, ...serverOptions } = options;
      const log = serverOptions.log ?? ((level: 'info' | 'warn', message: string) => context.events.log(level, message, 'demo'));
      const start = (port: number) =>
        startDemoServer({
          ...serverOptions,
          port,
          executor,
          context,
          unref: !keepAlive,
          info: demoContent(spec, { ...(title ? { title } : {}), model: { id: shownModelId(model, executor.modelId), runtime: executor.name } }),
          log,
        });
      let server;
      try {
        server = await start(options.port ?? DEFAULT_PORT);
      } catch (error) {
        if (options.port !== undefined || !Prompt2ModelError.isInstance(error) || !/in use/.test(error.message)) throw error;
        server = await start(0);
      }
      log('info', `Demo of ${executor.modelId} at ${server.url}`);
      return {
        url: server.url,
        closed: server.closed,
        async close() {
          await server.close();
          await executor.dispose?.();
        },
      };
    },
  };
}
