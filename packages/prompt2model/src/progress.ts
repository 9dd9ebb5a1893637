import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { ProgressEmitter, ProgressEvent } from '@prompt2model/core/internal';
import type { CliIO } from './runtime.js';
import { withCliFlags } from './error-flags.js';

/**
 * Renders progress events: bars on an interactive terminal, plain throttled log lines otherwise
 * (CI, pipes), nothing but warnings with --json. All on stderr, so stdout stays the result.
 * Returns the function that stops rendering.
 */
export function attachProgressRenderer(events: ProgressEmitter, options: { io: CliIO; json: boolean; verbose: boolean }): () => void {
  const { io, verbose } = options;
  const quiet = options.json;
  let costUsd = 0;
  let tokens = 0;
  let cachedCalls = 0;
  // Bars are drawn only on a terminal; cli-progress loads then (synchronously), not at CLI start.
  const cliProgress = io.isTTY && io.stderrStream && !quiet ? (createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule) : undefined;
  const multibar = cliProgress
    ? new cliProgress.MultiBar(
        {
          format: ' {stage} |{bar}| {value}/{total} {counters} | ${cost}',
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          stream: io.stderrStream,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const bars = new Map<string, cliProgressModule.SingleBar>();
  const lastLogged = new Map<string, { at: number; fraction: number }>();
  const stageStarted = new Map<string, number>();

  const unsubscribe = events.on((event: ProgressEvent) => {
    switch (event.type) {
      case 'usage':
        costUsd = event.totalCostUsd;
        tokens += event.inputTokens + event.outputTokens;
        if (event.cached) cachedCalls++;
        return;
      case 'log':
        if (event.level === 'debug' && !verbose) return;
        if (quiet && event.level !== 'warn') return;
        writeLine(`${event.level === 'warn' ? 'warning: ' : ''}${event.stage ? `[${event.stage}] ` : ''}${withCliFlags(event.message)}`);
        return;
      case 'stage-start':
        stageStarted.set(event.stage, Date.now());
        if (!quiet) writeLine(`▶ ${event.stage}${event.resumed ? ' (resuming)' : ''}`);
        return;
      case 'stage-finish': {
        bars.get(event.stage)?.stop();
        if (quiet) return;
        const status = event.status === 'cached' ? 'already done, skipped' : event.status;
        writeLine(`${event.status === 'failed' ? '✗' : '✓'} ${event.stage}: ${status}${event.durationMs ? ` in ${(event.durationMs / 1000).toFixed(1)} s` : ''}${costUsd > 0 ? ` · $${costUsd.toFixed(4)} so far` : ''}`);
        return;
      }
      case 'progress': {
        if (quiet) return;
        const counters = event.counters
          ? Object.entries(event.counters)
              .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v.toPrecision(4))}`)
              .join(' ')
          : '';
        if (multibar) {
          let bar = bars.get(event.stage);
          if (!bar) {
            bar = multibar.create(event.total ?? 0, 0, { stage: event.stage, counters, cost: costUsd.toFixed(4) });
            bars.set(event.stage, bar);
          }
          if (event.total !== undefined) bar.setTotal(event.total);
          bar.update(event.done, { stage: event.stage, counters, cost: costUsd.toFixed(4) });
          return;
        }
        // Plain mode (CI, pipes): once a stage has run for a second, a line every 10% or 5 s. Quick
        // stages print nothing here: their finish line says enough.
        const fraction = event.total ? event.done / event.total : 0;
        const last = lastLogged.get(event.stage) ?? { at: stageStarted.get(event.stage) ?? Date.now(), fraction: 0 };
        const now = Date.now();
        const running = now - (stageStarted.get(event.stage) ?? now);
        const finished = event.total !== undefined && event.done >= event.total;
        const due = running >= 1000 && (fraction - last.fraction >= 0.1 || now - last.at >= 5000 || finished);
        if (!due) return;
        lastLogged.set(event.stage, { at: now, fraction });
        writeLine(
          `[${event.stage}] ${event.done}${event.total !== undefined ? `/${event.total}` : ''}${counters ? ` ${counters}` : ''}${tokens ? ` · tokens ${tokens}` : ''}${cachedCalls ? ` · cached calls ${cachedCalls}` : ''} · $${costUsd.toFixed(4)}`,
        );
        return;
      }
    }
  });

  function writeLine(text: string): void {
    if (multibar) multibar.log(`${text}\n`);
    else io.stderr(`${text}\n`);
  }

  return () => {
    unsubscribe();
    multibar?.stop();
  };
}
