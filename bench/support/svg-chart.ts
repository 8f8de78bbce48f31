/**
 * A dependency-free SVG writer for the benches' comparisons: grouped bars of ratios against a
 * baseline measured in the same run, a dashed reference line at 1.0 (the baseline itself),
 * the value on each bar, an optional whisker for the spread of the rounds behind a median, a
 * legend, and caption lines naming the date, the command and the machine.
 *
 * The background is painted white and every colour is explicit, so a chart reads the same on
 * GitHub's light and dark themes. SVG cannot measure text: widths are estimated from the
 * number of characters (CHAR_PX), generously, and the chart grows to fit its labels.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface Bar {
  /** Where the bar sits on the category axis (one group per concurrency, say). */
  group: string;
  /** Which bar of its group; each series has a colour and a legend entry. */
  series: string;
  /** The ratio. A value that is not a finite number is drawn as "n/a". */
  value: number;
  /** The spread of the rounds behind a median (lowest to highest, or the middle half), drawn as a whisker. */
  range?: readonly [number, number];
}

export interface BarChart {
  title: string;
  /** What the ratio is: the label of the value axis. */
  valueLabel: string;
  /** What the groups are: the label of the category axis. */
  groupLabel: string;
  /** What 1.0 stands for, in the legend beside the dashed line. */
  referenceLabel: string;
  bars: readonly Bar[];
  /** Lines under the chart: the date, the command, the machine. */
  caption: readonly string[];
  /** Vertical bars by default; horizontal suits many groups or long group names. */
  orientation?: "vertical" | "horizontal";
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const TEXT_COLOR = "#1f2328";
const MUTED_COLOR = "#57606a";
const GRID_COLOR = "#d0d7de";
/** Okabe and Ito's colours, told apart with every common kind of colour blindness. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999", "#000000"];
/** A value drawn over a gridline or the reference line keeps a white halo, so it stays legible. */
const VALUE_TEXT = `fill="${TEXT_COLOR}" font-size="10" stroke="#ffffff" stroke-width="3" paint-order="stroke"`;
const FONT_PX = 12;
const CHAR_PX = 7;
const TITLE_PX = 16;
const CAPTION_PX = 11;
const CAPTION_LINE_PX = 15;
const LEGEND_ROW_PX = 18;
const MARGIN_PX = 16;
const BAR_PX = { vertical: 28, horizontal: 16 };
const GROUP_GAP_PX = { vertical: 28, horizontal: 14 };
const VERTICAL_PLOT_PX = 260;
const MAX_TICKS = 8;

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The plot area and how a (category offset in px, value) pair maps to a point. */
interface Frame {
  plot: Rect;
  horizontal: boolean;
  scaleMax: number;
  /** Length of the category axis, in px. */
  categoryPx: number;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** Two decimals below 10, one above: what a ratio needs. */
export function formatRatio(value: number): string {
  return Math.abs(value) < 10 ? value.toFixed(2) : value.toFixed(1);
}

const px = (value: number) => String(Math.round(value * 10) / 10);
const distinct = (list: readonly string[]) => [...new Set(list)];
const isNumber = (value: number | undefined): value is number => typeof value === "number" && Number.isFinite(value);

/** The axis' top and tick step: at most MAX_TICKS steps of 1, 2, 2.5 or 5 times a power of ten. */
export function niceScale(largest: number): { max: number; step: number } {
  const top = Math.max(largest * 1.1, 1.15);
  for (let exponent = Math.floor(Math.log10(top / MAX_TICKS)); ; exponent++) {
    for (const mantissa of [1, 2, 2.5, 5]) {
      const step = mantissa * 10 ** exponent;
      if (top / step <= MAX_TICKS) return { max: Math.ceil(top / step - 1e-9) * step, step };
    }
  }
}

/** Words packed into lines of at most `chars` characters (a longer word gets a line of its own). */
export function wrapText(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A point of the plot: `offset` px along the category axis, `value` along the value axis. */
function at(frame: Frame, offset: number, value: number): [number, number] {
  const { plot } = frame;
  const share = Math.max(0, Math.min(value, frame.scaleMax)) / frame.scaleMax;
  if (frame.horizontal) return [plot.left + share * plot.width, plot.top + offset];
  return [plot.left + offset, plot.top + plot.height - share * plot.height];
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${px(x)}" y="${px(y)}"${attributes ? ` ${attributes}` : ""}>${escapeXml(content)}</text>`;
}

function line(from: [number, number], to: [number, number], attributes: string): string {
  return `<line x1="${px(from[0])}" y1="${px(from[1])}" x2="${px(to[0])}" y2="${px(to[1])}" ${attributes}/>`;
}

/** The legend in rows that fit `width`: a swatch per series, then the dashed reference line. */
function legend(series: readonly string[], referenceLabel: string, left: number, top: number, width: number) {
  const items = [...series.map((name, i) => ({ name, color: PALETTE[i % PALETTE.length] as string })), undefined];
  const parts: string[] = [];
  let [x, y] = [left, top];
  for (const item of items) {
    const label = item === undefined ? `1.0 = ${referenceLabel}` : item.name;
    const itemPx = 22 + label.length * CHAR_PX + 16;
    if (x > left && x + itemPx > left + width) [x, y] = [left, y + LEGEND_ROW_PX];
    if (item === undefined)
      parts.push(line([x, y + 6], [x + 16, y + 6], `stroke="${TEXT_COLOR}" stroke-width="1.5" stroke-dasharray="4 3"`));
    else parts.push(`<rect x="${px(x)}" y="${px(y)}" width="16" height="12" fill="${item.color}"/>`);
    parts.push(text(x + 22, y + 10, label, `fill="${TEXT_COLOR}"`));
    x += itemPx;
  }
  return { svg: parts.join("\n"), bottom: y + LEGEND_ROW_PX };
}

/** Gridlines and tick labels along the value axis. */
function valueAxis(frame: Frame, step: number): string {
  const parts: string[] = [];
  for (let i = 0; i * step <= frame.scaleMax + 1e-9; i++) {
    const value = i * step;
    const from = at(frame, 0, value);
    const to = at(frame, frame.categoryPx, value);
    parts.push(line(from, to, `stroke="${GRID_COLOR}" stroke-width="1"`));
    const label = Number(value.toFixed(6)).toString();
    parts.push(
      frame.horizontal
        ? text(from[0], frame.plot.top + frame.plot.height + 16, label, `fill="${MUTED_COLOR}" text-anchor="middle"`)
        : text(from[0] - 6, from[1] + 4, label, `fill="${MUTED_COLOR}" text-anchor="end"`),
    );
  }
  return parts.join("\n");
}

/** One bar with its whisker and value, `offset` px along the category axis, `size` px thick. */
function bar(frame: Frame, item: Bar, offset: number, size: number, color: string): string {
  const center = offset + size / 2;
  if (!isNumber(item.value)) {
    const [x, y] = at(frame, center, 0);
    return text(
      frame.horizontal ? x + 4 : x,
      frame.horizontal ? y + 4 : y - 4,
      "n/a",
      `fill="${MUTED_COLOR}" font-size="10"${frame.horizontal ? "" : ' text-anchor="middle"'}`,
    );
  }
  const [a, b] = [at(frame, offset, 0), at(frame, offset + size, item.value)];
  const parts = [
    `<rect x="${px(Math.min(a[0], b[0]))}" y="${px(Math.min(a[1], b[1]))}" width="${px(Math.abs(b[0] - a[0]))}" height="${px(Math.abs(b[1] - a[1]))}" fill="${color}"><title>${escapeXml(`${item.series}, ${item.group}: ${formatRatio(item.value)}`)}</title></rect>`,
  ];
  let end = item.value;
  const range = item.range;
  if (range !== undefined && isNumber(range[0]) && isNumber(range[1])) {
    const whisker = `stroke="${TEXT_COLOR}" stroke-width="1"`;
    parts.push(line(at(frame, center, range[0]), at(frame, center, range[1]), whisker));
    for (const cap of range) parts.push(line(at(frame, center - 3, cap), at(frame, center + 3, cap), whisker));
    end = Math.max(end, range[1]);
  }
  const [x, y] = at(frame, center, end);
  const label = formatRatio(item.value);
  parts.push(
    frame.horizontal ? text(x + 4, y + 4, label, `${VALUE_TEXT}`) : text(x, y - 4, label, `${VALUE_TEXT} text-anchor="middle"`),
  );
  return parts.join("\n");
}

/** Every group's bars and its name on the category axis. */
function groupsSvg(frame: Frame, chart: BarChart, groups: readonly string[], series: readonly string[]): string {
  const orientation = frame.horizontal ? "horizontal" : "vertical";
  const groupPx = frame.categoryPx / Math.max(1, groups.length);
  const barPx = Math.min(BAR_PX[orientation], (groupPx - GROUP_GAP_PX[orientation]) / Math.max(1, series.length));
  const parts: string[] = [];
  for (const [g, group] of groups.entries()) {
    const first = g * groupPx + (groupPx - barPx * series.length) / 2;
    for (const [s, name] of series.entries()) {
      const item = chart.bars.find((b) => b.group === group && b.series === name);
      if (item !== undefined) parts.push(bar(frame, item, first + s * barPx, barPx, PALETTE[s % PALETTE.length] as string));
    }
    const [x, y] = at(frame, g * groupPx + groupPx / 2, 0);
    parts.push(
      frame.horizontal
        ? text(x - 8, y + 4, group, `fill="${TEXT_COLOR}" text-anchor="end"`)
        : text(x, y + 16, group, `fill="${TEXT_COLOR}" text-anchor="middle"`),
    );
  }
  return parts.join("\n");
}

/**
 * The axes' labels. Vertical: the value label turned beside the axis, the group label under the
 * groups. Horizontal: the value label under the ticks, the group label as the heading of the
 * column of group names (turned, it could be longer than the plot is high).
 */
function axisLabels(frame: Frame, chart: BarChart): string {
  const { plot } = frame;
  const below = (content: string) =>
    text(plot.left + plot.width / 2, plot.top + plot.height + 36, content, `fill="${TEXT_COLOR}" text-anchor="middle"`);
  const beside = (content: string) =>
    `<text transform="translate(${MARGIN_PX + 4} ${px(plot.top + plot.height / 2)}) rotate(-90)" fill="${TEXT_COLOR}" ` +
    `text-anchor="middle">${escapeXml(content)}</text>`;
  if (!frame.horizontal) return `${beside(chart.valueLabel)}\n${below(chart.groupLabel)}`;
  const heading = text(MARGIN_PX, plot.top - 8, chart.groupLabel, `fill="${TEXT_COLOR}" font-weight="600"`);
  return `${below(chart.valueLabel)}\n${heading}`;
}

/** Where everything goes: the chart grows to fit its groups, its labels and its caption. */
function layout(chart: BarChart, groups: readonly string[], series: readonly string[]) {
  const horizontal = chart.orientation === "horizontal";
  const values = chart.bars.flatMap((b) => [b.value, ...(b.range ?? [])]).filter(isNumber);
  const scale = niceScale(Math.max(1, ...values));
  const groupPx = (orientation: "vertical" | "horizontal") =>
    Math.max(1, series.length) * BAR_PX[orientation] + GROUP_GAP_PX[orientation];
  const groupCount = Math.max(1, groups.length);
  const longestGroup = Math.max(0, ...groups.map((g) => g.length)) * CHAR_PX;
  const left = horizontal ? MARGIN_PX + longestGroup + 8 : MARGIN_PX + 56;
  const least = Math.max(640, Math.ceil(chart.title.length * TITLE_PX * 0.6) + 2 * MARGIN_PX);
  const width = horizontal
    ? Math.max(least, left + 480 + 56)
    : Math.max(least, left + groupCount * Math.max(groupPx("vertical"), longestGroup + 12) + MARGIN_PX);
  const plotWidth = horizontal ? width - left - 56 : width - left - MARGIN_PX;
  const categoryPx = horizontal ? groupCount * groupPx("horizontal") : plotWidth;
  const titleY = MARGIN_PX + TITLE_PX;
  const key = legend(series, chart.referenceLabel, MARGIN_PX, titleY + 14, width - 2 * MARGIN_PX);
  const top = key.bottom + (horizontal ? 24 : 22);
  const plotHeight = horizontal ? categoryPx : Math.max(VERTICAL_PLOT_PX, chart.valueLabel.length * CHAR_PX);
  const frame: Frame = { plot: { left, top, width: plotWidth, height: plotHeight }, horizontal, scaleMax: scale.max, categoryPx };
  const captionChars = Math.floor((width - 2 * MARGIN_PX) / (CAPTION_PX * 0.55));
  const captionLines = chart.caption.flatMap((l) => wrapText(l, captionChars));
  const captionTop = top + plotHeight + 58;
  const height = captionTop + captionLines.length * CAPTION_LINE_PX + MARGIN_PX;
  return { frame, step: scale.step, width, height, titleY, legendSvg: key.svg, captionLines, captionTop };
}

/** The SVG text of a chart: a pure function of its input. */
export function barChartSvg(chart: BarChart): string {
  const groups = distinct(chart.bars.map((b) => b.group));
  const series = distinct(chart.bars.map((b) => b.series));
  const { frame, step, width, height, titleY, legendSvg, captionLines, captionTop } = layout(chart, groups, series);
  const { plot, categoryPx } = frame;
  const body = [
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    text(MARGIN_PX, titleY, chart.title, `fill="${TEXT_COLOR}" font-size="${TITLE_PX}" font-weight="600"`),
    legendSvg,
    valueAxis(frame, step),
    groups.length === 0
      ? text(plot.left + plot.width / 2, plot.top + 40, "no figures", `fill="${MUTED_COLOR}" text-anchor="middle"`)
      : "",
    groupsSvg(frame, chart, groups, series),
    line(at(frame, 0, 0), at(frame, categoryPx, 0), `stroke="${TEXT_COLOR}" stroke-width="1"`),
    line(at(frame, 0, 1), at(frame, categoryPx, 1), `stroke="${TEXT_COLOR}" stroke-width="1.5" stroke-dasharray="4 3"`),
    axisLabels(frame, chart),
    ...captionLines.map((l, i) =>
      text(MARGIN_PX, captionTop + i * CAPTION_LINE_PX, l, `fill="${MUTED_COLOR}" font-size="${CAPTION_PX}"`),
    ),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT)}" font-size="${FONT_PX}" role="img">`,
    `<title>${escapeXml(chart.title)}</title>`,
    ...body.filter((part) => part !== ""),
    "</svg>",
    "",
  ].join("\n");
}

/** Writes a chart to `path`, making its directory. */
export function writeBarChart(path: string, chart: BarChart): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, barChartSvg(chart));
}
