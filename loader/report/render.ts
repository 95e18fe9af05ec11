/**
 * A vega-lite spec drawn as an SVG string, in Node: compiled to vega, run headless (renderer 'none':
 * no canvas, no DOM, no network; text widths are estimated) and serialised by vega's SVG renderer.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
