#!/usr/bin/env node
// A stand-in for the AWS CLI's `aws s3 sync SRC DST [--exclude PATTERN]...` (and `aws --version`),
// for tests: s3://<bucket>/<path> is the folder $SKY_STANDIN_HOME/buckets/<bucket>/<path>, the one the
// sky stand-in mounts. As in the AWS CLI, an exclude pattern is matched against the path relative to
// the source, `*` matching any characters (`/` included) and `?` one.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
if (args[0] === '--version') {
  process.stdout.write('aws-cli/2.x (prompt2model test stand-in)\n');
  process.exit(0);
}
if (args[0] !== 's3' || args[1] !== 'sync') {
  process.stderr.write(`aws stand-in: unsupported command ${args.join(' ')}\n`);
  process.exit(2);
}
const HOME = process.env.SKY_STANDIN_HOME;
const excludes = [];
const paths = [];
for (let i = 2; i < args.length; i++) {
  if (args[i] === '--exclude') excludes.push(args[++i]);
  else if (!args[i].startsWith('--')) paths.push(args[i]);
}
const local = (path) => {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(path);
  return match ? join(HOME, 'buckets', match[1], match[2]) : path;
};
const [source, target] = paths.map(local);
const patterns = excludes.map((glob) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const rel = relative(source, path);
    if (statSync(path).isDirectory()) walk(path);
    else if (!patterns.some((pattern) => pattern.test(rel))) {
      mkdirSync(join(target, relative(source, dir)), { recursive: true });
      copyFileSync(path, join(target, rel));
    }
  }
}
if (existsSync(source)) walk(source);
