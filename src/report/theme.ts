/**
 * The site's shared stylesheet and script, written as assets/style.css and assets/site.js.
 * No web fonts beyond KaTeX's, no external requests.
 */

export const SITE_CSS = `/* Light theme by default; dark when the system asks for it, unless the reader picked one. */
:root {
  --bg: #ffffff; --fg: #1d1f23; --muted: #5b616b; --line: #d9dce1; --accent: #1f5fbf;
  --code-bg: #f4f5f7; --panel: #fafbfc; --error-bg: #fdecec; --error-fg: #8a1010; --figure-bg: #ffffff;
  color-scheme: light;
}
@media (prefers-color-scheme: dark) {
  :root:not([data-theme="light"]) {
    --bg: #15171b; --fg: #e3e5e8; --muted: #9aa1ab; --line: #30343b; --accent: #7fb0ff;
    --code-bg: #1f2228; --panel: #1a1d22; --error-bg: #3a1717; --error-fg: #ffb4b4; --figure-bg: #ffffff;
    color-scheme: dark;
  }
}
:root[data-theme="dark"] {
  --bg: #15171b; --fg: #e3e5e8; --muted: #9aa1ab; --line: #30343b; --accent: #7fb0ff;
  --code-bg: #1f2228; --panel: #1a1d22; --error-bg: #3a1717; --error-fg: #ffb4b4; --figure-bg: #ffffff;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 17px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); }
.site-header {
  display: flex; align-items: center; gap: 1rem; flex-wrap: wrap;
  padding: 0.6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel);
}
.site-header .site-title { font-weight: 600; text-decoration: none; color: var(--fg); }
.site-header nav { margin-left: auto; display: flex; gap: 1rem; flex-wrap: wrap; }
.theme-toggle {
  font: inherit; color: var(--fg); background: transparent; border: 1px solid var(--line);
  border-radius: 6px; padding: 0.15rem 0.6rem; cursor: pointer;
}
main { max-width: 52rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
h1, h2, h3, h4 { line-height: 1.25; }
h1 { font-size: 2rem; }
h2 { margin-top: 2.2rem; padding-bottom: 0.2rem; border-bottom: 1px solid var(--line); }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85em; }
pre { background: var(--code-bg); padding: 0.7rem 0.9rem; overflow-x: auto; border-radius: 6px; }
:not(pre) > code { background: var(--code-bg); padding: 0.1em 0.3em; border-radius: 4px; }
.cell { margin: 1rem 0; }
details.code > summary, details.stream-long > summary { cursor: pointer; color: var(--muted); font-size: 0.9rem; }
details.code > pre { margin-top: 0.4rem; }
pre.stream.stderr { border-left: 3px solid #c98a00; }
.error-output { background: var(--error-bg); color: var(--error-fg); border-left: 4px solid #d02020; padding: 0.5rem 0.9rem; border-radius: 6px; }
.error-output pre { background: transparent; color: inherit; padding: 0; }
figure { margin: 1.2rem 0; text-align: center; }
figcaption { color: var(--muted); font-size: 0.95rem; margin-top: 0.4rem; }
.figure-number { font-weight: 600; color: var(--fg); margin-right: 0.25em; }
.output-image, .output-chart { margin: 1rem 0; text-align: center; }
img { max-width: 100%; height: auto; background: var(--figure-bg); }
/* Generated images are small pixel grids: scale them without blurring. */
img.pixelated { image-rendering: pixelated; }
.chart { display: inline-block; max-width: 100%; background: var(--figure-bg); border-radius: 4px; }
.chart svg { display: block; max-width: 100%; height: auto; }
/* A picture wider than the text column uses the window's width (centred on the column) rather
   than being shrunk; inside a row of pictures it stays in the row. */
.output-wide { width: min(var(--wide), calc(100vw - 2rem)); max-width: none; position: relative; left: 50%; transform: translateX(-50%); }
.output-grid .output-wide { width: auto; max-width: 100%; left: auto; transform: none; }
/* Pictures of one cell side by side only where they fit at their own size (never shrunk to
   columns, which made their labels unreadable); a caption is as wide as its picture. */
.output-grid { display: flex; flex-wrap: wrap; justify-content: center; align-items: flex-start; gap: 0.8rem 1.2rem; }
.output-grid figure, .output-grid .output-image { margin: 0; flex: 0 1 auto; max-width: 100%; }
.output-grid figure { display: table; }
.output-grid figcaption { display: table-caption; caption-side: bottom; }
.katex-display, .katex-block { overflow-x: auto; overflow-y: hidden; }
/* In a block formula the (focusable) paragraph scrolls, not the formula inside it. */
.katex-block > .katex-display { overflow: visible; }
.katex-error { color: #d02020; }
.toc ol { padding-left: 1.2rem; }
.toc > li { margin-bottom: 0.6rem; }
.part { margin-top: 2rem; }
.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 3rem; border-top: 1px solid var(--line); padding-top: 1rem; }
.site-footer { color: var(--muted); font-size: 0.85rem; text-align: center; padding: 1rem; }
/* Click-to-enlarge: site.js opens this overlay; without scripts the link opens the image file. */
.lightbox {
  position: fixed; inset: 0; display: flex; align-items: center; justify-content: center;
  background: rgba(0, 0, 0, 0.85); z-index: 10; padding: 1rem; cursor: zoom-out;
}
.lightbox[hidden] { display: none; }
.lightbox img { max-width: 100%; max-height: 100%; width: auto; height: auto; min-width: min(90vw, 90vh); object-fit: contain; }
a.zoom { cursor: zoom-in; display: inline-block; max-width: 100%; }
@media (max-width: 600px) {
  body { font-size: 16px; }
  h1 { font-size: 1.6rem; }
  main { padding: 0.75rem 0.75rem 2rem; }
  /* A picture wider than the phone keeps its own size (its labels stay legible) and scrolls sideways. */
  main table { display: block; max-width: 100%; overflow-x: auto; }
  .output-grid > * { min-width: 0; }
  .output-grid figure, .output-grid figcaption { display: block; }
  a.zoom:has(> img.pixelated) { display: block; overflow-x: auto; max-width: 100%; }
  a.zoom > img.pixelated { max-width: none; width: auto; height: auto; }
}
@media print {
  .site-header nav, .theme-toggle, .pager, .lightbox { display: none !important; }
  body { background: #fff; color: #000; }
  .print-page { break-before: page; }
  figure, .output-grid, pre { break-inside: avoid; }
  .output-wide { width: auto; max-width: 100%; left: auto; transform: none; }
  a { color: inherit; text-decoration: none; }
}
/* Live demos (try.html) and the links to them. */
.try-it { background: var(--panel); border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px; padding: 0.3rem 0.9rem; margin: 1rem 0; }
.try-it p { margin: 0.3rem 0; }
.demo { margin: 2rem 0; }
.demo-body { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }
.demo-form { flex: 1 1 16rem; min-width: 0; }
.demo-output { flex: 1 1 16rem; min-width: 0; }
.demo-field { display: flex; flex-wrap: wrap; align-items: center; gap: 0.3rem 0.6rem; margin: 0.45rem 0; }
.demo-field label { flex: 0 0 100%; font-size: 0.9rem; color: var(--muted); }
.demo-field input[type="text"], .demo-field select { flex: 1 1 12rem; min-width: 0; font: inherit; padding: 0.25rem 0.4rem; }
.demo-field input[type="range"] { flex: 1 1 10rem; }
.demo-field input[type="number"] { width: 9rem; font: inherit; padding: 0.2rem 0.4rem; }
.demo-buttons { display: flex; gap: 0.6rem; flex-wrap: wrap; margin: 0.6rem 0; }
.demo button, .demo-output > button { font: inherit; padding: 0.35rem 0.9rem; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); cursor: pointer; }
.demo button.demo-run { background: var(--accent); color: #fff; border-color: var(--accent); }
.demo button:disabled { opacity: 0.5; cursor: default; }
.demo button:focus-visible, .demo input:focus-visible, .demo select:focus-visible, .demo-pad:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.demo-pad { width: 100%; max-width: 256px; aspect-ratio: 1; touch-action: none; border: 1px solid var(--line); border-radius: 4px; cursor: crosshair; display: block; }
.demo-stack { position: relative; width: 100%; max-width: 256px; aspect-ratio: 1; }
.demo-stack .demo-pad { position: absolute; inset: 0; }
.demo-live, .demo-result { width: 100%; max-width: 192px; aspect-ratio: 1; image-rendering: pixelated; background: var(--figure-bg); border: 1px solid var(--line); display: block; }
.demo-output progress { display: block; width: 100%; max-width: 192px; margin: 0.4rem 0; }
.demo-status { font-size: 0.9rem; color: var(--muted); min-height: 1.5em; }
.demo-results { display: flex; flex-wrap: wrap; gap: 0.8rem; }
.demo-results figure { margin: 0.4rem 0; flex: 0 1 192px; }
.demo-backend { font-size: 0.9rem; color: var(--muted); }
`;

export const SITE_JS = `// Theme toggle (remembered per browser) and a click-to-enlarge view for figures.
(function () {
  var root = document.documentElement;
  function stored() { try { return localStorage.getItem('theme'); } catch (e) { return null; } }
  function store(value) { try { localStorage.setItem('theme', value); } catch (e) { /* file:// may forbid storage */ } }
  var saved = stored();
  if (saved === 'light' || saved === 'dark') root.setAttribute('data-theme', saved);

  function currentTheme() {
    var set = root.getAttribute('data-theme');
    if (set) return set;
    return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  document.addEventListener('DOMContentLoaded', function () {
    var toggle = document.querySelector('.theme-toggle');
    if (toggle) {
      toggle.addEventListener('click', function () {
        var next = currentTheme() === 'dark' ? 'light' : 'dark';
        root.setAttribute('data-theme', next);
        store(next);
      });
    }

    var box = document.createElement('div');
    box.className = 'lightbox';
    box.hidden = true;
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-label', 'Enlarged figure');
    var big = document.createElement('img');
    big.className = 'pixelated';
    big.alt = '';
    box.appendChild(big);
    document.body.appendChild(box);
    function close() { box.hidden = true; big.removeAttribute('src'); }
    box.addEventListener('click', close);
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') close(); });
    document.querySelectorAll('a.zoom').forEach(function (link) {
      link.addEventListener('click', function (e) {
        if (e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        var img = link.querySelector('img');
        big.src = link.getAttribute('href');
        big.alt = img ? img.alt : '';
        box.hidden = false;
      });
    });
  });
})();
`;

/** The site's icon: a noisy square turning into a clean one (also keeps browsers from asking for /favicon.ico). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fbf"/><circle cx="8" cy="8" r="4" fill="#fff"/></svg>
`;
