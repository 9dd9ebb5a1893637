#!/usr/bin/env node
// A stand-in for SkyPilot's `sky` CLI, for tests: the commands prompt2model's skypilot backend uses,
// printing what SkyPilot prints (sky/client/cli/command.py, sky/optimizer.py, sky/check.py,
// sky/jobs/state.py), with the "cloud" on this machine: a managed job runs its task's setup and run
// in per-node folders under $SKY_STANDIN_HOME (file_mounts become links: a local folder, or a bucket
// folder $SKY_STANDIN_HOME/buckets/<bucket>/<path>), with SkyPilot's node environment variables, and
// its log lines carry SkyPilot's prefixes. Where all "nodes" share one host it differs from a cloud
// in one way: it sets MASTER_PORT to a free port, so torchrun rendezvous do not collide.
//
//   SKY_STANDIN_HOME     state folder (required)
//   SKY_STANDIN_CLOUDS   comma-separated enabled clouds (default "aws"; "" = none)
//   While the file $SKY_STANDIN_HOME/hold exists, launched jobs stay PENDING (as while SkyPilot waits
//   for resources), so a test can look at a job that has not started.
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const HOME = process.env.SKY_STANDIN_HOME;
if (!HOME) {
  process.stderr.write('sky stand-in: set SKY_STANDIN_HOME\n');
  process.exit(2);
}
const JOBS = join(HOME, 'jobs');
mkdirSync(JOBS, { recursive: true });
const TERMINAL = new Set(['SUCCEEDED', 'CANCELLED', 'FAILED', 'FAILED_SETUP', 'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER']);
// USD an hour of one accelerator (AWS on-demand list prices of the instance types sky picks).
const CATALOG = { T4: ['g4dn.xlarge', 0.526], A10G: ['g5.xlarge', 1.006], L4: ['g6.xlarge', 0.805], A100: ['p4d.24xlarge', 4.096], H100: ['p5.48xlarge', 12.29] };
const CPU = ['m6i.2xlarge', 0.384];

const enabledClouds = () => (process.env.SKY_STANDIN_CLOUDS ?? 'aws').split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
const out = (text) => process.stdout.write(`${text}\n`);
const jobDir = (id) => join(JOBS, String(id));
const readJob = (id) => JSON.parse(readFileSync(join(jobDir(id), 'job.json'), 'utf8'));
function writeJob(job) {
  const path = join(jobDir(job.id), 'job.json');
  writeFileSync(`${path}.tmp`, JSON.stringify(job));
  renameSync(`${path}.tmp`, path);
}
function setStatus(id, status, extra = {}) {
  const job = readJob(id);
  if (TERMINAL.has(job.status) && job.status !== status) return;
  writeJob({ ...job, status, ...extra });
}
function accelerators(task) {
  const spec = task.resources?.accelerators;
  if (!spec) return undefined;
  const [name, count] = String(spec).split(':');
  return { name, count: count ? Number(count) : 1 };
}
function takeFlag(args, flag) {
  const index = args.indexOf(flag);
  if (index < 0) return undefined;
  const [, value] = args.splice(index, 2);
  return value;
}

const [command, ...rest] = process.argv.slice(2);
const args = [...rest];
switch (command) {
  case 'check':
    check(args);
    break;
  case 'launch':
    dryRun(args);
    break;
  case 'jobs':
    jobs(args);
    break;
  case '__controller':
    await controller(args[0]);
    break;
  default:
    process.stderr.write(`sky stand-in: unsupported command ${command}\n`);
    process.exit(2);
}

function check(wanted) {
  out('Checking credentials to enable infra for SkyPilot.');
  const enabled = enabledClouds();
  const shown = wanted.length > 0 ? wanted.map((c) => c.toLowerCase()) : ['aws', 'gcp', 'kubernetes'];
  for (const cloud of shown) out(`  ${cloud === 'aws' ? 'AWS' : cloud === 'gcp' ? 'GCP' : cloud[0].toUpperCase() + cloud.slice(1)}: ${enabled.includes(cloud) ? 'enabled' : 'disabled'}`);
  // As sky/check.py: the message is about every enabled cloud, not only the ones checked now.
  if (enabled.length === 0) {
    out('No cloud is enabled. SkyPilot will not be able to run any task. Run `sky check` for more info.');
    return; // sky raises SystemExit(): exit code 0
  }
  out('\nTo enable a cloud, follow the hints above and rerun: sky check');
}

function dryRun(argv) {
  if (!argv.includes('--dryrun')) {
    process.stderr.write('sky stand-in: only `sky launch --dryrun` is supported\n');
    process.exit(2);
  }
  const file = argv.filter((a) => !a.startsWith('-')).at(-1);
  const task = parse(readFileSync(file, 'utf8'));
  const nodes = task.num_nodes ?? 1;
  if (enabledClouds().length === 0) {
    process.stderr.write('sky.exceptions.NoCloudAccessError: No cloud access available for launching a cluster. Run `sky check` to check cloud access.\n');
    process.exit(1);
  }
  const acc = accelerators(task);
  const entry = acc ? CATALOG[acc.name] : CPU;
  if (!entry) {
    out(`No resource satisfying ${acc.name}:${acc.count} on [AWS].`);
    process.stderr.write(`sky.exceptions.ResourcesUnavailableError: Catalog does not contain any instances satisfying the request: ${nodes}x ${acc.name}:${acc.count}\n`);
    process.exit(1);
  }
  const hourly = entry[1] * (acc ? acc.count : 1) * nodes;
  const rule = '-'.repeat(96);
  out(`Considered resources (${nodes} node${nodes > 1 ? 's' : ''}):`);
  out(rule);
  out(' INFRA              INSTANCE        vCPUs   Mem(GB)   GPUS        COST ($)   CHOSEN   ');
  out(rule);
  out(` AWS (us-east-1)    ${entry[0].padEnd(16)}4       16        ${(acc ? `${acc.name}:${acc.count}` : '-').padEnd(12)}${hourly.toFixed(2).padEnd(11)}   \u001b[32m✔\u001b[0m     `);
  out(rule);
  out('Dryrun finished.');
}

function jobs(argv) {
  const sub = argv.shift();
  if (sub === 'launch') return launch(argv);
  if (sub === 'queue') return queue();
  if (sub === 'logs') return logs(argv);
  if (sub === 'cancel') return cancel(argv);
  process.stderr.write(`sky stand-in: unsupported jobs command ${sub}\n`);
  process.exit(2);
}

function launch(argv) {
  const name = takeFlag(argv, '-n') ?? takeFlag(argv, '--name');
  const secrets = [];
  for (let key = takeFlag(argv, '--secret'); key !== undefined; key = takeFlag(argv, '--secret')) secrets.push(key);
  const file = argv.filter((a) => !a.startsWith('-')).at(-1);
  const task = parse(readFileSync(file, 'utf8'));
  let id = 1;
  while (existsSync(jobDir(id))) id++;
  mkdirSync(jobDir(id));
  const secretValues = Object.fromEntries(secrets.map((key) => [key, process.env[key] ?? '']));
  writeJob({ id, name: name ?? task.name, status: 'PENDING', task, taskFile: resolve(file), secrets: secretValues, submittedAt: Date.now() });
  appendFileSync(join(HOME, 'launches.log'), `${id} ${name ?? task.name}\n`);
  out(`Managed job '${name ?? task.name}' will be launched on (estimated):`);
  out(`Launching managed job '${name ?? task.name}' from jobs controller...`);
  const log = openSync(join(jobDir(id), 'controller.log'), 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '__controller', String(id)], { detached: true, stdio: ['ignore', log, log], env: process.env });
  closeSync(log);
  writeJob({ ...readJob(id), controllerPid: child.pid });
  child.unref();
  out(`⚙︎ Job submitted, ID: ${id}`);
  out(`Managed Job ID: ${id}`);
  out('📋 Useful Commands');
  out(`├── To cancel the job:\t\tsky jobs cancel ${id}`);
  out(`├── To stream job logs:\t\tsky jobs logs ${id}`);
  out('└── To view all managed jobs:\t\tsky jobs queue');
}

function queue() {
  const ids = readdirSync(JOBS).map(Number).filter(Number.isFinite).sort((a, b) => b - a);
  out('Fetching managed job statuses...');
  if (ids.length === 0) {
    out('No in-progress managed jobs.');
    return;
  }
  out('Managed jobs');
  out('ID  TASK  NAME                REQUESTED   SUBMITTED   TOT. DURATION  JOB DURATION  #RECOVERIES  STATUS');
  for (const id of ids) {
    const job = readJob(id);
    const acc = accelerators(job.task);
    out(`${String(id).padEnd(4)}-     ${job.name.padEnd(20)}${`${job.task.num_nodes ?? 1}x[${acc ? `${acc.name}:${acc.count}` : 'CPU:1+'}]`.padEnd(12)}a few secs ago  1s  1s  0  ${job.status}`);
  }
}

async function logs(argv) {
  const follow = !argv.includes('--no-follow');
  const id = argv.filter((a) => !a.startsWith('-')).at(-1);
  if (!existsSync(jobDir(id))) {
    process.stderr.write(`No managed job with ID ${id} found.\n`);
    process.exit(1);
  }
  const path = join(jobDir(id), 'run.log');
  let offset = 0;
  for (;;) {
    const status = readJob(id).status;
    if (existsSync(path)) {
      const text = readFileSync(path);
      if (text.length > offset) {
        process.stdout.write(text.subarray(offset));
        offset = text.length;
      }
    }
    if (TERMINAL.has(status) || !follow) {
      out(`Managed job finished: ${id} (status: ${status}).`);
      process.exit(status === 'SUCCEEDED' ? 0 : 100);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function cancel(argv) {
  const ids = argv.filter((a) => !a.startsWith('-'));
  for (const id of ids) {
    const job = readJob(id);
    if (TERMINAL.has(job.status)) continue;
    setStatus(id, 'CANCELLING');
    try {
      process.kill(-job.controllerPid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    for (let i = 0; i < 100 && alive(job.controllerPid); i++) await new Promise((done) => setTimeout(done, 100));
    writeJob({ ...readJob(id), status: 'CANCELLED' });
  }
  out(`Cancelling managed job(s) with ID ${ids.join(', ')}...`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort() {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Runs `script` with bash in `cwd`, each output line appended to the run log with `prefix(pid)`. */
function runPrefixed(script, cwd, env, prefix) {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tag = prefix(child.pid);
    const pending = { out: '', err: '' };
    const write = (key) => (chunk) => {
      pending[key] += chunk.toString('utf8');
      const lines = pending[key].split('\n');
      pending[key] = lines.pop();
      for (const line of lines) appendFileSync(process.env.STANDIN_RUN_LOG, `${tag} ${line}\n`);
    };
    child.stdout.on('data', write('out'));
    child.stderr.on('data', write('err'));
    child.on('close', (code) => {
      for (const key of ['out', 'err']) if (pending[key]) appendFileSync(process.env.STANDIN_RUN_LOG, `${tag} ${pending[key]}\n`);
      done(code);
    });
  });
}

async function controller(id) {
  const job = readJob(id);
  const task = job.task;
  process.env.STANDIN_RUN_LOG = join(jobDir(id), 'run.log');
  while (existsSync(join(HOME, 'hold'))) await new Promise((done) => setTimeout(done, 100));
  setStatus(id, 'STARTING');
  const nodes = task.num_nodes ?? 1;
  const acc = accelerators(task);
  const taskDir = dirname(job.taskFile);
  const homes = [];
  for (let rank = 0; rank < nodes; rank++) {
    const home = join(jobDir(id), `node${rank}`);
    mkdirSync(home, { recursive: true });
    if (task.workdir) cpSync(resolve(taskDir, task.workdir.replace(/^~/, process.env.HOME ?? '')), join(home, 'sky_workdir'), { recursive: true });
    else mkdirSync(join(home, 'sky_workdir'), { recursive: true });
    for (const [target, source] of Object.entries(task.file_mounts ?? {})) {
      const at = target.startsWith('~/') ? join(home, target.slice(2)) : join(home, 'root', target);
      mkdirSync(dirname(at), { recursive: true });
      const from = typeof source === 'string' ? source : source.source;
      const bucket = /^(s3|gs):\/\/([^/]+)\/?(.*)$/.exec(from);
      const local = bucket ? join(HOME, 'buckets', bucket[2], bucket[3]) : resolve(taskDir, from);
      if (bucket) mkdirSync(local, { recursive: true });
      symlinkSync(local, at);
    }
    homes.push(home);
  }
  const ips = Array.from({ length: nodes }, () => '127.0.0.1').join('\n');
  const port = String(await freePort());
  const envFor = (rank) => ({
    ...process.env,
    ...(task.envs ?? {}),
    ...job.secrets,
    HOME: homes[rank],
    MASTER_PORT: port,
    SKYPILOT_NODE_RANK: String(rank),
    SKYPILOT_NODE_IPS: ips,
    SKYPILOT_NUM_NODES: String(nodes),
    SKYPILOT_NUM_GPUS_PER_NODE: String(acc ? acc.count : 0),
    SKYPILOT_TASK_ID: `sky-managed-${id}`,
  });
  if (task.setup) {
    const codes = await Promise.all(homes.map((home, rank) => runPrefixed(task.setup, join(home, 'sky_workdir'), envFor(rank), (pid) => `(setup pid=${pid})`)));
    if (codes.some((code) => code !== 0)) return setStatus(id, 'FAILED_SETUP');
  }
  setStatus(id, 'RUNNING');
  const name = job.name;
  const codes = await Promise.all(
    homes.map((home, rank) =>
      runPrefixed(task.run, join(home, 'sky_workdir'), envFor(rank), (pid) => (nodes === 1 ? `(${name}, pid=${pid})` : rank === 0 ? `(head, rank=0, pid=${pid})` : `(worker${rank}, rank=${rank}, pid=${pid})`)),
    ),
  );
  setStatus(id, codes.every((code) => code === 0) ? 'SUCCEEDED' : 'FAILED');
}
