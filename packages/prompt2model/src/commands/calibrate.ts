import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { CascadeCalibration } from '@prompt2model/core/internal';
import { predictSettings, threadsOption } from '../flags/training.js';
import { parseNumber, type CliRuntime, type GlobalOptions } from '../runtime.js';

interface CalibrateOptions extends GlobalOptions {
  targetQuality: number;
  metrics?: string;
  estimateOnly: boolean;
  preflight: boolean;
  report: boolean;
  python?: string;
  threads?: number;
}

/**
 * `prompt2model calibrate RUN [--target-quality 0.99] [--max-cost USD]`: calibrates the
 * student→teacher cascade of a finished run (as `run` does after evaluation): prices the teacher
 * calls first, then the student and the teacher over the validation split, `calibration.json`,
 * and the model card and report rewritten with the curve, the threshold and the cost per 1,000 calls.
 */
export function register(program: Command, runtime: CliRuntime): void {
  program
    .command('calibrate')
    .description("Calibrate a run's student→teacher cascade on its validation split: the coverage-quality curve, the default confidence threshold, cost per 1,000 calls (one teacher call per validation example; priced first)")
    .argument('<run>', 'run folder whose training has finished')
    .addOption(new Option('--target-quality <share>', "the default threshold keeps this share of the teacher's quality").argParser(parseNumber('--target-quality', { min: 0.01, max: 1 })).default(0.99))
    .option('--metrics <list>', "metrics as the run's evaluation used them (the primary one is calibrated on); default from the task type")
    .option('--estimate-only', 'print the teacher calls and their cost, then stop (no paid call)', false)
    .option('--no-preflight', 'skip the check that the teacher answers before the first paid call')
    .option('--no-report', 'do not rewrite report.md / report.json / report.html')
    .option('--python <path>', 'Python with torch + transformers, for a student without an ONNX export (it reports no confidence: export one with `prompt2model export`)')
    .addOption(threadsOption())
    .action(
      runtime.action(async (runDir: string, _options: CalibrateOptions, command: Command) => {
        const options = runtime.options<CalibrateOptions>(command);
        const { readCalibrationTarget, estimateCalibration, calibrateRun } = await import('../run/calibrate.js');
        const target = await readCalibrationTarget(runDir);
        // The run's own teacher unless one is named: the cascade asks the teacher it was calibrated with.
        const teacherName = command.getOptionValueSource('teacher') === 'default' || command.parent?.getOptionValueSource('teacher') === 'default' ? (target.teacher ?? options.teacher) : options.teacher;
        const settings = { ...options, teacher: teacherName };
        const teacher = await runtime.teacherModel(settings);
        const countTokens = await teacher.tokenCounter?.();
        const estimate = estimateCalibration(target, teacher.modelId, countTokens ? { countTokens } : {});
        const money = (usd: number) => `$${usd.toFixed(usd > 0 && usd < 0.01 ? 6 : 4)}`;
        const estimateLine = `Calibration: ${estimate.requests} teacher calls to ${estimate.teacher} (one per validation example), at most ${money(estimate.usd)}${estimate.priced ? '' : ' (no known price: counted as $0)'}; calls already in the LLM cache cost nothing.`;
        if (options.estimateOnly) {
          runtime.print(options, estimate, estimateLine);
          return;
        }
        if (!options.json) runtime.io.stderr(`${estimateLine}\n`);
        if (options.maxCost !== undefined && estimate.usd > options.maxCost) {
          runtime.io.stderr(`warning: the estimate (${money(estimate.usd)}) is over --max-cost (${money(options.maxCost)}); calibration stops at the cap (rerun with a higher --max-cost to finish: paid calls are not paid again).\n`);
        }
        if (options.preflight) await runtime.preflight(settings, teacher);
        const context = await runtime.createContext(settings, { outDir: runDir, config: {} });
        const { RunRecorder } = await import('../run/recorder.js');
        const recorder = await RunRecorder.open(runDir);
        const detach = recorder.attach(context.events);
        let calibration: CascadeCalibration | undefined;
        try {
          calibration = await calibrateRun(context, {
            targetQuality: options.targetQuality,
            providers: { openai: options.baseUrl ? { baseURL: options.baseUrl } : {}, env: runtime.io.env },
            predict: predictSettings(options, runtime),
            ...(options.metrics ? { evaluator: { metrics: options.metrics } } : {}),
          });
        } finally {
          detach();
          await recorder.save().catch(() => undefined);
        }
        let report: string | undefined;
        const { REPORT_FILES } = await import('../run/report.js');
        if (options.report && existsSync(join(runDir, REPORT_FILES.json))) {
          const { rebuildRunReport } = await import('../run/report.js');
          report = (await rebuildRunReport(runDir)).html;
        }
        const { describeCalibration } = await import('../run/report-markdown.js');
        runtime.print(options, { calibration: calibration ?? null, estimate, ...(report ? { report } : {}) }, () =>
          [...(calibration ? describeCalibration(calibration) : ['Calibration skipped: the validation split is empty.']), ...(report ? [`Report: ${report}`] : [])].join('\n'),
        );
      }),
    );
}
