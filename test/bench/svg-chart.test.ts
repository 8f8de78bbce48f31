import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type BarChart, barChartSvg, niceScale, wrapText, writeBarChart } from "../../bench/support/svg-chart.js";

const CHART: BarChart = {
  title: "bench:log <logbook & peers>",
  valueLabel: "records/s ÷ ceiling",
  groupLabel: "concurrent writers",
  referenceLabel: "disk ceiling, same run",
  bars: [
    { group: "c=1", series: "logbook", value: 0.63 },
    { group: "c=1", series: "growing", value: 0.56, range: [0.5, 0.61] },
    { group: "c=256", series: "logbook", value: 2.25 },
    { group: "c=256", series: "growing", value: Number.NaN },
  ],
  caption: ["2026-01-01 00:00 UTC · node bench/log.ts --seconds 3", "node v20, linux, 2 × cpu, 24 GiB"],
};

/** Every element opened is closed, in order: enough XML to tell a broken writer. */
function assertBalanced(svg: string): void {
  const open: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing === "/") continue;
    if (closing === "/") assert.equal(open.pop(), name, `</${name}> closes the element last opened`);
    else open.push(name as string);
  }
  assert.deepEqual(open, [], "every element is closed");
}

for (const orientation of ["vertical", "horizontal"] as const) {
  test(`a ${orientation} chart is one balanced <svg> element with a white background, its labels and its values`, () => {
    const svg = barChartSvg({ ...CHART, orientation });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assertBalanced(svg);
    assert.match(svg, /<rect x="0" y="0" width="\d+" height="\d+" fill="#ffffff"\/>/);
    for (const label of [
      "c=1",
      "c=256",
      "logbook",
      "growing",
      "records/s ÷ ceiling",
      "concurrent writers",
      "1.0 = disk ceiling, same run",
    ]) {
      assert.ok(svg.includes(label), `the chart shows ${label}`);
    }
    for (const value of ["0.63", "0.56", "2.25", "n/a"]) assert.ok(svg.includes(`>${value}<`), `the chart shows ${value}`);
    assert.ok(svg.includes("node bench/log.ts --seconds 3"), "the caption names the command");
    assert.ok(svg.includes("bench:log &lt;logbook &amp; peers&gt;"), "text is escaped");
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  });
}

test("a chart without figures is still a valid chart", () => {
  const svg = barChartSvg({ ...CHART, bars: [] });
  assertBalanced(svg);
  assert.match(svg, /no figures/);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
});

test("the value axis reaches past the largest value and past 1.0 in at most 8 even steps", () => {
  for (const largest of [0.2, 1, 1.04, 2.25, 7.3, 48]) {
    const { max, step } = niceScale(largest);
    assert.ok(max >= largest && max >= 1, `${max} covers ${largest}`);
    assert.ok(max / step <= 8 + 1e-9, `${max / step} steps`);
  }
});

test("a caption wraps at word boundaries", () => {
  assert.deepEqual(wrapText("node bench/log.ts --seconds 3 --json-only", 20), [
    "node bench/log.ts",
    "--seconds 3",
    "--json-only",
  ]);
});

test("writeBarChart makes the directory and writes the chart", () => {
  const dir = mkdtempSync(join(tmpdir(), "svg-chart-"));
  try {
    const path = join(dir, "docs", "bench", "log.svg");
    writeBarChart(path, CHART);
    assert.equal(readFileSync(path, "utf8"), barChartSvg(CHART));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
