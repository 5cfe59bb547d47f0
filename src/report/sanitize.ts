/**
 * Notebook HTML goes into the site through an allow-list (sanitize-html): `text/html` outputs and
 * raw HTML blocks in markdown keep structure, text formatting, tables, links and images, and lose
 * scripts, event handlers, styles, frames, forms and javascript: URLs. Raw inline tags in markdown
 * keep only a few formatting tags without attributes; anything else is shown as text. Authors who
 * want their HTML as written build with `--trust-notebook-html`.
 */
import sanitizeHtml from 'sanitize-html';

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    ...sanitizeHtml.defaults.allowedTags,
    'img',
    'figure',
    'figcaption',
    'details',
    'summary',
    'picture',
    'source',
    'del',
    'ins',
    'mark',
    'small',
    'sub',
    'sup',
    'kbd',
    'var',
    'samp',
  ],
  allowedAttributes: {
    '*': ['class', 'id', 'title', 'lang', 'dir', 'role', 'aria-label', 'aria-hidden'],
    a: ['href', 'name', 'rel'],
    img: ['src', 'srcset', 'alt', 'width', 'height', 'loading'],
    source: ['srcset', 'type', 'media'],
    td: ['colspan', 'rowspan', 'align'],
    th: ['colspan', 'rowspan', 'align', 'scope'],
    ol: ['start', 'type'],
    details: ['open'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https', 'data'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
};

/** An HTML fragment through the allow-list. */
export function sanitizeNotebookHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}

/** Inline tags markdown may carry as raw HTML: formatting only, no attributes. */
const SAFE_INLINE_TAG = /^<\/?(b|i|em|strong|u|s|sub|sup|small|mark|kbd|code|br|wbr)\s*\/?>$/i;

export function isSafeInlineTag(tag: string): boolean {
  return SAFE_INLINE_TAG.test(tag.trim());
}
