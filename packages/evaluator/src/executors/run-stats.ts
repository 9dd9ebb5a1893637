import { emptyExecutionStats, type ExecutionStats } from '@prompt2model/core/internal';

// The stats shape is part of core's Executor contract (the trainer's WorkerExecutor reports it too).
export type { ExecutionStats };
export const emptyStats = emptyExecutionStats;
