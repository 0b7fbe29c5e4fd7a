#!/usr/bin/python3
"""The dashboard in a real headless Chromium, against a real fl-hub.

    dashboard_test.py --bin BUILD/bin --out DIR

Starts fl-hub on a fresh data directory (--port 0 --http-port 0), creates a
small model with fl-manager, lets a participant train and upload one round,
signs in on the page by typing the manager key and waits until the page shows
version 0 with the contribution and its participant. Then merges through the
API and waits until the page shows version 1 without a reload, has the
participant contribute to version 1 and merges with the page's Merge button,
checks a refused merge, a participant's view and a wrong key's error, and
that the key never appears in an address. Screenshots go into --out.

Only the standard library: chromedriver is driven through its W3C WebDriver
HTTP API with urllib. Exits 77 (skipped) when chromium or chromedriver is
missing. Every wait polls the page with a deadline; nothing sleeps.
"""

import argparse
import base64
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
FMNIST = '/usr/share/datasets/fashion-mnist'
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODEL = 'web-fmnist'
PARTICIPANT = 'org-web'
ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'
SKIP = 77


class Failure(Exception):
    pass


def log(*args):
    print('dashboard_test:', *args, flush=True)


def poll(what, probe, timeout=30.0, interval=0.1):
    """Calls probe() -> (done, seen) until done; Failure with the last seen at the deadline.
    Between probes it waits a bounded poll interval on an Event."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while True:
        done, seen = probe()
        if done:
            return seen
        if time.monotonic() > deadline:
            raise Failure('timed out after %.0f s waiting for %s; last seen: %s' % (timeout, what, seen))
        tick.wait(interval)


def page_has(test, key, predicate):
    """A probe: predicate(page()[key])."""
    def probe():
        value = test.page()[key]
        return bool(predicate(value)), value
    return probe


# ---- processes

class LineReader:
    """Reads a process's output lines on a thread: into a queue (for waiting on a line with a
    deadline) and into a log file."""

    def __init__(self, stream, log_path):
        self.lines = queue.Queue()
        self.log = open(log_path, 'w')
        self.thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.thread.start()

    def _run(self, stream):
        for raw in iter(stream.readline, b''):
            line = raw.decode('utf-8', 'replace')
            self.log.write(line)
            self.log.flush()
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure('no line matching %r within %.0f s; got: %s' % (pattern, timeout, ''.join(seen)))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise Failure('the process ended before printing %r; it printed: %s' % (pattern, ''.join(seen)))
            seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m


def run(args, what):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    if p.returncode != 0:
        raise Failure('%s failed (exit %d): %s %s' % (what, p.returncode, p.stdout.decode(), p.stderr.decode()))
    return p.stdout.decode()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ---- HTTP

def http(method, url, body=None, headers=None, timeout=30):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault('Content-Type', 'application/json')
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.strip() else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


class WebDriver:
    """The few W3C WebDriver commands this test needs."""

    def __init__(self, port):
        self.base = 'http://127.0.0.1:%d' % port
        self.session = None

    def cmd(self, method, path, body=None):
        status, answer = http(method, self.base + path, body if body is not None else ({} if method == 'POST' else None),
                              timeout=60)
        if status != 200:
            raise Failure('WebDriver %s %s: %s %s' % (method, path, status, answer))
        return answer['value']

    def ready(self):
        try:
            status, answer = http('GET', self.base + '/status', timeout=2)
            return status == 200 and answer['value'].get('ready')
        except (OSError, urllib.error.URLError):
            return False

    def start(self):
        caps = {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome',
            'goog:chromeOptions': {
                'binary': CHROMIUM,
                'args': ['--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1280,900'],
            },
        }}}
        self.session = self.cmd('POST', '/session', caps)['sessionId']

    def s(self, path):
        return '/session/%s%s' % (self.session, path)

    def get(self, url):
        self.cmd('POST', self.s('/url'), {'url': url})

    def url(self):
        return self.cmd('GET', self.s('/url'))

    def js(self, script, *args):
        return self.cmd('POST', self.s('/execute/sync'), {'script': script, 'args': list(args)})

    def find(self, css):
        return self.cmd('POST', self.s('/element'), {'using': 'css selector', 'value': css})[ELEMENT]

    def type(self, css, text):
        e = self.find(css)
        self.cmd('POST', self.s('/element/%s/clear' % e))
        self.cmd('POST', self.s('/element/%s/value' % e), {'text': text})

    def click(self, css):
        self.cmd('POST', self.s('/element/%s/click' % self.find(css)))

    def screenshot(self, path):
        png = base64.b64decode(self.cmd('GET', self.s('/screenshot')))
        with open(path, 'wb') as f:
            f.write(png)
        log('screenshot', path)

    def full_screenshot(self, path):
        """The whole page: the window made as tall as the document for the picture."""
        rect = self.cmd('GET', self.s('/window/rect'))
        extra = self.js('return window.outerHeight - window.innerHeight;') or 0
        height = self.js('return document.documentElement.scrollHeight;')
        self.cmd('POST', self.s('/window/rect'), {'width': rect['width'], 'height': height + extra})
        try:
            self.screenshot(path)
        finally:
            self.cmd('POST', self.s('/window/rect'), {'width': rect['width'], 'height': rect['height']})

    def quit(self):
        if self.session:
            try:
                self.cmd('DELETE', self.s(''))
            except Exception:  # noqa: BLE001 -- best effort at the end
                pass
            self.session = None


# What the page shows, read in one script.
PAGE_STATE = r'''
const text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText.trim() : null; };
const visible = (sel) => { const e = document.querySelector(sel); return !!e && !e.hidden && e.offsetParent !== null; };
const rows = (sel) => Array.from(document.querySelectorAll(sel)).map((r) => r.innerText.replace(/\s+/g, ' ').trim());
const byVersion = (sel) => Array.from(document.querySelectorAll(sel)).map((r) => ({
  version: Number(r.dataset.version), text: r.innerText.replace(/\s+/g, ' ').trim()}));
return {
  signin: visible('#signin'),
  signinError: visible('#signin-error') ? text('#signin-error') : null,
  app: visible('#app'),
  live: text('#live'),
  whoami: text('#whoami'),
  cards: Array.from(document.querySelectorAll('.model-card')).map((c) => ({model: c.dataset.model, text: c.innerText.replace(/\s+/g, ' ')})),
  currentVersion: text('#current-version'),
  detail: text('#detail'),
  pending: rows('#pending tbody tr'),
  versions: byVersion('#versions tbody tr.version-row'),
  merges: byVersion('#merges .merge-event'),
  mergeResult: text('#merge-result'),
  chartPoints: (window.Chart && document.querySelector('#metrics-chart') && Chart.getChart(document.querySelector('#metrics-chart')))
    ? Chart.getChart(document.querySelector('#metrics-chart')).data.datasets.map((d) => d.data) : null,
  marker: window.__testMarker || null,
  timeOrigin: performance.timeOrigin,
  href: location.href,
  stored: sessionStorage.getItem('fedhub.key'),
  requested: performance.getEntriesByType('resource').map((e) => e.name).concat([location.href]),
};
'''


class Test:
    def __init__(self, bin_dir, out_dir):
        self.bin = bin_dir
        self.out = out_dir
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix='fedhub-web-')
        self.driver = None

    def page(self):
        return self.driver.js(PAGE_STATE)

    def check_key_not_in_urls(self, state, key):
        for u in state['requested'] + [self.driver.url()]:
            if key in u:
                raise Failure('the key appears in an address: ' + u)

    def start_hub(self):
        data = os.path.join(self.tmp, 'data')
        hub = subprocess.Popen([os.path.join(self.bin, 'fl-hub'), '--data-dir', data, '--port', '0', '--http-port', '0'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.procs.append(hub)
        out = LineReader(hub.stdout, os.path.join(self.out, 'hub.log'))
        self.caf = out.wait_for(r'listening on ([0-9.]+:[0-9]+)', 30).group(1)
        self.web = out.wait_for(r'HTTP API and dashboard on (http://[0-9.]+:[0-9]+)/', 30).group(1)
        with open(os.path.join(data, 'manager.key')) as f:
            self.manager_key = f.read().strip()
        log('hub on', self.caf, 'and', self.web)

    def manager(self, *args):
        return run([os.path.join(self.bin, 'fl-manager'), '--hub', self.caf, '--key', self.manager_key, *args],
                   'fl-manager ' + ' '.join(args))

    def participant(self, *args):
        return run([os.path.join(self.bin, 'fl-participant'), '--hub', self.caf, '--key', self.participant_key, *args],
                   'fl-participant ' + ' '.join(args))

    def contribute(self, tag):
        package = os.path.join(self.tmp, tag + '.fhmp')
        result = os.path.join(self.tmp, tag + '.bin')
        self.participant('download', '--model', MODEL, '--out', package)
        run([os.path.join(self.bin, 'fl-participant'), 'train', '--in', package, '--data', 'idx:%s/t10k' % FMNIST,
             '--out', result, '--quiet'], 'fl-participant train')
        self.participant('upload', '--weights', result)

    def start_browser(self):
        port = free_port()
        driver = subprocess.Popen([CHROMEDRIVER, '--port=%d' % port], stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(self.out, 'chromedriver.log'), 'w'))
        self.procs.append(driver)
        self.driver = WebDriver(port)
        poll('chromedriver to be ready', lambda: (driver.poll() is None and self.driver.ready(), driver.poll()), timeout=30)
        self.driver.start()

    def sign_in(self, key):
        self.driver.type('#key', key)
        self.driver.click('#signin-button')

    def run(self):
        self.start_hub()
        self.manager('--wait', '30', 'create', MODEL, '--arch', os.path.join(SOURCE, 'config/fmnist-mlp.arch.json'),
                     '--labels', os.path.join(SOURCE, 'config/fashion-mnist-labels.txt'),
                     '--recipe', os.path.join(SOURCE, 'config/adam.recipe.json'), '--seed', '7')
        self.participant_key = self.manager('keys', 'add', PARTICIPANT, '--role', 'participant').strip()
        self.contribute('v0')
        log('one contribution to version 0 uploaded')

        self.start_browser()
        d = self.driver
        d.get(self.web + '/')
        poll('the sign-in form', page_has(self, 'signin', bool))
        self.sign_in(self.manager_key)

        def shows_version_0():
            s = self.page()
            ok = (s['app'] and s['currentVersion'] == '0' and any(c['model'] == MODEL for c in s['cards'])
                  and any(PARTICIPANT in r for r in s['pending']) and 'manager' in (s['whoami'] or '').lower())
            return (ok, s)
        s = poll('the page to show version 0 with the contribution of ' + PARTICIPANT, shows_version_0)
        if s['stored'] != self.manager_key:
            raise Failure('the key is not kept in sessionStorage')
        self.check_key_not_in_urls(s, self.manager_key)
        poll('the event stream to be live', page_has(self, 'live', lambda v: v == 'live'))
        log('page shows version 0 with', PARTICIPANT)

        # A marker that a reload would lose.
        marker = d.js('window.__testMarker = "m" + Date.now() + Math.random(); return window.__testMarker;')
        origin = self.page()['timeOrigin']

        # A merge through the API: the page follows it without a reload.
        status, receipt = http('POST', self.web + '/api/v1/models/%s/merge' % MODEL, {'base': 0},
                               {'Authorization': 'Bearer ' + self.manager_key})
        if status != 200 or receipt.get('new_version') != 1:
            raise Failure('merge through the API: %s %s' % (status, receipt))

        def shows_version_1():
            s = self.page()
            v0 = [r['text'] for r in s['versions'] if r['version'] == 0]
            ok = (s['currentVersion'] == '1' and any(r['version'] == 1 for r in s['versions'])
                  and v0 and PARTICIPANT in v0[0]                     # the contributions that made version 1
                  and any(r['version'] == 1 and PARTICIPANT in r['text'] for r in s['merges'])  # from the event stream
                  and not s['pending'] and any('v1' in c['text'] for c in s['cards']))
            return (ok, s)
        s = poll('the page to show version 1 without a reload', shows_version_1, timeout=15)
        if s['marker'] != marker or s['timeOrigin'] != origin:
            raise Failure('the page was reloaded (marker %s, was %s)' % (s['marker'], marker))
        merge_row = [r['text'] for r in s['merges'] if r['version'] == 1][0]
        if 'weight' not in merge_row.lower() or 'staleness' not in merge_row.lower():
            raise Failure('the live merge does not show weights and staleness: ' + merge_row)
        log('page shows version 1 live:', merge_row)

        # A contribution to version 1 appears live; the Merge button makes version 2.
        self.contribute('v1')
        poll('the contribution to version 1 to appear',
             page_has(self, 'pending', lambda rows: any(PARTICIPANT in r for r in rows)), timeout=15)
        d.click('#merge-button')

        def merged_by_button():
            s = self.page()
            ok = (s['currentVersion'] == '2' and s['mergeResult'] and 'version 2' in s['mergeResult']
                  and s['chartPoints'] and all(len([x for x in data if x is not None]) >= 2 for data in s['chartPoints']))
            return (ok, s)
        s = poll('the Merge button\'s receipt and version 2', merged_by_button, timeout=15)
        if s['marker'] != marker:
            raise Failure('the page was reloaded by the merge button')
        log('merge button:', s['mergeResult'])
        log('chart points (loss, accuracy):', s['chartPoints'])
        d.js('window.scrollTo(0, 0)')
        d.screenshot(os.path.join(self.out, 'dashboard.png'))
        d.full_screenshot(os.path.join(self.out, 'dashboard-full.png'))

        # Nothing left to merge: the hub's refusal is shown.
        d.click('#merge-button')
        s = poll('the refused merge\'s error',
                 page_has(self, 'mergeResult', lambda v: 'refused' in (v or '')), timeout=15)
        log('refused merge:', s)
        self.check_key_not_in_urls(self.page(), self.manager_key)

        # Sign out: the key is gone; a wrong key shows the API's message.
        d.click('#signout')
        def signed_out():
            s = self.page()
            return s['signin'] and s['stored'] is None and not s['app'], s
        poll('the sign-in form after signing out', signed_out)
        wrong = 'not-a-key-' + marker
        self.sign_in(wrong)
        poll('the wrong key\'s error', page_has(self, 'signinError', lambda v: v and 'not known' in v),
             timeout=15)
        st = self.page()
        if st['app'] or st['stored']:
            raise Failure('a wrong key was let in or kept')
        self.check_key_not_in_urls(st, wrong)
        log('wrong key:', st['signinError'])
        d.screenshot(os.path.join(self.out, 'dashboard-wrong-key.png'))

        # A participant sees the list, and is told why not more.
        self.sign_in(self.participant_key)

        def participant_view():
            s = self.page()
            ok = (s['app'] and any(c['model'] == MODEL and 'v2' in c['text'] for c in s['cards'])
                  and 'manager key' in (s['detail'] or '') and not s['versions'] and 'participant' in (s['whoami'] or '').lower())
            return (ok, s)
        poll('the participant\'s view', participant_view, timeout=15)
        self.check_key_not_in_urls(self.page(), self.participant_key)
        d.screenshot(os.path.join(self.out, 'dashboard-participant.png'))
        log('participant view shown')

    def close(self, failed):
        if self.driver:
            if failed and self.driver.session:
                try:
                    self.driver.screenshot(os.path.join(self.out, 'dashboard-failure.png'))
                    log('page at the failure:', json.dumps(self.page())[:3000])
                except Exception as e:  # noqa: BLE001
                    log('no failure screenshot:', e)
            self.driver.quit()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bin', required=True, help='the folder of fl-hub, fl-manager and fl-participant')
    parser.add_argument('--out', required=True, help='where screenshots and logs go')
    args = parser.parse_args()
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        print('dashboard_test: SKIPPED: %s missing (apt-get install chromium chromium-driver)' % ' and '.join(missing))
        return SKIP
    for prog in ('fl-hub', 'fl-manager', 'fl-participant'):
        if not os.access(os.path.join(args.bin, prog), os.X_OK):
            print('dashboard_test: %s is not built in %s' % (prog, args.bin))
            return 1
    if not os.path.exists(os.path.join(FMNIST, 't10k-images-idx3-ubyte.gz')):
        print('dashboard_test: Fashion-MNIST is missing: apt-get install dataset-fashion-mnist')
        return 1
    os.makedirs(args.out, exist_ok=True)
    stale = os.path.join(args.out, 'dashboard-failure.png')
    if os.path.exists(stale):
        os.remove(stale)
    test = Test(os.path.abspath(args.bin), os.path.abspath(args.out))
    failed = True
    try:
        test.run()
        failed = False
    except Failure as e:
        print('dashboard_test: FAILED:', e)
    finally:
        test.close(failed)
    if not failed:
        print('dashboard_test: passed; screenshots in', args.out)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
