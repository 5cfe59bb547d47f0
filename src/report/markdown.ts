/**
 * Markdown for the writeup: markdown-it with KaTeX math ($...$ and $$...$$), ids on headings
 * (unique across the site, see IdRegistry), and links to other notebooks (x.ipynb) pointed at
 * their pages (x.html).
 */
import { isSafeInlineTag, sanitizeNotebookHtml } from './sanitize';
import MarkdownIt from 'markdown-it';
import katexPlugin from '@vscode/markdown-it-katex';
import type { IdRegistry } from './ids';

export interface Heading {
  level: number;
  text: string;
  id: string;
}

/** What one markdown render needs and collects: the id registry in, the headings out. */
// A type alias, not an interface: markdown-it's env parameter wants an index-signature-compatible type.
export type MarkdownEnv = {
  ids: IdRegistry;
  headings: Heading[];
};

export type Markdown = InstanceType<typeof MarkdownIt>;
type Token = MarkdownIt.Token;

export function createMarkdown(options: { trustHtml?: boolean } = {}): Markdown {
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });
  // throwOnError false: a bad formula shows as a red KaTeX error in the page instead of
  // stopping the build, so the author sees it in context.
  md.use(katexPlugin, { throwOnError: false, enableMathBlockInHtml: true, enableMathInlineInHtml: true });
  // A display formula wider than the page scrolls sideways: focusable, so the keyboard can scroll it.
  for (const rule of ['math_block', 'math_block_eqno']) {
    const render = md.renderer.rules[rule];
    if (render) md.renderer.rules[rule] = (...args) => render(...args).replace(/^<p class="katex-block"/, '<p class="katex-block" tabindex="0"');
  }
  md.core.ruler.push('heading_ids', (state) => {
    const env = state.env as Partial<MarkdownEnv>;
    if (!env.ids || !env.headings) return;
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i].type !== 'heading_open') continue;
      const text = plainText(tokens[i + 1]);
      const id = String(tokens[i].attrGet('id') ?? env.ids.unique(text));
      // (an id written in the markdown itself wins)
      tokens[i].attrSet('id', id);
      env.headings.push({ level: Number(tokens[i].tag.slice(1)), text, id });
    }
  });
  md.core.ruler.push('notebook_links', (state) => {
    for (const block of state.tokens) {
      for (const token of block.children ?? []) {
        if (token.type !== 'link_open') continue;
        const href = token.attrGet('href');
        if (href) token.attrSet('href', notebookLinkToPage(String(href)));
      }
    }
  });
  // Tables scroll sideways on narrow screens (theme.ts); focusable, so the keyboard can scroll them.
  md.core.ruler.push('scrollable_tables', (state) => {
    for (const token of state.tokens) if (token.type === 'table_open') token.attrSet('tabindex', '0');
  });
  if (!options.trustHtml) {
    // Raw HTML in markdown: blocks through the allow-list, inline tags only if plain formatting.
    const block = md.renderer.rules.html_block;
    md.renderer.rules.html_block = (tokens, idx, opts, env, self) => sanitizeNotebookHtml(block ? block(tokens, idx, opts, env, self) : tokens[idx].content);
    md.renderer.rules.html_inline = (tokens, idx) => (isSafeInlineTag(tokens[idx].content) ? tokens[idx].content : md.utils.escapeHtml(tokens[idx].content));
  }
  return md;
}

/** "other.ipynb#part" -> "other.html#part"; other links unchanged. */
export function notebookLinkToPage(href: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) return href;
  return href.replace(/^([^#?]*?)\.ipynb(?=$|[#?])/, '$1.html');
}

/** The visible text of an inline token (math keeps its TeX source). */
function plainText(inline: Token | undefined): string {
  if (!inline) return '';
  const children = inline.children ?? [];
  if (children.length === 0) return inline.content;
  return children.map((c: Token) => c.content).join('');
}
