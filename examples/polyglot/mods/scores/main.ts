// Scores: a modhost mod in TypeScript. modhost erases the types and runs the JavaScript left,
// keeping every line and column, so errors point here. `tsc -p .` type-checks it against
// `modhost.d.ts` (`modhost typings` writes it).

interface Score {
  player: string;
  points: number;
}

const given: Score[] = [];

export function onAttach(): void {
  give({ player: "ada", points: 30 });
  give({ player: "grace", points: 12 });
}

// Events are delivered once the call that emitted them returns, so by now the Rust mod has
// heard both scores.
export function onBootstrap(): void {
  const summary = modhost.mods.call("stats", "summary") as { count: number; total: number };
  modhost.log.info(`stats (Rust) counted ${summary.count} scores, ${summary.total} points`);
}

export function give(score: Score): number {
  given.push(score);
  modhost.events.emit("score", { points: score.points });
  return given.length;
}

export function add(a: number, b: number): number {
  return a + b;
}
