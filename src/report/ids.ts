/**
 * Element ids for the site. Every page's fragment also goes into print.html, so ids are unique
 * across the whole site, not only within one page: one registry is shared by all renders of a build.
 */
export class IdRegistry {
  private readonly used = new Set<string>();

  /** Claims `base` (slugified), or `base-2`, `base-3`, ... when it is taken. */
  unique(text: string): string {
    const base = slugify(text) || 'section';
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }

  /** Claims exactly `id`; false when it is already taken. */
  claim(id: string): boolean {
    if (this.used.has(id)) return false;
    this.used.add(id);
    return true;
  }
}

/** Lower-case words joined by dashes: "1.2 Using the UNet!" -> "1-2-using-the-unet". */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
