import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readJsonFixture } from '@prompt2model/testing/fixtures';
import { SkyPilotBackend } from '@prompt2model/trainer';
import {
  buildSkyPilotTask,
  downloadArgv,
  parseDryRunQuote,
  parseJobsQueue,
  parseManagedJobId,
  pricingTask,
  renderTaskYaml,
  runScript,
  skyCheckProblem,
  stripNodePrefix,
} from '@prompt2model/trainer/internal';

interface Schemas {
  task: object;
  resources: object;
  storage: object;
}

/** SkyPilot's validator: its schemas plus its own `case_insensitive_enum` keyword (sky/utils/common_utils.py). */
function skyPilotValidator() {
  const schemas = readJsonFixture<Schemas>('skypilot/task-schema.json');
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addKeyword({
    keyword: 'case_insensitive_enum',
    type: 'string',
    schemaType: 'array',
    validate: (allowed: string[], value: string) => allowed.some((entry) => entry.toLowerCase() === value.toLowerCase()),
  });
  const task = ajv.compile(schemas.task);
  const resources = ajv.compile(schemas.resources);
  const storage = ajv.compile(schemas.storage);
  /** As Task.from_yaml_config does: the task, its resources, and each storage file mount. */
  return (yamlText: string): string[] => {
    const config = parse(yamlText) as Record<string, unknown>;
    const errors: string[] = [];
    if (!task(config)) errors.push(...task.errors!.map((e) => `task${e.instancePath} ${e.message}`));
    if (config.resources && !resources(config.resources)) errors.push(...resources.errors!.map((e) => `resources${e.instancePath} ${e.message}`));
    for (const [target, mount] of Object.entries((config.file_mounts ?? {}) as Record<string, unknown>)) {
      if (typeof mount === 'object' && !storage(mount)) errors.push(...storage.errors!.map((e) => `file_mounts.${target}${e.instancePath} ${e.message}`));
    }
    return errors;
  };
}

const base = { name: 'p2m-abc123', jobDir: '/runs/r/training/p2m-abc123', workerDir: '/opt/p2m/python', outputUri: 's3://bucket/prefix/p2m-abc123' };

describe('the SkyPilot task YAML', () => {
  it("passes SkyPilot's own task, resources and storage schemas (GPUs, several nodes, infra, spot, custom setup)", async () => {
    const validate = skyPilotValidator();
    const variants = [
      buildSkyPilotTask({ ...base, nodes: 1 }),
      buildSkyPilotTask({ ...base, nodes: 4, accelerators: 'H100:8', infra: 'gcp/us-central1', useSpot: true, envs: { HF_HUB_ENABLE_HF_TRANSFER: '1' } }),
      buildSkyPilotTask({ ...base, nodes: 2, accelerators: 'A10G:1', infra: 'k8s/my-context', setup: '' }),
    ];
    for (const task of variants) {
      const yaml = renderTaskYaml(task);
      expect(validate(yaml), yaml).toEqual([]);
      expect(validate(renderTaskYaml(pricingTask(task)))).toEqual([]);
    }
    // The validator is not a rubber stamp: what SkyPilot rejects, it rejects too.
    expect(validate('name: x\nnum_nodes: two\nrun: echo\n')).not.toEqual([]);
    expect(validate('resources:\n  infra: mars/north\n')).not.toEqual([]);
    expect(validate('file_mounts:\n  /out:\n    source: s3://b\n    mode: SYNC\n')).not.toEqual([]);
    expect(validate('nodes: 2\n')).not.toEqual([]);
  });

  it('starts the worker with torchrun over the nodes from SkyPilot’s node variables, on the bucket-mounted output', () => {
    const task = buildSkyPilotTask({ ...base, nodes: 2, accelerators: 'A10G:4' });
    expect(task.num_nodes).toBe(2);
    expect(task.resources.accelerators).toBe('A10G:4');
    expect(task.workdir).toBe(base.jobDir);
    expect(task.file_mounts).toEqual({ '~/p2m-worker': base.workerDir, '~/p2m-output': { source: base.outputUri, mode: 'MOUNT_CACHED' } });
    expect(task.setup).toContain('requirements-cuda.txt');
    const run = runScript();
    expect(run).toContain('--nnodes="$SKYPILOT_NUM_NODES" --node_rank="$SKYPILOT_NODE_RANK" --nproc_per_node="$GPUS"');
    expect(run).toContain('MASTER_ADDR="$(echo "$SKYPILOT_NODE_IPS" | head -n1)"');
    expect(run).toContain('-m p2m_worker --config job.json');
    expect(run).toContain('ln -s "$HOME/p2m-output" output');
    expect(buildSkyPilotTask({ ...base, nodes: 1, setup: '' }).setup).toBeUndefined();
  });

  it('refuses a missing or unsupported bucket and malformed accelerators before anything runs', () => {
    expect(() => new SkyPilotBackend({ bucket: 'my-bucket' })).toThrow(/s3:\/\/bucket\/prefix or gs:\/\/bucket\/prefix/);
    expect(() => new SkyPilotBackend({ bucket: 'r2://b/p' })).toThrow(/not "r2:\/\/b\/p"/);
    expect(() => new SkyPilotBackend({ bucket: 's3://b/p', accelerators: 'A10G x2' })).toThrow(/NAME:COUNT/);
    expect(() => new SkyPilotBackend({ bucket: 's3://b/p', nodes: 0 })).toThrow(/at least 1/);
    expect(downloadArgv('gs://b/p/j', '/tmp/out').slice(0, 3)).toEqual(['gcloud', 'storage', 'rsync']);
    expect(downloadArgv('s3://b/p/j', '/tmp/out')).toContain('checkpoint-*');
  });
});

describe("reading SkyPilot's output", () => {
  it('finds the chosen row of the optimizer table (the managed-jobs docs example) and its hourly cost', () => {
    const text = [
      "Managed job 'myjob' will be launched on (estimated):",
      'Considered resources (1 node):',
      '------------------------------------------------------------------------------------------',
      ' INFRA              INSTANCE      vCPUs   Mem(GB)   GPUS   COST ($)   CHOSEN',
      '------------------------------------------------------------------------------------------',
      ' GCP (us-central1)  n2-standard-8   8       32        -      0.39',
      ' AWS (us-east-1)    m6i.2xlarge   8       32        -      0.38          \u001b[32m✔\u001b[0m',
      '------------------------------------------------------------------------------------------',
    ].join('\n');
    expect(parseDryRunQuote(text)).toEqual({ hourlyUsd: 0.38, infra: 'AWS (us-east-1)', instance: 'm6i.2xlarge' });
    // Older releases: CLOUD column.
    const old = ' CLOUD   INSTANCE       vCPUs   Mem(GB)   ACCELERATORS   REGION/ZONE   COST ($)   CHOSEN\n AWS     g5.xlarge      4       16        A10G:1         us-east-1     1.01          ✔\n';
    expect(parseDryRunQuote(old)).toMatchObject({ hourlyUsd: 1.01, infra: 'AWS' });
    expect(parseDryRunQuote('No resource satisfying 1x A999:1 on [AWS].')).toBeUndefined();
  });

  it('reads the job id, the queue and the node prefixes of log lines', () => {
    expect(parseManagedJobId('✓ Managed job finished: 1 (status: SUCCEEDED).\n\nManaged Job ID: 17\n📋 Useful Commands')).toBe('17');
    expect(parseManagedJobId('⚙︎ Job submitted, ID: 4')).toBe('4');
    expect(parseManagedJobId('Launching...')).toBeUndefined();
    const queue = [
      'Fetching managed job statuses...',
      'Managed jobs',
      'ID  TASK  NAME         REQUESTED   SUBMITTED    TOT. DURATION  JOB DURATION  #RECOVERIES  STATUS',
      '2   -     p2m-aaa      1x[A10G:1]  2 mins ago   1m 3s          50s           0            \u001b[32mRUNNING\u001b[0m',
      '1   -     p2m-bbb      1x[A10G:1]  1 hr ago     10m            9m            1            FAILED_SETUP',
    ].join('\n');
    expect(parseJobsQueue(queue).map(({ id, status }) => ({ id, status }))).toEqual([
      { id: '2', status: 'RUNNING' },
      { id: '1', status: 'FAILED_SETUP' },
    ]);
    expect(parseJobsQueue(queue)[0]!.cells).toContain('p2m-aaa');
    expect(stripNodePrefix('(head, rank=0, pid=17464) {"type":"step","step":3}')).toBe('{"type":"step","step":3}');
    expect(stripNodePrefix('(worker1, rank=1, pid=2) hello')).toBe('hello');
    expect(stripNodePrefix('(myjob, pid=2383) Hello, SkyPilot!')).toBe('Hello, SkyPilot!');
    expect(stripNodePrefix('(setup pid=2383) Running setup.')).toBe('Running setup.');
    expect(stripNodePrefix('(not a prefix) text')).toBe('(not a prefix) text');
  });

  it("takes `sky check`'s text, not its exit code, as the answer (it exits 0 with no cloud)", () => {
    expect(skyCheckProblem('Checking credentials...\nNo cloud is enabled. SkyPilot will not be able to run any task.')).toMatch(/no cloud/);
    expect(skyCheckProblem('  AWS: disabled\n  GCP: enabled\n', 'aws/us-east-1')).toMatch(/AWS: disabled/);
    expect(skyCheckProblem('  AWS: enabled\n  GCP: disabled\n', 'aws')).toBeUndefined();
    expect(skyCheckProblem('  Kubernetes: disabled\n  AWS: enabled', 'k8s/ctx')).toMatch(/Kubernetes: disabled/);
  });
});
