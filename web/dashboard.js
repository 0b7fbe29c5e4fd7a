// The fedhub dashboard: the hub's models, versions and contributions, live.
// Plain JavaScript over the HTTP API (docs/http-api.md). The key is kept in
// sessionStorage and sent only as "Authorization: Bearer KEY"; the event
// stream is read with fetch() because EventSource cannot send that header.
'use strict';

(() => {
  const KEY_STORE = 'fedhub.key';
  const LIST_REFRESH_MS = 30000;   // catches models created after the stream opened
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;

  const state = {
    key: null,
    me: null,                 // {name, role}
    models: [],               // GET /api/v1/models
    selected: null,           // model name
    status: new Map(),        // name -> GET /api/v1/models/{name}
    statusError: new Map(),   // name -> ApiError
    past: new Map(),          // name -> Map(version -> status of that version, or {error})
    merges: new Map(),        // name -> [version events, newest first]
    mergeResult: new Map(),   // name -> {ok, text}
    expanded: new Set(),      // "name@version" rows of the version history that are open
    stream: null,             // {controller, models: Set}
    backoff: BACKOFF_FIRST_MS,
    reconnectTimer: null,
    countdownTimer: null,
    listTimer: null,
    chart: null,
    chartBox: null,
    chartModel: null,
    generation: 0,            // bumped at sign-out: late answers of an old session are dropped
  };

  const $ = (id) => document.getElementById(id);

  // ---- small DOM helpers (text is always set as text, never as HTML)

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const code = (text) => el('code', {}, text);

  // "What failed: the hub's message" and its error code, for an alert box.
  function problem(what, error) {
    return [el('strong', {}, what + ': '), error.message, ' ',
      el('span', { class: 'error-code', title: 'the hub\'s error code' }, error.code)];
  }

  function localTime(ms) {
    if (!ms) return '—';
    const d = new Date(Number(ms));
    return d.toLocaleString(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  }

  function ago(ms) {
    const s = Math.round((Date.now() - Number(ms)) / 1000);
    if (!isFinite(s)) return '';
    if (s < 5) return 'just now';
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }

  function timeCell(ms) {
    return el('td', { class: 'time', title: ms ? ago(ms) : '' }, el('time', {
      datetime: ms ? new Date(Number(ms)).toISOString() : '',
    }, localTime(ms)));
  }

  const int = (n) => (n === undefined || n === null ? '—' : Number(n).toLocaleString());
  const fixed = (n, digits) => (typeof n === 'number' && isFinite(n) ? n.toFixed(digits) : '—');
  const plural = (n, one, many) => int(n) + ' ' + (Number(n) === 1 ? one : (many || one + 's'));

  function aggregatorOf(model) {
    const p = model.policy || {};
    return (p.aggregator && p.aggregator.name) || '—';
  }
  function mergeModeOf(model) {
    const p = model.policy || {};
    return p.merge || '—';
  }

  // ---- the API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function errorOf(res) {
    let code = 'http_' + res.status, message = res.status + ' ' + (res.statusText || 'error');
    try {
      const j = await res.json();
      if (j && j.error) code = j.error;
      if (j && j.message) message = j.message;
    } catch (_) { /* not JSON */ }
    return new ApiError(res.status, code, message);
  }

  async function api(path, options = {}, key = state.key) {
    const headers = Object.assign({ Authorization: 'Bearer ' + key }, options.headers || {});
    let res;
    try {
      res = await fetch(path, Object.assign({}, options, { headers, cache: 'no-store' }));
    } catch (e) {
      throw new ApiError(0, 'unreachable', 'the hub did not answer (' + e.message + '): is fl-hub running?');
    }
    if (!res.ok) {
      const err = await errorOf(res);
      if (err.status === 401 && key === state.key && state.key) signOut(err);
      throw err;
    }
    return res.json();
  }

  const modelPath = (name) => '/api/v1/models/' + encodeURIComponent(name);
  const isManager = () => state.me && state.me.role === 'manager';

  // ---- signing in and out

  function showSignIn(error) {
    $('app').hidden = true;
    $('session').hidden = true;
    $('signin').hidden = false;
    const box = $('signin-error');
    if (error) {
      box.replaceChildren(...problem('Sign-in refused', error));
      box.hidden = false;
    } else {
      box.hidden = true;
    }
    $('key').focus();
  }

  async function signIn(key) {
    const button = $('signin-button');
    button.disabled = true;
    try {
      const me = await api('/api/v1/whoami', {}, key);
      sessionStorage.setItem(KEY_STORE, key);
      state.key = key;
      state.me = me;
      $('key').value = '';
      start();
    } catch (e) {
      if (e.status === 401 || e.status === 403) sessionStorage.removeItem(KEY_STORE);
      showSignIn(e);
    } finally {
      button.disabled = false;
    }
  }

  function signOut(error) {
    state.generation++;
    sessionStorage.removeItem(KEY_STORE);
    state.key = null;
    state.me = null;
    stopStream();
    clearInterval(state.listTimer);
    state.models = [];
    state.status.clear();
    state.statusError.clear();
    state.past.clear();
    state.merges.clear();
    state.mergeResult.clear();
    state.expanded.clear();
    destroyChart();
    $('models').replaceChildren();
    $('detail').replaceChildren();
    showSignIn(error && error.status === 401
      ? new ApiError(401, error.code, 'the hub no longer accepts this key: ' + error.message) : null);
  }

  function start() {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('session').hidden = false;
    $('whoami').replaceChildren('signed in as ', el('strong', {}, state.me.name), ' ',
      el('span', { class: 'role role-' + state.me.role }, state.me.role));
    const fromHash = decodeURIComponent((location.hash.match(/^#model=(.+)$/) || [])[1] || '');
    state.selected = fromHash || null;
    // The stream follows the models there are when it opens: list them first.
    refreshModels().then(() => {
      if (state.selected) refreshModel(state.selected);
      if (state.key) startStream();
    });
    clearInterval(state.listTimer);
    state.listTimer = setInterval(() => refreshModels(), LIST_REFRESH_MS);
  }

  // ---- loading (one request per kind in flight; a request asked for meanwhile runs once after)

  const inFlight = new Map();
  function coalesce(id, fn) {
    const slot = inFlight.get(id);
    if (slot) { slot.again = true; return slot.promise; }
    const entry = { again: false };
    entry.promise = (async () => {
      try {
        do { entry.again = false; await fn(); } while (entry.again);
      } finally { inFlight.delete(id); }
    })();
    inFlight.set(id, entry);
    return entry.promise;
  }

  function refreshModels() {
    const gen = state.generation;
    return coalesce('models', async () => {
      try {
        const models = await api('/api/v1/models');
        if (gen !== state.generation) return;
        models.sort((a, b) => a.name.localeCompare(b.name));
        state.models = models;
        const before = state.selected;
        if (!models.some((m) => m.name === state.selected)) state.selected = models.length ? models[0].name : null;
        if (state.selected && state.selected !== before) refreshModel(state.selected);
        renderModels();
        renderDetail();
        // The stream follows the models there were when it opened.
        if (state.stream && models.some((m) => !state.stream.models.has(m.name))) restartStream();
      } catch (e) {
        if (gen !== state.generation) return;
        renderModelsError(e);
      }
    });
  }

  function refreshModel(name) {
    if (!isManager()) return Promise.resolve();
    const gen = state.generation;
    return coalesce('model:' + name, async () => {
      try {
        const st = await api(modelPath(name));
        if (gen !== state.generation) return;
        state.status.set(name, st);
        state.statusError.delete(name);
        if (name === state.selected) renderDetail();
        await loadPastVersions(name, st, gen);
      } catch (e) {
        if (gen !== state.generation) return;
        state.statusError.set(name, e);
        if (name === state.selected) renderDetail();
      }
    });
  }

  // The contributions to each earlier version (they made the version after it); they no
  // longer change, so each is asked for once.
  async function loadPastVersions(name, st, gen) {
    if (!state.past.has(name)) state.past.set(name, new Map());
    const past = state.past.get(name);
    const wanted = (st.versions || []).map((v) => v.version).filter((v) => v < st.current_version && !past.has(v));
    if (!wanted.length) return;
    await Promise.all(wanted.map(async (v) => {
      try {
        past.set(v, await api(modelPath(name) + '/versions/' + v));
      } catch (e) {
        past.set(v, { error: e });
      }
    }));
    if (gen === state.generation && name === state.selected) renderDetail();
  }

  // ---- the event stream: GET /api/v1/events through fetch() and a stream reader

  function setLive(kind, text) {
    const live = $('live');
    live.className = 'live live-' + kind;
    live.textContent = text;
  }

  function stopStream() {
    clearTimeout(state.reconnectTimer);
    clearInterval(state.countdownTimer);
    if (state.stream) state.stream.controller.abort();
    state.stream = null;
  }

  function restartStream() {
    stopStream();
    startStream();
  }

  function startStream() {
    stopStream();
    const controller = new AbortController();
    const stream = { controller, models: new Set(state.models.map((m) => m.name)) };
    state.stream = stream;
    setLive('connecting', 'connecting…');
    readStream(stream).then((why) => {
      if (controller.signal.aborted || state.stream !== stream) return;
      scheduleReconnect(why);
    });
  }

  async function readStream(stream) {
    let res;
    try {
      res = await fetch('/api/v1/events', {
        headers: { Authorization: 'Bearer ' + state.key, Accept: 'text/event-stream' },
        signal: stream.controller.signal,
        cache: 'no-store',
      });
    } catch (e) {
      return 'the hub did not answer';
    }
    if (!res.ok) {
      const err = await errorOf(res);
      if (err.status === 401) { signOut(err); return 'signed out'; }
      return err.message;
    }
    state.backoff = BACKOFF_FIRST_MS;
    setLive('on', 'live');
    // Whatever happened while the stream was down: load it now.
    refreshModels();
    if (state.selected) refreshModel(state.selected);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Lines may end in CRLF, CR or LF; a CR at a chunk's end may be half of a CRLF.
        buffer += decoder.decode(value, { stream: true });
        const heldCr = buffer.endsWith('\r');
        if (heldCr) buffer = buffer.slice(0, -1);
        buffer = buffer.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          dispatchBlock(block);
        }
        if (heldCr) buffer += '\r';
      }
    } catch (e) {
      return 'the stream broke off';
    }
    return 'the hub ended the stream';
  }

  function dispatchBlock(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;  // keep-alives and comments
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) return;
    let event;
    try { event = JSON.parse(data.join('\n')); } catch (_) { return; }
    onEvent(type, event);
  }

  function onEvent(type, e) {
    const name = e.model;
    if (!name) return;
    if (type === 'version') {
      if (!state.merges.has(name)) state.merges.set(name, []);
      const list = state.merges.get(name);
      if (!list.some((x) => x.version === e.version)) list.unshift(e);
      list.sort((a, b) => b.version - a.version);
      list.length = Math.min(list.length, 50);
    }
    refreshModels();
    if (name === state.selected) refreshModel(name);
    else state.status.delete(name);  // loaded again when selected
  }

  function scheduleReconnect(why) {
    const delay = state.backoff;
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
    const at = Date.now() + delay;
    const show = () => {
      const s = Math.max(0, Math.ceil((at - Date.now()) / 1000));
      setLive('off', 'offline: ' + why + '; reconnecting in ' + s + ' s');
    };
    show();
    clearInterval(state.countdownTimer);
    state.countdownTimer = setInterval(show, 1000);
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(() => {
      clearInterval(state.countdownTimer);
      if (state.key) startStream();
    }, delay);
  }

  // ---- merging

  async function merge(name, base) {
    const button = $('merge-button');
    if (button) button.disabled = true;
    state.mergeResult.set(name, { ok: null, node: ['Merging the contributions to version ', String(base), '…'] });
    renderMergeResult(name);
    try {
      const r = await api(modelPath(name) + '/merge', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ base }),
      });
      state.mergeResult.set(name, {
        ok: true,
        node: [el('strong', {}, 'Merged at ' + new Date().toLocaleTimeString() + ': version ' + r.new_version + ' is out. '),
          plural((r.contributors || []).length, 'contribution') + ' to version ' + r.base_version +
          ' (' + (r.contributors || []).join(', ') + '), ' + plural(r.total_samples, 'sample') + '.'],
      });
    } catch (e) {
      state.mergeResult.set(name, {
        ok: false,
        node: problem('Merge refused', e),
      });
    }
    renderMergeResult(name);
    refreshModels();
    refreshModel(name);
  }

  // ---- rendering: the list of models

  function renderModelsError(e) {
    $('models').replaceChildren(el('div', { class: 'alert error' },
      ...problem('Could not list the models', e)));
  }

  function renderModels() {
    const box = $('models');
    if (!state.models.length) {
      box.replaceChildren(el('div', { class: 'empty' },
        el('p', {}, el('strong', {}, 'No models yet.')),
        el('p', {}, 'A manager creates one with ', code('fl-manager create'), '.')));
      return;
    }
    box.replaceChildren(...state.models.map((m) => {
      const selected = m.name === state.selected;
      return el('button', {
        type: 'button', class: 'model-card' + (selected ? ' selected' : ''),
        'aria-pressed': selected ? 'true' : 'false', dataset: { model: m.name },
        onclick: () => select(m.name),
      },
      el('div', { class: 'model-card-top' },
        el('span', { class: 'model-name' }, m.name),
        el('span', { class: 'version-pill', title: 'current version' }, 'v' + m.current_version)),
      el('div', { class: 'model-card-line' },
        m.pending_contributions
          ? el('span', { class: 'pending' }, plural(m.pending_contributions, 'contribution') + ' waiting')
          : el('span', { class: 'muted' }, 'no contributions waiting'),
        m.archived ? el('span', { class: 'badge archived' }, 'archived') : null,
        m.merging ? el('span', { class: 'badge merging' }, 'merging') : null),
      el('div', { class: 'model-card-line muted small' },
        mergeModeOf(m) + ' merge · ' + aggregatorOf(m) + ' · min ' + int(m.min_contributions)),
      el('div', { class: 'model-card-line muted small' },
        int(m.parameters) + ' parameters · ' + int(m.labels) + ' labels'));
    }));
  }

  function select(name) {
    if (state.selected === name) return;
    state.selected = name;
    history.replaceState(null, '', '#model=' + encodeURIComponent(name));
    renderModels();
    renderDetail();
    refreshModel(name);
  }

  // ---- rendering: one model

  function renderDetail() {
    const box = $('detail');
    const m = state.models.find((x) => x.name === state.selected);
    if (!m) {
      destroyChart();
      box.replaceChildren(state.models.length
        ? el('div', { class: 'card empty' }, 'Choose a model on the left.')
        : el('div', { class: 'card empty' }, el('h2', {}, 'This hub has no models yet'),
          el('p', {}, 'A manager creates one, for example the Fashion-MNIST MLP of the README:'),
          el('pre', {}, 'fl-manager --hub HOST:PORT --key-file DATA/manager.key create NAME \\\n' +
            '  --arch config/fmnist-mlp.arch.json --labels config/fashion-mnist-labels.txt \\\n' +
            '  --recipe config/adam.recipe.json'),
          el('p', {}, 'It appears here within 30 seconds, without reloading the page.')));
      return;
    }
    if (!isManager()) {
      destroyChart();
      box.replaceChildren(header(m, null),
        el('div', { class: 'card notice' },
          el('h3', {}, 'Versions and contributions need a manager key'),
          el('p', {}, 'You are signed in as the participant ', el('strong', {}, state.me.name),
            '. This list of models (current versions, contributions waiting) stays live; ' +
            'a model\'s versions, contributions and merges are shown to managers only.'),
          el('p', {}, 'To contribute to ', el('strong', {}, m.name), ', train and upload a round:'),
          el('pre', {}, 'fl-participant run --hub HOST:PORT --key-file KEYFILE \\\n  --model ' + m.name +
            ' --data SPEC --rounds 1'),
          el('p', { class: 'muted small' }, 'SPEC is your local data: idx:PREFIX, cifar:PATH or folder:DIR, ' +
            'optionally with :CLASSES (docs/models.md).')));
      return;
    }
    const st = state.status.get(m.name);
    const err = state.statusError.get(m.name);
    if (!st) {
      destroyChart();
      box.replaceChildren(header(m, null), err
        ? el('div', { class: 'alert error' }, ...problem('Could not load ' + m.name, err))
        : el('div', { class: 'card muted' }, 'Loading ' + m.name + '…'));
      return;
    }
    const chartCard = chartSection(m.name, st);
    box.replaceChildren(...[
      header(m, st),
      err ? el('div', { class: 'alert error' }, ...problem('Could not refresh', err)) : null,
      pendingSection(m, st),
      chartCard,
      mergesSection(m.name),
      versionsSection(m.name, st)].filter(Boolean));
    updateChart(m.name, st);
    renderMergeResult(m.name);
  }

  function header(m, st) {
    const current = st ? st.current_version : m.current_version;
    const versionInfo = st && (st.versions || []).find((v) => v.version === current);
    const hero = el('div', { class: 'card hero' },
      el('div', { class: 'hero-version' },
        el('div', { class: 'label' }, 'current version'),
        el('div', { id: 'current-version', class: 'big-number', dataset: { model: m.name } }, String(current)),
        versionInfo ? el('div', { class: 'muted small' }, 'since ' + localTime(versionInfo.created_at_ms)) : null),
      el('div', { class: 'hero-main' },
        el('h1', { class: 'model-title' }, m.name,
          m.archived ? el('span', { class: 'badge archived' }, 'archived (read-only)') : null),
        el('dl', { class: 'facts' },
          fact('waiting', m.pending_contributions
            ? el('span', { class: 'pending' }, plural(m.pending_contributions, 'contribution'))
            : 'none', 'contributions to version ' + current + ' not merged yet'),
          fact('merge', mergeModeOf(m) + ' (min ' + int(m.min_contributions) + ')'),
          fact('aggregator', aggregatorOf(m)),
          fact('size', int(m.parameters) + ' parameters, ' + int(m.labels) + ' labels'))),
      isManager() ? mergeBox(m, current) : null);
    return hero;
  }

  function fact(term, value, title) {
    return el('div', { class: 'fact', title }, el('dt', {}, term), el('dd', {}, value));
  }

  function mergeBox(m, current) {
    const box = el('div', { class: 'merge-box' },
      el('button', {
        id: 'merge-button', type: 'button', class: 'button ' + (m.pending_contributions ? 'primary' : 'secondary'),
        disabled: m.archived ? true : undefined,
        title: 'POST /api/v1/models/' + m.name + '/merge {"base": ' + current + '}',
        onclick: () => merge(m.name, current),
      }, 'Merge into version ' + (current + 1)),
      el('div', { class: 'muted small' }, m.pending_contributions
        ? 'merges the ' + plural(m.pending_contributions, 'contribution') + ' to version ' + current
        : 'nothing to merge yet'),
      el('div', { id: 'merge-result', class: 'merge-result' }));
    return box;
  }

  function renderMergeResult(name) {
    const box = $('merge-result');
    if (!box || name !== state.selected) return;
    const r = state.mergeResult.get(name);
    if (!r) { box.replaceChildren(); return; }
    box.className = 'merge-result alert ' + (r.ok === null ? 'info' : r.ok ? 'ok' : 'error');
    box.replaceChildren(...r.node.map((n) => (n instanceof Node ? n.cloneNode(true) : n)));
  }

  function metricCells(metrics) {
    const m = metrics || {};
    return [el('td', { class: 'num' }, fixed(m.loss, 4)), el('td', { class: 'num' }, fixed(m.accuracy, 4))];
  }

  function contributionsTable(list, extra) {
    return el('table', { class: 'table' },
      el('thead', {}, el('tr', {},
        el('th', {}, 'participant'), el('th', { class: 'num' }, 'samples'), el('th', {}, 'received (local time)'),
        el('th', { class: 'num', title: 'reported by the participant, on its own training data' }, 'training loss'),
        el('th', { class: 'num', title: 'reported by the participant, on its own training data' }, 'training accuracy'),
        extra ? extra.headers : null)),
      el('tbody', {}, list.map((c) => el('tr', {},
        el('td', { class: 'participant' }, c.participant),
        el('td', { class: 'num' }, int(c.num_samples)),
        timeCell(c.received_at_ms),
        metricCells(c.metrics),
        extra ? extra.cells(c) : null))));
  }

  function pendingSection(m, st) {
    const list = st.contributions || [];
    const section = el('section', { id: 'pending', class: 'card' },
      el('h2', {}, 'Waiting for the next merge'),
      el('p', { class: 'muted' }, 'Contributions trained on version ' + st.current_version +
        '; a merge turns them into version ' + (st.current_version + 1) + '.'));
    if (!list.length) {
      section.append(el('div', { class: 'empty' },
        el('p', {}, el('strong', {}, 'No contributions yet.'), ' Participants run'),
        el('pre', {}, 'fl-participant run --model ' + m.name + ' --data SPEC --rounds N --hub HOST:PORT --key KEY'),
        el('p', { class: 'muted small' }, 'Each upload appears here as it arrives.')));
    } else {
      section.append(contributionsTable(list));
    }
    return section;
  }

  // The mean of a metric over a version's contributions, or null.
  function mean(list, metric) {
    const xs = list.map((c) => (c.metrics || {})[metric]).filter((x) => typeof x === 'number' && isFinite(x));
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  }

  function contributionsTo(name, st, v) {
    if (v === st.current_version) return st.contributions || [];
    const past = (state.past.get(name) || new Map()).get(v);
    return past && !past.error ? past.contributions || [] : null;
  }

  function chartSection(name, st) {
    const hasMetrics = (st.versions || []).some((v) => {
      const list = contributionsTo(name, st, v.version);
      return list && (mean(list, 'loss') !== null || mean(list, 'accuracy') !== null);
    });
    let body;
    if (typeof Chart === 'undefined') {
      body = el('div', { class: 'alert error' }, 'The chart library (/static/chart.js) did not load.');
    } else {
      // The chart's box and canvas stay across refreshes of the same model: only its data changes.
      if (!(state.chart && state.chartModel === name && state.chartBox)) {
        destroyChart();
        state.chartBox = el('div', { class: 'chart-box' },
          el('canvas', { id: 'metrics-chart', 'aria-label': 'mean training loss and accuracy per version' }));
      }
      body = state.chartBox;
      body.querySelectorAll('.chart-placeholder').forEach((x) => x.remove());
      body.classList.toggle('chart-empty', !hasMetrics);
      if (!hasMetrics) body.append(el('div', { class: 'chart-placeholder' },
        'No training metrics yet: they appear once participants upload contributions.'));
    }
    return el('section', { id: 'metrics', class: 'card' },
      el('h2', {}, 'Participants\' training metrics'),
      el('p', { class: 'muted' }, 'The mean loss and accuracy the participants reported for their own ' +
        'training on each version (on their local data, not a test set). The last point is the current version\'s ' +
        'waiting contributions.'),
      body);
  }

  function destroyChart() {
    if (state.chart) state.chart.destroy();
    state.chart = null;
    state.chartModel = null;
    state.chartBox = null;
  }

  function updateChart(name, st) {
    if (typeof Chart === 'undefined') return;
    const versions = (st.versions || []).map((v) => v.version).sort((a, b) => a - b);
    const loss = [], accuracy = [], counts = [];
    for (const v of versions) {
      const list = contributionsTo(name, st, v);
      loss.push(list ? mean(list, 'loss') : null);
      accuracy.push(list ? mean(list, 'accuracy') : null);
      counts.push(list ? list.length : null);
    }
    const labels = versions.map((v) => 'v' + v);
    if (state.chart && state.chartModel === name) {
      state.chart.data.labels = labels;
      state.chart.data.datasets[0].data = loss;
      state.chart.data.datasets[1].data = accuracy;
      state.chart.$counts = counts;
      state.chart.update('none');
      return;
    }
    const canvas = $('metrics-chart');
    if (!canvas) return;
    state.chart = new Chart(canvas, {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'mean training loss', data: loss, yAxisID: 'loss', borderColor: '#d9534f',
            backgroundColor: '#d9534f', tension: 0, spanGaps: true, pointRadius: 4 },
          { label: 'mean training accuracy', data: accuracy, yAxisID: 'accuracy', borderColor: '#2f6fde',
            backgroundColor: '#2f6fde', tension: 0, spanGaps: true, pointRadius: 4 },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: {
              title: (items) => 'trained on version ' + items[0].label.slice(1),
              afterTitle: (items) => {
                const n = (state.chart && state.chart.$counts || [])[items[0].dataIndex];
                return n === null || n === undefined ? '' : plural(n, 'contribution');
              },
              label: (item) => item.dataset.label + ': ' + fixed(item.parsed.y, 4),
            },
          },
        },
        scales: {
          x: { title: { display: true, text: 'version trained on' } },
          loss: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'loss' } },
          accuracy: { type: 'linear', position: 'right', min: 0, max: 1, grid: { drawOnChartArea: false },
            title: { display: true, text: 'accuracy' } },
        },
      },
    });
    state.chart.$counts = counts;
    state.chartModel = name;
  }

  function mergesSection(name) {
    const list = state.merges.get(name) || [];
    const section = el('section', { id: 'merges', class: 'card' },
      el('h2', {}, 'Merges seen live'),
      el('p', { class: 'muted' }, 'Each new version as the hub announces it, with the weight and staleness ' +
        'of every contribution it took (since this page opened).'));
    if (!list.length) {
      section.append(el('div', { class: 'empty' }, 'No merge since this page opened. The next one appears here ' +
        'as it happens, whoever starts it (this page, ', code('fl-manager merge ' + name), ', or the model\'s merge policy).'));
      return section;
    }
    const SHOWN = 5;
    for (const e of list.slice(0, SHOWN)) {
      const contributions = e.contributions || [];
      section.append(el('div', { class: 'merge-event', dataset: { version: e.version } },
        el('div', { class: 'merge-event-head' },
          el('span', { class: 'version-pill' }, 'v' + e.version),
          el('span', {}, ' from version ' + e.base_version + ' · ' + (e.aggregator || '—') + ' · ' +
            plural(contributions.length, 'contribution') + ' · ' + plural(e.total_samples, 'sample')),
          e.dropped ? el('span', { class: 'badge warn' }, plural(e.dropped, 'contribution') + ' dropped as too stale') : null,
          e.rolled_back_from >= 0 ? el('span', { class: 'badge' }, 'rollback to version ' + e.rolled_back_from) : null,
          el('span', { class: 'muted small right' }, localTime(e.at_ms))),
        contributions.length ? el('table', { class: 'table compact' },
          el('thead', {}, el('tr', {}, el('th', {}, 'participant'), el('th', { class: 'num' }, 'trained on'),
            el('th', { class: 'num' }, 'staleness'), el('th', { class: 'num' }, 'weight'),
            el('th', { class: 'num' }, 'samples'), el('th', {}, 'clipped'))),
          el('tbody', {}, contributions.map((c) => el('tr', {},
            el('td', { class: 'participant' }, c.participant),
            el('td', { class: 'num' }, 'v' + c.base_version),
            el('td', { class: 'num' }, int(c.staleness)),
            el('td', { class: 'num' }, fixed(c.weight, 4)),
            el('td', { class: 'num' }, int(c.num_samples)),
            el('td', {}, c.clipped ? 'yes (norm bound)' : 'no'))))) : null));
    }
    if (list.length > SHOWN) {
      section.append(el('p', { class: 'muted small' }, plural(list.length - SHOWN, 'earlier merge') +
        ' not shown; the version history below has every version.'));
    }
    return section;
  }

  function versionsSection(name, st) {
    const versions = (st.versions || []).slice().sort((a, b) => b.version - a.version);
    const rows = [];
    for (const v of versions) {
      const isCurrent = v.version === st.current_version;
      const id = name + '@' + v.version;
      const open = state.expanded.has(id);
      const trained = contributionsTo(name, st, v.version);
      const pastEntry = (state.past.get(name) || new Map()).get(v.version);
      let trainedText;
      if (isCurrent) trainedText = trained.length ? plural(trained.length, 'waiting contribution') : 'none yet';
      else if (pastEntry && pastEntry.error) trainedText = 'not available (' + pastEntry.error.code + ')';
      else if (!trained) trainedText = 'loading…';
      else trainedText = trained.length ? trained.map((c) => c.participant).join(', ') : 'none';
      rows.push(el('tr', {
        class: 'version-row' + (isCurrent ? ' current' : '') + (open ? ' open' : ''),
        dataset: { version: v.version }, tabindex: '0', title: 'show the contributions trained on this version',
        onclick: () => { open ? state.expanded.delete(id) : state.expanded.add(id); renderDetail(); },
        onkeydown: (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); ev.currentTarget.click(); } },
      },
      el('td', {}, el('span', { class: 'chevron' }, open ? '▾' : '▸'), ' ',
        el('strong', {}, 'v' + v.version), isCurrent ? el('span', { class: 'badge current' }, 'current') : null),
      timeCell(v.created_at_ms),
      el('td', {}, v.version === 0 && v.aggregator === 'initial' ? 'initial weights'
        : v.rolled_back_from >= 0 ? 'rollback to v' + v.rolled_back_from : 'merge of v' + v.base_version),
      el('td', { class: 'num' }, int(v.contributions)),
      el('td', { class: 'num' }, int(v.total_samples)),
      el('td', {}, v.aggregator || '—'),
      el('td', { class: 'trained' }, trainedText)));
      if (open) {
        const merged = (state.merges.get(name) || []).find((e) => e.version === v.version + 1);
        const byName = new Map(((merged && merged.contributions) || []).map((c) => [c.participant, c]));
        const body = !trained
          ? el('p', { class: 'muted' }, pastEntry && pastEntry.error ? pastEntry.error.message : 'loading…')
          : !trained.length
            ? el('p', { class: 'muted' }, isCurrent ? 'No contributions yet.' : 'No contributions were sent for this version.')
            : contributionsTable(trained, merged ? {
              headers: [el('th', { class: 'num' }, 'staleness'), el('th', { class: 'num' }, 'weight')],
              cells: (c) => {
                const x = byName.get(c.participant);
                return [el('td', { class: 'num' }, x ? int(x.staleness) : '—'),
                  el('td', { class: 'num' }, x ? fixed(x.weight, 4) : '—')];
              },
            } : null);
        rows.push(el('tr', { class: 'version-detail' }, el('td', { colspan: '7' },
          el('div', { class: 'muted small' }, isCurrent
            ? 'Contributions trained on version ' + v.version + ', waiting for a merge:'
            : 'Contributions trained on version ' + v.version + ' (merged into version ' + (v.version + 1) + '):'),
          body)));
      }
    }
    return el('section', { id: 'versions', class: 'card' },
      el('h2', {}, 'Version history'),
      el('p', { class: 'muted' }, 'Newest first. Click a version for the contributions trained on it.' +
        (st.oldest_retained ? ' Weights are kept from version ' + st.oldest_retained + ' on.' : '')),
      el('table', { class: 'table versions' },
        el('thead', {}, el('tr', {},
          el('th', {}, 'version'), el('th', {}, 'created (local time)'), el('th', {}, 'made by'),
          el('th', { class: 'num' }, 'contributions'), el('th', { class: 'num' }, 'samples'),
          el('th', {}, 'aggregator'), el('th', {}, 'trained on it'))),
        el('tbody', {}, rows)));
  }

  // ---- start

  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const key = $('key').value.trim();
      if (!key) {
        showSignIn(new ApiError(0, 'no_key', 'enter a key first'));
        return;
      }
      signIn(key);
    });
    $('signout').addEventListener('click', () => signOut());
    const saved = sessionStorage.getItem(KEY_STORE);
    if (saved) signIn(saved);
    else showSignIn(null);
  });
})();
