import { distance } from 'fastest-levenshtein';

/**
 * The ids closest to a misspelt one, closest first: edit distance over the whole id and over the
 * name after the owner (so `sqaud` finds `rajpurkar/squad`), within a third of the name's length.
 */
export function closeDatasetIds(id: string, known: Iterable<string>, limit = 3): string[] {
  const wanted = id.toLowerCase();
  const wantedName = wanted.split('/').pop()!;
  const bound = Math.max(2, Math.floor(wantedName.length / 3));
  const scored: Array<{ id: string; score: number }> = [];
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    if (lower === wanted) continue;
    const score = Math.min(distance(wanted, lower), distance(wantedName, lower.split('/').pop()!));
    if (score <= bound) scored.push({ id: candidate, score });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.id.length - b.id.length || a.id.localeCompare(b.id))
    .slice(0, limit)
    .map((entry) => entry.id);
}
