// The registry mirror on our build machines serves only linux-x64 builds of platform-specific
// packages, so `npm install` here leaves the other platforms' optional packages (rollup's and
// turbo's native binaries) out of package-lock.json, and `npm ci` then rejects the lockfile.
// This adds the missing optional entries with their os/cpu/libc, as a lockfile written on a machine
// with the full registry has them: npm skips them on other platforms and fetches them on their own.
// Run after `npm install` changes the lockfile: node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

const OS = { android: 'android', darwin: 'darwin', freebsd: 'freebsd', linux: 'linux', openbsd: 'openbsd', openharmony: 'openharmony', win32: 'win32', windows: 'win32', sunos: 'sunos', netbsd: 'netbsd', aix: 'aix' };
const CPU = { arm: 'arm', arm64: 'arm64', x64: 'x64', 64: 'x64', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x', mips64el: 'mips64el' };

/** os/cpu/libc from a platform package name such as @rollup/rollup-linux-arm-musleabihf or @turbo/windows-64. */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const osIndex = parts.findIndex((part) => OS[part]);
  if (osIndex < 0) return undefined;
  const cpu = CPU[parts[osIndex + 1]];
  if (!cpu) return undefined;
  const rest = parts.slice(osIndex + 2).join('-');
  const libc = OS[parts[osIndex]] === 'linux' ? (/musl/.test(rest) ? 'musl' : /gnu/.test(rest) ? 'glibc' : undefined) : undefined;
  return { os: [OS[parts[osIndex]]], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)) continue; // only exact pins can be written without resolving
    const platform = platformOf(name);
    if (!platform) continue;
    packages[`node_modules/${name}`] = { version: spec, ...platform, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
