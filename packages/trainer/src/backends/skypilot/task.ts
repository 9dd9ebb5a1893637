import { stringify } from 'yaml';
import { JOB_FILES, JOB_OUTPUT_FILES } from '@prompt2model/core/internal';

/** Where the worker package and the job's output live on every node (SkyPilot expands `~`). */
export const REMOTE_WORKER_DIR = '~/p2m-worker';
export const REMOTE_OUTPUT_DIR = '~/p2m-output';
/** torchrun's rendezvous port on the head node (the node environment's MASTER_PORT wins). */
const MASTER_PORT = 29500;

/** The pinned training stack, installed on every node by the task's `setup`. */
export const DEFAULT_SETUP = `python3 -m pip install --quiet --upgrade pip && python3 -m pip install --quiet -r ${REMOTE_WORKER_DIR}/requirements-cuda.txt`;

export interface SkyPilotTaskOptions {
  /** Task (and managed job) name: stable for a job, so a rerun finds the job it launched. */
  name: string;
  /** Local job folder (job.json, data/): synced to the nodes as the task's workdir. */
  jobDir: string;
  /** Local folder of the `p2m_worker` package and its requirement files. */
  workerDir: string;
  /** Bucket URI the job's output/ lives in (checkpoints survive a recovery; the model comes back from it). */
  outputUri: string;
  /** `NAME:COUNT` per node (e.g. `A10G:1`, `H100:8`); absent: CPU nodes. */
  accelerators?: string;
  nodes: number;
  /** `cloud[/region[/zone]]`, `k8s[/context]` or `*` (SkyPilot's `infra`); absent: any enabled one. */
  infra?: string;
  useSpot?: boolean;
  /** Replaces the default setup (e.g. an image with the training stack already installed). */
  setup?: string;
  /** Extra environment variables of the run (never secrets: those go through `--secret`). */
  envs?: Record<string, string>;
}

/** The parts of a SkyPilot task YAML this backend writes (sky/utils/schemas.py get_task_schema). */
export interface SkyPilotTask {
  name: string;
  workdir?: string;
  num_nodes: number;
  resources: { accelerators?: string; infra?: string; use_spot?: boolean; job_recovery?: { max_restarts_on_errors: number } };
  envs?: Record<string, string>;
  file_mounts?: Record<string, string | { source: string; mode: 'MOUNT' | 'MOUNT_CACHED' | 'COPY' }>;
  setup?: string;
  run: string;
}

/**
 * The run command of every node: the job's output/ is the bucket mount (shared by the nodes and by
 * every recovery of the managed job), and torchrun joins the nodes with SkyPilot's node variables
 * (the head node's address is the first of SKYPILOT_NODE_IPS). Only global rank 0 reports events
 * and writes the model, so the managed job's log carries one event stream.
 */
export function runScript(): string {
  const output = JOB_FILES.output;
  return [
    'set -e',
    `export PYTHONPATH="${REMOTE_WORKER_DIR.replace('~', '$HOME')}\${PYTHONPATH:+:$PYTHONPATH}"`,
    'export PYTHONUNBUFFERED=1',
    `rm -rf ${output} && ln -s "${REMOTE_OUTPUT_DIR.replace('~', '$HOME')}" ${output}`,
    // Managed jobs run one attempt at a time: a lock left by a preempted machine is stale.
    `if [ "$SKYPILOT_NODE_RANK" = "0" ]; then rm -f ${output}/${JOB_OUTPUT_FILES.lock}; fi`,
    'GPUS="${SKYPILOT_NUM_GPUS_PER_NODE:-0}"',
    'if [ "$GPUS" -lt 1 ]; then GPUS=1; fi',
    'MASTER_ADDR="$(echo "$SKYPILOT_NODE_IPS" | head -n1)"',
    `torchrun --nnodes="$SKYPILOT_NUM_NODES" --node_rank="$SKYPILOT_NODE_RANK" --nproc_per_node="$GPUS" --master_addr="$MASTER_ADDR" --master_port="\${MASTER_PORT:-${MASTER_PORT}}" -m p2m_worker --config ${JOB_FILES.config}`,
    '',
  ].join('\n');
}

/** The SkyPilot task that trains one job on `nodes` machines and leaves its output in the bucket. */
export function buildSkyPilotTask(options: SkyPilotTaskOptions): SkyPilotTask {
  const resources: SkyPilotTask['resources'] = {
    ...(options.accelerators ? { accelerators: options.accelerators } : {}),
    ...(options.infra ? { infra: options.infra } : {}),
    ...(options.useSpot ? { use_spot: true } : {}),
    // A worker error is retried a couple of times (from the last checkpoint in the bucket); preemptions always are.
    job_recovery: { max_restarts_on_errors: 2 },
  };
  const setup = options.setup ?? DEFAULT_SETUP;
  return {
    name: options.name,
    workdir: options.jobDir,
    num_nodes: options.nodes,
    resources,
    ...(options.envs && Object.keys(options.envs).length > 0 ? { envs: options.envs } : {}),
    file_mounts: {
      [REMOTE_WORKER_DIR]: options.workerDir,
      // MOUNT_CACHED: written through a local cache, the mode SkyPilot recommends for checkpoints.
      [REMOTE_OUTPUT_DIR]: { source: options.outputUri, mode: 'MOUNT_CACHED' },
    },
    ...(setup.trim() !== '' ? { setup } : {}),
    run: runScript(),
  };
}

/** A task with only what prices it (resources and nodes), for `sky launch --dryrun`. */
export function pricingTask(task: SkyPilotTask): SkyPilotTask {
  return { name: task.name, num_nodes: task.num_nodes, resources: task.resources, run: 'true' };
}

export function renderTaskYaml(task: SkyPilotTask): string {
  return `# Written by prompt2model (skypilot backend). Launch by hand: sky jobs launch -n ${task.name} <this file>\n${stringify(task, { lineWidth: 0 })}`;
}

/** `gs://b/p`, `s3://b/p` joined with a job name. */
export function joinUri(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/${name}`;
}
