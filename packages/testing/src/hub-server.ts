import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHubJobs, type HubJobRecord, type HubJobsOptions } from './hub-jobs.js';
import { hubListingPage, hubResponder, listenOnLoopback, readRequestBody, sendFileBytes } from './loopback-http.js';

/** One model the loopback Hub serves; the rows of `hub/models.jsonl` fit as they are. */
export interface HubModelRow {
  id: string;
  /** README.md content (YAML front matter included). Empty or missing: the repo has no README. */
  card?: string;
  sizeBytes?: number;
  downloads?: number;
  likes?: number;
  /** Default: the card's `pipeline_tag`, else the server's `defaultPipelineTag`. */
  pipelineTag?: string;
  tags?: string[];
  /** `config.json` fields (`architectures`, `model_type`, ...). */
  config?: Record<string, unknown>;
  /** Parameter count per dtype, e.g. `{ F32: 60506624 }`; default from `sizeBytes` / 4 when `safetensors` is on. */
  safetensors?: Record<string, number>;
  lastModified?: string;
  private?: boolean;
}

/** A scripted answer instead of the normal one: an HTTP status (429 comes with Retry-After), or a normal answer after `slowMs`. */
export type HubFault = 429 | 500 | 502 | 503 | 'slow' | 'ok';

export interface HubServerOptions {
  models: HubModelRow[];
  /** Page size of /api/models when the client asks for more (the real Hub pages at 1000). Default 100. */
  pageSize?: number;
  /** Pipeline tag of rows that have none. Default `text2text-generation`. */
  defaultPipelineTag?: string;
  /** Report `safetensors` parameter counts (derived from sizeBytes when a row has none). Default true. */
  safetensors?: boolean;
  /** When set, every request must carry `Authorization: Bearer <token>` (else 401). */
  accessToken?: string;
  /** Faults by request index (every HTTP request counts), e.g. `[429, 'ok', 500]`. */
  faultSequence?: HubFault[];
  /** Retry-After seconds sent with 429. Default 0. */
  retryAfterSeconds?: number;
  /** Delay of 'slow' faults. Default 5000 ms. */
  slowMs?: number;
  /**
   * Token that repo creation and commits need (`Authorization: Bearer <token>`, else 401). Default:
   * `accessToken`, else any bearer token (the real Hub refuses anonymous writes).
   */
  writeToken?: string;
  /**
   * Offer LFS `multipart` transfers (as the Hub does for large files): objects larger than this go
   * up in parts of this size, each to its own URL, then a completion call. Default: basic only.
   */
  multipartChunkSize?: number;
  /** Request bodies of LFS uploads are read at most this fast (a slow link). Default unthrottled. */
  uploadBytesPerSecond?: number;
  /** LFS part numbers (1-based, counted over the server's life) whose first upload answers 500. */
  failLfsParts?: number[];
  /** The account a valid token belongs to (`GET /api/whoami-v2`, the namespace of jobs). Default `tester`. */
  user?: string;
  /** Serve the Jobs API (hardware, run, status, logs, cancel); each job runs as a local process. */
  jobs?: HubJobsOptions;
}

/** A repo created through the server (`POST /api/repos/create`) and what commits put in it. */
export interface HubUploadedRepo {
  id: string;
  /** `model` or `dataset`; dataset repos are keyed `datasets/<id>` in `HubServer.repos`. */
  type: 'model' | 'dataset';
  private: boolean;
  /** Repo path → content, after every commit. */
  files: Map<string, Buffer>;
  commits: Array<{ oid: string; title: string; paths: string[] }>;
}

export interface HubServerStats {
  requests: number;
  listRequests: number;
  modelInfoRequests: number;
  readmeRequests: number;
  treeRequests: number;
  /** Write calls: repo creation, preupload, LFS batch and uploads, commits. */
  writeRequests: number;
  /** LFS bodies received: whole objects (basic) and parts (multipart). */
  lfsUploads: number;
  lfsBytes: number;
  faults: number;
  byStatus: Record<number, number>;
}

export interface HubServer {
  /** Base URL (what `hubUrl` / HF_ENDPOINT take), without a trailing slash. */
  url: string;
  stats: HubServerStats;
  /** Request paths with query strings, in order. */
  requests: string[];
  /** Repos created through the server, by id (`datasets/<id>` for dataset repos), with their committed files. */
  repos: Map<string, HubUploadedRepo>;
  /** Jobs run through the Jobs API (with `jobs` set), by id. */
  jobs: Map<string, HubJobRecord>;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A loopback (127.0.0.1) Hugging Face Hub speaking the endpoints @huggingface/hub calls:
 * `GET /api/models` (search, author, pipeline_tag, filter, sort, limit, expand, pagination through
 * `Link: <…>; rel="next"`), `GET /api/models/{id}` (model info), `GET /api/models/{id}/tree/{rev}`
 * (file list with sizes), and `GET /{id}/resolve/{rev}/{file}` (README.md, with the Range probe
 * and ETag the client's downloadFile needs). Faults and auth are scriptable.
 *
 * Uploads speak the protocol of @huggingface/hub's `createRepo` and `commit`: `POST /api/repos/create`
 * (409 when the repo exists), `POST /api/models/{id}/preupload/{rev}` (which files go through LFS),
 * `POST /{id}.git/info/lfs/objects/batch` (basic transfer; the client falls back to it from xet),
 * `PUT` of each LFS object to the href it got (its sha256 checked), and the NDJSON
 * `POST /api/models/{id}/commit/{rev}` (header, file, lfsFile, deletedFile lines).
 */
export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const stats = emptyStats();
  const requests: string[] = [];
  const byId = new Map(options.models.map((model) => [model.id, model]));
  const pageSize = options.pageSize ?? 100;
  let requestIndex = 0;
  const timers = new Set<NodeJS.Timeout>();
  const repos = new Map<string, HubUploadedRepo>();
  const lfsObjects = new Map<string, Buffer>();
  // Known once listening; pagination links name it.
  let baseUrl = '';
  const jobs = options.jobs ? createHubJobs(options.jobs) : undefined;

  /** The account of the request's token: any bearer token when the server checks none. */
  function whoami(request: IncomingMessage): string | undefined {
    const authorization = request.headers.authorization ?? '';
    if (options.accessToken ? authorization !== `Bearer ${options.accessToken}` : !authorization.startsWith('Bearer ')) return undefined;
    return options.user ?? 'tester';
  }


  const { send, sendJson, sendFault } = hubResponder(stats.byStatus);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const index = requestIndex++;
    stats.requests++;
    requests.push(request.url ?? '');
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const fault = options.faultSequence?.[index];
    if (fault === 'slow') {
      stats.faults++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, options.slowMs ?? 5000);
        timers.add(timer);
      });
      if (response.destroyed || request.destroyed) return;
    } else if (fault !== undefined && fault !== 'ok') {
      stats.faults++;
      sendFault(response, fault, options.retryAfterSeconds);
      return;
    }
    // Storage URLs (LFS uploads) carry no token, like the real signed URLs.
    if (options.accessToken && !url.pathname.startsWith('/__lfs/') && request.headers.authorization !== `Bearer ${options.accessToken}`) {
      sendJson(response, 401, { error: 'Invalid credentials in Authorization header' });
      return;
    }
    const path = decodeURIComponent(url.pathname);
    if (path === '/api/whoami-v2' && request.method === 'GET') {
      const user = whoami(request);
      if (!user) return sendJson(response, 401, { error: 'Invalid credentials in Authorization header' });
      return sendJson(response, 200, { type: 'user', id: oidOf(user).slice(0, 24), name: user, fullname: user, orgs: [], auth: { type: 'access_token', accessToken: { displayName: 'loopback', role: 'write' } } });
    }
    if (
      jobs &&
      (await jobs.handle(request, response, path, {
        baseUrl,
        body: () => readRequestBody(request),
        whoami: () => whoami(request),
        sendJson,
      }))
    ) {
      return;
    }
    if (request.method === 'POST' || request.method === 'PUT') {
      stats.writeRequests++;
      const token = options.writeToken ?? options.accessToken;
      const authorization = request.headers.authorization ?? '';
      // LFS object uploads go to the href the batch call handed out, which carries no token (like the real storage URLs).
      if (!path.startsWith('/__lfs/') && (token ? authorization !== `Bearer ${token}` : !authorization.startsWith('Bearer '))) {
        sendJson(response, 401, { error: 'Invalid credentials in Authorization header' });
        return;
      }
      await handleWrite(request, response, path);
      return;
    }
    if (request.method !== 'GET') {
      sendJson(response, 405, { error: 'Method not allowed' });
      return;
    }
    const uploadedTree = /^\/api\/(models|datasets)\/(.+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path);
    const uploadedInTree = uploadedTree ? repos.get(repoKey(uploadedTree[1] === 'datasets' ? 'dataset' : 'model', uploadedTree[2]!)) : undefined;
    if (uploadedInTree) {
      stats.treeRequests++;
      const prefix = uploadedTree![4] ? `${uploadedTree![4].replace(/\/$/, '')}/` : '';
      const recursive = url.searchParams.get('recursive') === 'true';
      const entries = new Map<string, Record<string, unknown>>();
      for (const [file, content] of [...uploadedInTree.files].sort(([a], [b]) => a.localeCompare(b))) {
        if (!file.startsWith(prefix)) continue;
        const rest = file.slice(prefix.length);
        if (!recursive && rest.includes('/')) {
          const folder = prefix + rest.split('/')[0]!;
          entries.set(folder, { type: 'directory', oid: oidOf(folder), size: 0, path: folder });
          continue;
        }
        entries.set(file, { type: 'file', oid: createHash('sha1').update(content).digest('hex'), size: content.length, path: file });
      }
      if (recursive) {
        for (const file of [...entries.keys()]) {
          const parts = file.split('/');
          for (let depth = 1; depth < parts.length; depth++) {
            const folder = parts.slice(0, depth).join('/');
            if (folder.startsWith(prefix.replace(/\/$/, '')) && !entries.has(folder)) entries.set(folder, { type: 'directory', oid: oidOf(folder), size: 0, path: folder });
          }
        }
      }
      sendJson(response, 200, [...entries.values()]);
      return;
    }
    const uploadedFile = /^\/(datasets\/)?(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const uploadedRepo = uploadedFile ? repos.get(repoKey(uploadedFile[1] ? 'dataset' : 'model', uploadedFile[2]!)) : undefined;
    if (uploadedRepo) {
      const content = uploadedRepo.files.get(uploadedFile![4]!);
      if (!content) return notFound(response, 'EntryNotFound');
      const { status } = sendFileBytes(request, response, content, 'application/octet-stream');
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
      return;
    }
    if (path === '/api/models') {
      stats.listRequests++;
      listModels(url, response);
      return;
    }
    const tree = /^\/api\/models\/(.+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (tree) {
      stats.treeRequests++;
      const model = byId.get(tree[1]!);
      if (!model) return notFound(response, 'RepoNotFound');
      sendJson(response, 200, filesOf(model));
      return;
    }
    const info = /^\/api\/models\/(.+?)(?:\/revision\/[^/]+)?$/.exec(path);
    if (info) {
      stats.modelInfoRequests++;
      const model = byId.get(info[1]!);
      if (!model) return notFound(response, 'RepoNotFound');
      sendJson(response, 200, { ...wireModel(model, expandOf(url, true)), siblings: filesOf(model).map((file) => ({ rfilename: file.path })) });
      return;
    }
    const resolve = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) {
      stats.readmeRequests++;
      const model = byId.get(resolve[1]!);
      if (!model) return notFound(response, 'RepoNotFound');
      if (resolve[3] !== 'README.md' || !model.card) return notFound(response, 'EntryNotFound');
      serveFile(request, response, Buffer.from(model.card, 'utf8'));
      return;
    }
    notFound(response, 'RepoNotFound');
  }

  let lfsPartCount = 0;
  const lfsParts = new Map<string, Buffer>();

  async function handleWrite(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const body = path.startsWith('/__lfs/') && options.uploadBytesPerSecond ? await readThrottled(request, options.uploadBytesPerSecond) : await readRequestBody(request);
    if (path === '/api/repos/create' && request.method === 'POST') {
      const input = JSON.parse(body.toString('utf8')) as { name?: string; organization?: string; visibility?: string; private?: boolean; type?: string };
      if (!input.name || !input.organization) return sendJson(response, 400, { error: 'name and organization are required' });
      const id = `${input.organization}/${input.name}`;
      const type = input.type === 'dataset' ? 'dataset' : 'model';
      const key = repoKey(type, id);
      const url = `${baseUrl}/${type === 'dataset' ? 'datasets/' : ''}${id}`;
      if (repos.has(key) || (type === 'model' && byId.has(id))) return sendJson(response, 409, { error: `You already created this ${type} repo`, url });
      repos.set(key, { id, type, private: input.visibility === 'private' || input.private === true, files: new Map(), commits: [] });
      return sendJson(response, 200, { url, name: id, id: oidOf(key).slice(0, 24) });
    }
    const preuploadMatch = /^\/api\/(models|datasets)\/(.+)\/preupload\/([^/]+)$/.exec(path);
    const preupload = preuploadMatch ? [preuploadMatch[0], repoKey(preuploadMatch[1] === 'datasets' ? 'dataset' : 'model', preuploadMatch[2]!)] : undefined;
    if (preupload) {
      if (!repos.has(preupload[1]!)) return notFound(response, 'RepoNotFound');
      const input = JSON.parse(body.toString('utf8')) as { files: Array<{ path: string; size: number }> };
      // Like the Hub: weights and other binaries (or anything over 10 MB) go through LFS.
      const files = input.files.map((file) => ({
        path: file.path,
        uploadMode: /\.(onnx|onnx_data|safetensors|bin|model)$/.test(file.path) || file.size > 10_000_000 ? 'lfs' : 'regular',
        shouldIgnore: false,
      }));
      return sendJson(response, 200, { files, commitOid: oidOf(`${preupload[1]}:${repos.get(preupload[1]!)!.commits.length}`) });
    }
    const batch = /^\/(.+)\.git\/info\/lfs\/objects\/batch$/.exec(path);
    if (batch) {
      if (!repos.has(batch[1]!)) return notFound(response, 'RepoNotFound');
      const input = JSON.parse(body.toString('utf8')) as { objects: Array<{ oid: string; size: number }> };
      const input2 = input as { objects: Array<{ oid: string; size: number }>; transfers?: string[] };
      const multipart = options.multipartChunkSize && (input2.transfers ?? []).includes('multipart') ? options.multipartChunkSize : undefined;
      const objects = input.objects.map((object) => {
        if (lfsObjects.has(object.oid)) return { oid: object.oid, size: object.size, authenticated: true };
        if (multipart && object.size > multipart) {
          // As the Hub's multipart answer: chunk_size, one URL per part (keys 00001, 00002, ...), and the completion URL as href.
          const header: Record<string, string> = { chunk_size: String(multipart) };
          for (let part = 1; part <= Math.ceil(object.size / multipart); part++) header[String(part).padStart(5, '0')] = `${baseUrl}/__lfs/${object.oid}/part/${part}?X-Amz-Signature=loopback`;
          return { oid: object.oid, size: object.size, authenticated: true, actions: { upload: { href: `${baseUrl}/__lfs/${object.oid}/complete`, header, expires_at: '2099-01-01T00:00:00Z' } } };
        }
        return { oid: object.oid, size: object.size, authenticated: true, actions: { upload: { href: `${baseUrl}/__lfs/${object.oid}`, expires_at: '2099-01-01T00:00:00Z' } } };
      });
      return send(response, 200, JSON.stringify({ transfer: multipart ? 'multipart' : 'basic', objects }), { 'content-type': 'application/vnd.git-lfs+json' });
    }
    const part = /^\/__lfs\/([0-9a-f]{64})\/part\/(\d+)$/.exec(path);
    if (part && request.method === 'PUT') {
      lfsPartCount++;
      if (options.failLfsParts?.includes(lfsPartCount)) return sendJson(response, 500, { error: 'storage hiccup' });
      stats.lfsUploads++;
      stats.lfsBytes += body.length;
      lfsParts.set(`${part[1]}/${part[2]}`, body);
      return send(response, 200, '', { etag: `"${createHash('md5').update(body).digest('hex')}"` });
    }
    const complete = /^\/__lfs\/([0-9a-f]{64})\/complete$/.exec(path);
    if (complete && request.method === 'POST') {
      const input = JSON.parse(body.toString('utf8')) as { oid: string; parts: Array<{ partNumber: number; etag: string }> };
      const buffers: Buffer[] = [];
      for (const entry of [...input.parts].sort((a, b) => a.partNumber - b.partNumber)) {
        const stored = lfsParts.get(`${complete[1]}/${entry.partNumber}`);
        if (!stored || `"${createHash('md5').update(stored).digest('hex')}"` !== entry.etag) return sendJson(response, 400, { error: `part ${entry.partNumber} missing or its ETag differs` });
        buffers.push(stored);
      }
      const whole = Buffer.concat(buffers);
      const sha = createHash('sha256').update(whole).digest('hex');
      if (sha !== complete[1]) return sendJson(response, 400, { error: `sha256 mismatch after assembling the parts: got ${sha}` });
      lfsObjects.set(sha, whole);
      return sendJson(response, 200, { success: true });
    }
    const lfs = /^\/__lfs\/([0-9a-f]{64})$/.exec(path);
    if (lfs && request.method === 'PUT') {
      const sha = createHash('sha256').update(body).digest('hex');
      if (sha !== lfs[1]) return sendJson(response, 400, { error: `sha256 mismatch: got ${sha}` });
      stats.lfsUploads++;
      stats.lfsBytes += body.length;
      lfsObjects.set(sha, body);
      return send(response, 200, '', { etag: `"${sha}"` });
    }
    const commitMatch = /^\/api\/(models|datasets)\/(.+)\/commit\/([^/]+)$/.exec(path);
    const commit = commitMatch ? [commitMatch[0], repoKey(commitMatch[1] === 'datasets' ? 'dataset' : 'model', commitMatch[2]!)] : undefined;
    if (commit) {
      const repo = repos.get(commit[1]!);
      if (!repo) return notFound(response, 'RepoNotFound');
      const lines = body.toString('utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { key: string; value: Record<string, unknown> });
      const header = lines.find((line) => line.key === 'header')?.value ?? {};
      const paths: string[] = [];
      const next = new Map(repo.files);
      for (const { key, value } of lines) {
        if (key === 'file') {
          next.set(String(value.path), Buffer.from(String(value.content), value.encoding === 'base64' ? 'base64' : 'utf8'));
          paths.push(String(value.path));
        } else if (key === 'lfsFile') {
          const content = lfsObjects.get(String(value.oid));
          if (!content) return sendJson(response, 422, { error: `LFS object ${String(value.oid)} of ${String(value.path)} was not uploaded` });
          next.set(String(value.path), content);
          paths.push(String(value.path));
        } else if (key === 'deletedFile') {
          next.delete(String(value.path));
        }
      }
      repo.files = next;
      const oid = oidOf(`${repo.id}:${repo.commits.length}:${paths.join(',')}`);
      repo.commits.push({ oid, title: String(header.summary ?? ''), paths });
      return sendJson(response, 200, { success: true, commitOid: oid, commitUrl: `${baseUrl}/${repo.type === 'dataset' ? 'datasets/' : ''}${repo.id}/commit/${oid}` });
    }
    sendJson(response, 404, { error: 'Not found' });
  }

  function notFound(response: ServerResponse, code: 'RepoNotFound' | 'EntryNotFound'): void {
    sendJson(response, 404, { error: code === 'RepoNotFound' ? 'Repository not found' : 'Entry not found' }, { 'x-error-code': code });
  }

  function serveFile(request: IncomingMessage, response: ServerResponse, content: Buffer): void {
    const { status } = sendFileBytes(request, response, content, 'text/plain; charset=utf-8');
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  }

  function listModels(url: URL, response: ServerResponse): void {
    const params = url.searchParams;
    let rows = options.models.filter((model) => !model.private);
    const task = params.get('pipeline_tag');
    if (task) rows = rows.filter((model) => pipelineTagOf(model) === task);
    const author = params.get('author');
    if (author) rows = rows.filter((model) => model.id.startsWith(`${author}/`));
    const search = params.get('search')?.toLowerCase();
    if (search) rows = rows.filter((model) => model.id.toLowerCase().includes(search));
    for (const tag of params.getAll('filter')) rows = rows.filter((model) => tagsOf(model).includes(tag) || pipelineTagOf(model) === tag);
    const sort = params.get('sort');
    if (sort === 'downloads' || sort === 'likes') {
      rows = [...rows].sort((a, b) => ((b[sort] ?? 0) - (a[sort] ?? 0)) || a.id.localeCompare(b.id));
    } else if (sort === 'id') {
      rows = [...rows].sort((a, b) => a.id.localeCompare(b.id));
    }
    const { page, headers } = hubListingPage(rows, url, baseUrl, pageSize);
    const expand = expandOf(url, false);
    sendJson(response, 200, page.map((model) => wireModel(model, expand)), headers);
  }

  function pipelineTagOf(model: HubModelRow): string {
    if (model.pipelineTag) return model.pipelineTag;
    const fromCard = /^pipeline_tag:\s*["']?([\w-]+)/m.exec(frontMatter(model.card ?? ''));
    return fromCard?.[1] ?? options.defaultPipelineTag ?? 'text2text-generation';
  }

  function tagsOf(model: HubModelRow): string[] {
    return [...(model.tags ?? []), pipelineTagOf(model)];
  }

  function safetensorsOf(model: HubModelRow): { parameters: Record<string, number>; total: number } | undefined {
    if (options.safetensors === false) return undefined;
    const parameters = model.safetensors ?? (model.sizeBytes ? { F32: Math.round(model.sizeBytes / 4) } : undefined);
    if (!parameters) return undefined;
    return { parameters, total: Object.values(parameters).reduce((a, b) => a + b, 0) };
  }

  function filesOf(model: HubModelRow): Array<{ type: 'file'; oid: string; size: number; path: string; lfs?: { oid: string; size: number; pointerSize: number } }> {
    const files: Array<{ type: 'file'; oid: string; size: number; path: string; lfs?: { oid: string; size: number; pointerSize: number } }> = [
      { type: 'file', oid: oidOf(`${model.id}/.gitattributes`), size: 1477, path: '.gitattributes' },
      { type: 'file', oid: oidOf(`${model.id}/config.json`), size: 1200, path: 'config.json' },
    ];
    if (model.card) files.push({ type: 'file', oid: oidOf(model.card), size: Buffer.byteLength(model.card), path: 'README.md' });
    if (model.sizeBytes) {
      const name = options.safetensors === false ? 'pytorch_model.bin' : 'model.safetensors';
      const oid = oidOf(`${model.id}/${name}`);
      files.push({ type: 'file', oid, size: model.sizeBytes, path: name, lfs: { oid, size: model.sizeBytes, pointerSize: 134 } });
    }
    return files;
  }

  function wireModel(model: HubModelRow, expand: Set<string> | undefined): Record<string, unknown> {
    const lastModified = model.lastModified ?? '2023-06-01T00:00:00.000Z';
    const full: Record<string, unknown> = {
      pipeline_tag: pipelineTagOf(model),
      private: model.private ?? false,
      gated: false,
      downloads: model.downloads ?? 0,
      likes: model.likes ?? 0,
      lastModified,
      author: model.id.includes('/') ? model.id.split('/')[0] : undefined,
      tags: tagsOf(model),
      library_name: 'transformers',
      createdAt: lastModified,
      sha: oidOf(`${model.id}@${lastModified}`),
      cardData: cardDataOf(model.card ?? ''),
      config: model.config ?? {},
      safetensors: safetensorsOf(model),
    };
    // With `expand`, the real API returns exactly the requested fields (plus the ids).
    const fields = expand ?? new Set(['pipeline_tag', 'private', 'gated', 'downloads', 'likes', 'lastModified', 'tags', 'library_name', 'createdAt']);
    const wire: Record<string, unknown> = { _id: oidOf(model.id).slice(0, 24), id: model.id, modelId: model.id };
    for (const field of fields) if (full[field] !== undefined) wire[field] = full[field];
    return wire;
  }

  const server = await listenOnLoopback(handle, (error, response) => sendJson(response, 500, { error: (error as Error).message }));
  baseUrl = server.origin;
  return {
    url: baseUrl,
    stats,
    requests,
    repos,
    jobs: jobs?.jobs ?? new Map(),
    reset() {
      Object.assign(stats, emptyStats());
      requests.length = 0;
      requestIndex = 0;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      jobs?.close();
      return server.close();
    },
  };
}

function expandOf(url: URL, defaultAll: boolean): Set<string> | undefined {
  const expand = url.searchParams.getAll('expand');
  if (expand.length > 0) return new Set(expand);
  return defaultAll ? new Set(['pipeline_tag', 'private', 'gated', 'downloads', 'likes', 'lastModified', 'tags', 'library_name', 'createdAt', 'cardData', 'config', 'safetensors', 'author', 'sha']) : undefined;
}

function frontMatter(card: string): string {
  if (!card.startsWith('---')) return '';
  const end = card.indexOf('\n---', 3);
  return end < 0 ? '' : card.slice(3, end);
}

/** The card's `license` and `language`, as the Hub's parsed cardData has them. */
function cardDataOf(card: string): Record<string, unknown> | undefined {
  const yaml = frontMatter(card);
  if (!yaml) return undefined;
  const license = /^license:\s*["']?([\w.+-]+)/m.exec(yaml)?.[1];
  const data: Record<string, unknown> = {};
  if (license) data.license = license;
  return data;
}

/** Key of an uploaded repo in `repos`: the id for models, `datasets/<id>` for datasets. */
function repoKey(type: 'model' | 'dataset', id: string): string {
  return type === 'dataset' ? `datasets/${id}` : id;
}

function oidOf(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function emptyStats(): HubServerStats {
  return { requests: 0, listRequests: 0, modelInfoRequests: 0, readmeRequests: 0, treeRequests: 0, writeRequests: 0, lfsUploads: 0, lfsBytes: 0, faults: 0, byStatus: {} };
}

/** Reads a request body no faster than `bytesPerSecond`: TCP back-pressure makes the client's upload that slow. */
async function readThrottled(request: IncomingMessage, bytesPerSecond: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const started = Date.now();
  let received = 0;
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
    received += (chunk as Buffer).length;
    const due = started + (received / bytesPerSecond) * 1000;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
  }
  return Buffer.concat(chunks);
}
