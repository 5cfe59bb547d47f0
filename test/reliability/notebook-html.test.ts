// Notebook HTML (text/html outputs, raw HTML in markdown) went into the site verbatim and no page
// set a Content-Security-Policy. Now: an allow-list by default, a CSP on every page, and
// --trust-notebook-html for authors who want their HTML as written.
import assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { renderNotebook } from '../../src/report/render';
import { buildSite } from '../../src/report/site';
import { tempDir } from '../helpers';

const HOSTILE =
  '<p onclick="steal()">hi<script>alert(1)</script><img src="x.png" onerror="alert(2)" alt="x">' +
  '<a href="javascript:alert(3)">link</a><a href="page.html">ok</a><iframe src="http://evil.example/"></iframe>' +
  '<style>body{display:none}</style><b style="color:red">bold</b></p>';

const notebook = () => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: 'markdown',
      metadata: {},
      source: '# Page\n\n<div class="note"><script>alert(4)</script><em>kept</em></div>\n\nInline <b>bold</b> and <span onmouseover="alert(5)">span</span>.',
    },
    {
      cell_type: 'code',
      metadata: {},
      execution_count: 1,
      source: 'html()',
      outputs: [{ output_type: 'display_data', data: { 'text/html': HOSTILE }, metadata: {} }],
    },
  ],
});

describe('reliability: notebook HTML in the site', () => {
  it('goes through an allow-list by default: no scripts, handlers, frames, styles or javascript: links', async () => {
    const { html } = await renderNotebook(notebook() as never, { name: 'page' });
    for (const bad of ['<script', 'onclick=', 'onerror=', 'onmouseover="', 'javascript:', '<iframe', '<style', 'style="color']) {
      assert.ok(!html.includes(bad), `${bad} survived`);
    }
    for (const good of [
      'hi',
      '<img src="x.png" alt="x"',
      '<a href="page.html">ok</a>',
      '<b>bold</b>',
      '<div class="note"><em>kept</em></div>',
      'Inline <b>bold</b>',
      '&lt;span onmouseover',
    ]) {
      assert.ok(html.includes(good), `${good} was lost`);
    }
  });

  it('is kept as written with trustNotebookHtml', async () => {
    const { html } = await renderNotebook(notebook() as never, { name: 'page', trustNotebookHtml: true });
    assert.ok(html.includes('<script>alert(1)</script>'));
    assert.ok(html.includes('<span onmouseover="alert(5)">'));
  });

  it("every page carries a Content-Security-Policy allowing only the site's own scripts (inline ones only when trusted)", async () => {
    for (const trust of [false, true]) {
      const dir = path.join(tempDir('csp-'), 'site');
      await buildSite({
        outDir: dir,
        title: 'CSP',
        parts: [{ title: 'A', notebooks: ['page'] }],
        notebooks: [{ name: 'page', notebook: notebook() as never }],
        trustNotebookHtml: trust,
      });
      for (const page of ['index.html', 'page.html', 'print.html']) {
        const text = fs.readFileSync(path.join(dir, page), 'utf8');
        const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(text);
        assert.ok(m, `${page} has no CSP`);
        const csp = m[1].replace(/&#39;/g, "'");
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /object-src 'none'/);
        assert.equal(/script-src 'self' 'unsafe-inline'/.test(csp), trust, `${page}: ${csp}`);
      }
    }
  });
});
