/** Text for the page (pure): HTML escaping and number formats. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const int = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
