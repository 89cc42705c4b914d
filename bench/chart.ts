// An SVG bar chart of a benchmark run, made from its results by the
// benchmark itself: one panel per scenario, one horizontal bar per
// contender on a shared log scale, coloured by group (bare Hono, floors,
// ours, peers).

interface Row {
  name: string;
  group: "bare" | "floor" | "ours" | "peer";
  /** µs per request, one per scenario; undefined where it does not apply. */
  values: (number | undefined)[];
}

const COLOURS = {
  bare: "#9e9e9e",
  floor: "#4c8bf5",
  ours: "#1b9e3e",
  peer: "#e8710a",
};

function escape(text: string): string {
  return text.replace(/[<>&"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The chart as SVG text. */
export function barChart(input: {
  title: string;
  subtitle: string;
  scenarios: string[];
  rows: Row[];
}): string {
  const { scenarios, rows } = input;
  const label = 230, panel = 250, gap = 24, bar = 12, pad = 4;
  const top = 64;
  const height = top + rows.length * (bar + pad) + 40;
  const width = label + scenarios.length * (panel + gap) + 10;
  const all = rows.flatMap((r) => r.values).filter((v): v is number =>
    v !== undefined && v > 0
  );
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all))));
  const x = (us: number) =>
    (Math.log10(us / lo) / Math.log10(hi / lo)) * (panel - 50);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${
      escape(input.title)
    }</text>`,
    `<text x="10" y="34" fill="#555">${escape(input.subtitle)}</text>`,
  ];
  let lx = label;
  for (const [group, colour] of Object.entries(COLOURS)) {
    parts.push(
      `<rect x="${lx}" y="${
        top - 26
      }" width="10" height="10" fill="${colour}"/>`,
      `<text x="${lx + 14}" y="${top - 17}">${group}</text>`,
    );
    lx += 70;
  }
  rows.forEach((row, i) => {
    const y = top + i * (bar + pad);
    parts.push(
      `<text x="${label - 6}" y="${y + bar - 2}" text-anchor="end">${
        escape(row.name)
      }</text>`,
    );
  });
  scenarios.forEach((scenario, j) => {
    const x0 = label + j * (panel + gap);
    parts.push(
      `<text x="${x0}" y="${top - 4}" font-weight="bold">${
        escape(scenario)
      }</text>`,
    );
    for (let tick = lo; tick <= hi; tick *= 10) {
      const tx = x0 + x(tick);
      parts.push(
        `<line x1="${tx}" y1="${top}" x2="${tx}" y2="${
          top + rows.length * (bar + pad)
        }" stroke="#ddd"/>`,
        `<text x="${tx}" y="${
          top + rows.length * (bar + pad) + 14
        }" text-anchor="middle" fill="#555">${tick}</text>`,
      );
    }
    rows.forEach((row, i) => {
      const us = row.values[j];
      if (us === undefined) return;
      const y = top + i * (bar + pad);
      const w = Math.max(1, x(us));
      parts.push(
        `<rect x="${x0}" y="${y}" width="${
          w.toFixed(1)
        }" height="${bar}" fill="${COLOURS[row.group]}"/>`,
        `<text x="${x0 + w + 3}" y="${y + bar - 2}" fill="#333">${
          us < 10 ? us.toFixed(1) : us.toFixed(0)
        }</text>`,
      );
    });
  });
  parts.push(
    `<text x="${label}" y="${
      height - 8
    }" fill="#555">µs per request (log scale)</text>`,
    "</svg>",
  );
  return parts.join("\n") + "\n";
}
