/**
 * `npm run sim:soak -- --minutes N [--from-seed S]`: seed after seed, log and store in turn,
 * faults and latent damage on, until the time is up. Stops at the first failure with its
 * reproduction (exit 1).
 */
import { parseArgs } from "node:util";
import { addCounts, emptyCounts, formatCounts } from "./checks.js";
import { type RunSpec, reproduction, runSeed, shrink } from "./run.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    "from-seed": { type: "string" },
  },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) {
  process.stderr.write(`--minutes must be a positive number, got ${values.minutes}\n`);
  process.exit(2);
}
// Past the seeds CI sweeps, unless asked otherwise.
let seed = values["from-seed"] === undefined ? 1_000_000 + Math.floor(Math.random() * 1e9) : Number(values["from-seed"]);
const endsAt = Date.now() + minutes * 60_000;
const total = emptyCounts(0);
let reportedAt = Date.now();
process.stdout.write(`soak: from seed ${seed} for ${minutes} min\n`);
while (Date.now() < endsAt) {
  for (const target of ["log", "store"] as const) {
    const spec: RunSpec = { target, seed, steps: 30, cycles: 8, faults: true, latent: true };
    try {
      addCounts(total, await runSeed(spec));
    } catch (error) {
      process.stdout.write(`FAILED (${target}, seed ${seed}): ${(error as Error).message}\n`);
      process.stdout.write(`shortest reproduction: ${reproduction(await shrink(spec))} --trace\n`);
      process.exit(1);
    }
  }
  seed++;
  if (Date.now() - reportedAt > 10_000) {
    reportedAt = Date.now();
    process.stdout.write(`  … seed ${seed}: ${total.crashes} power cuts, ${total.acknowledged} acknowledged writes\n`);
  }
}
process.stdout.write(`ok: ${formatCounts(total)}\n`);
