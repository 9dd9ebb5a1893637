// The demo page. It never writes model output, the instruction or the examples as HTML: every
// text goes through textContent, so markup in them is shown as text.
// Served mode calls this server's API; browser mode (the static export) runs the ONNX model
// with transformers.js from this folder, with remote loading off.

const $ = (id) => document.getElementById(id);
const mode = document.body.dataset.mode === 'browser' ? 'browser' : 'server';
const HISTORY_SIZE = 10;
const state = { info: undefined, busy: false, last: undefined, history: [], browserModel: undefined };

function setText(element, text) {
  element.textContent = text;
}

function showError(message) {
  const box = $('error');
  setText(box, message);
  box.hidden = !message;
}

function setBusy(busy, label) {
  state.busy = busy;
  const button = $('submit');
  button.disabled = busy;
  setText(button, busy ? 'Running…' : 'Submit');
  $('form').classList.toggle('busy', busy);
  $('form').setAttribute('aria-busy', String(busy));
  setText($('status'), label ?? '');
}

function renderInfo(info) {
  document.title = `${info.title} · prompt2model demo`;
  setText($('title'), info.title);
  setText($('model'), `Model: ${info.model.id} (${info.model.runtime})`);
  setText($('instruction'), info.instruction);
  setText($('footer-mode'), mode === 'browser' ? 'Runs in your browser: nothing you type leaves this page' : 'Served by prompt2model demo');
  const list = $('examples');
  list.replaceChildren();
  for (const example of info.examples) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'example';
    setText(button, example.input);
    const expected = document.createElement('span');
    expected.className = 'expected';
    setText(expected, `→ ${example.output}`);
    button.append(expected);
    button.addEventListener('click', () => {
      $('input').value = example.input;
      $('input').focus();
    });
    item.append(button);
    list.append(item);
  }
  $('examples-block').hidden = info.examples.length === 0;
  $('input').maxLength = info.limits.maxInputChars;
  $('flag').hidden = true;
}

function renderHistory() {
  const list = $('history');
  list.replaceChildren();
  for (const entry of state.history) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    const input = document.createElement('span');
    input.className = 'in';
    setText(input, entry.input);
    const output = document.createElement('span');
    output.className = 'out';
    setText(output, `→ ${entry.output}  (${formatLatency(entry.latencyMs)})`);
    button.append(input, output);
    button.addEventListener('click', () => {
      $('input').value = entry.input;
      showResult(entry);
    });
    item.append(button);
    list.append(item);
  }
  $('history-empty').hidden = state.history.length > 0;
}

function formatLatency(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function showResult(result) {
  state.last = result;
  setText($('output'), result.output === '' ? '(empty answer)' : result.output);
  setText($('latency'), `Latency: ${formatLatency(result.latencyMs)}`);
  $('flag').hidden = !(state.info?.flagging);
  setText($('flag-status'), '');
}

async function errorFrom(response) {
  try {
    const body = await response.json();
    if (body?.error?.message) return body.error.message;
  } catch {
    // not JSON
  }
  return `The server answered ${response.status} ${response.statusText}.`;
}

/** Reads server-sent events from a fetch response body. */
async function* serverSentEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      yield { event, data: data ? JSON.parse(data) : undefined };
    }
  }
}

async function predictOnServer(input) {
  const response = await fetch('api/predict/stream', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  if (!response.ok) throw new Error(await errorFrom(response));
  let streamed = '';
  for await (const { event, data } of serverSentEvents(response)) {
    if (event === 'queued') setText($('status'), `Waiting: ${data.position} ${data.position === 1 ? 'request' : 'requests'} ahead…`);
    else if (event === 'start') setText($('status'), 'The model is answering…');
    else if (event === 'delta') {
      streamed += data.text;
      setText($('output'), streamed);
    } else if (event === 'done') return data;
    else if (event === 'error') throw new Error(data.error.message);
  }
  throw new Error('The server closed the connection before answering.');
}

async function browserModel(dtype) {
  const browser = state.info.browser;
  if (state.browserModel?.dtype === dtype) return state.browserModel.pipe;
  setText($('status'), 'Loading the model in your browser…');
  const { pipeline, env } = await import('./vendor/transformers.min.js');
  // Only this folder: no Hub, no CDN. Paths are resolved against the page, so the site works
  // under any sub-path (a Hugging Face static Space, GitHub Pages).
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useBrowserCache = false;
  const base = new URL('./', document.baseURI);
  const slash = browser.modelPath.lastIndexOf('/');
  // A path, not a full URL: transformers.js treats an http(s) localModelPath as remote and then
  // silently finds no tokenizer (remote loading being off).
  env.localModelPath = new URL(browser.modelPath.slice(0, slash + 1), base).pathname;
  env.backends.onnx.wasm.wasmPaths = new URL('vendor/ort/', base).href;
  env.backends.onnx.wasm.numThreads = 1;
  const name = browser.modelPath.slice(slash + 1);
  if (state.browserModel) await state.browserModel.pipe.dispose();
  const pipe = await pipeline(browser.task, name, { dtype, device: 'wasm', ...(browser.externalData ? { use_external_data_format: true } : {}) });
  state.browserModel = { dtype, pipe };
  return pipe;
}

async function predictInBrowser(input) {
  const browser = state.info.browser;
  const dtype = $('dtype').value || browser.dtypes[0];
  const pipe = await browserModel(dtype);
  setText($('status'), 'The model is answering…');
  const started = performance.now();
  const outputs = await pipe(`${browser.prompt.prefix}${input}${browser.prompt.suffix}`, {
    max_new_tokens: browser.maxNewTokens,
    do_sample: false,
    ...(browser.task === 'text-generation' ? { return_full_text: false } : {}),
  });
  const first = Array.isArray(outputs) ? outputs[0] : outputs;
  const text = typeof first?.generated_text === 'string' ? first.generated_text : '';
  return { output: text.trim(), latencyMs: performance.now() - started };
}

async function submit() {
  if (state.busy || !state.info) return;
  const input = $('input').value;
  if (input.trim() === '') {
    showError('Type an input first, or click one of the examples.');
    $('input').focus();
    return;
  }
  if (input.length > state.info.limits.maxInputChars) {
    showError(`The input is too long: ${input.length} characters, the limit is ${state.info.limits.maxInputChars}.`);
    return;
  }
  showError('');
  setBusy(true, 'Sending…');
  setText($('output'), '');
  setText($('latency'), '');
  $('flag').hidden = true;
  try {
    const result = mode === 'browser' ? await predictInBrowser(input) : await predictOnServer(input);
    const entry = { input, output: result.output, latencyMs: result.latencyMs };
    showResult(entry);
    state.history.unshift(entry);
    state.history.length = Math.min(state.history.length, HISTORY_SIZE);
    renderHistory();
    setBusy(false, '');
  } catch (error) {
    console.error(error);
    setBusy(false, '');
    const message = error instanceof TypeError && mode === 'server' ? 'The demo server cannot be reached (was it stopped?).' : error.message;
    showError(message);
  }
}

async function flag(verdict) {
  if (!state.last) return;
  setText($('flag-status'), 'Saving…');
  try {
    const response = await fetch('api/flag', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ input: state.last.input, output: state.last.output, verdict }),
    });
    if (!response.ok) throw new Error(await errorFrom(response));
    setText($('flag-status'), 'Thanks, saved.');
  } catch (error) {
    setText($('flag-status'), `Not saved: ${error.message}`);
  }
}

async function start() {
  $('form').addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  $('input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
    }
  });
  $('clear').addEventListener('click', () => {
    $('input').value = '';
    showError('');
    $('input').focus();
  });
  for (const button of $('flag').querySelectorAll('button[data-verdict]')) {
    button.addEventListener('click', () => void flag(button.dataset.verdict));
  }
  try {
    const response = await fetch(mode === 'browser' ? 'demo.json' : 'api/info');
    if (!response.ok) throw new Error(await errorFrom(response));
    state.info = await response.json();
  } catch (error) {
    setText($('title'), 'The demo could not start');
    showError(`Could not load the demo's settings: ${error.message}`);
    return;
  }
  renderInfo(state.info);
  renderHistory();
  if (mode === 'browser') {
    const select = $('dtype');
    for (const dtype of state.info.browser.dtypes) {
      const option = document.createElement('option');
      option.value = dtype;
      setText(option, dtype === 'q8' ? 'Weights: q8 (smaller)' : `Weights: ${dtype}`);
      select.append(option);
    }
    select.hidden = state.info.browser.dtypes.length < 2;
  }
  document.body.dataset.ready = 'true';
}

void start();
